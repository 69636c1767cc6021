import XCTest

/// `strata ingest` on real document formats as a user runs it: citations that name the page,
/// truthful exit codes, converters that are missing, and `data import` of an Excel sheet.
final class FormatsCLITests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }
    static let fixtures = StrataBinary.root.appendingPathComponent("Tests/KnowledgeTests/Fixtures/formats")

    override func setUpWithError() throws { dir = try StrataBinary.temporaryFolder("strata-formats") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func copy(_ names: [String], to folder: String = "docs") throws {
        let d = dir.appendingPathComponent(folder)
        try FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
        for n in names { try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent(n), to: d.appendingPathComponent(n)) }
    }

    func strata(_ args: [String], env: [String: String] = [:]) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, cwd: dir, env: env)
    }

    func testMixedFolderIngestsAndSearchCitesPageSlideAndSheet() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/pdftotext") else { throw XCTSkip("pdftotext missing — apt-get install poppler-utils") }
        try copy(["report.pdf", "handbook.docx", "fees.xlsx", "deck.pptx", "notice-gbk.eml", "notice-gbk.txt"])
        let r = try strata(["ingest", "docs"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("ingested 7 files, "), r.stdout)
        XCTAssertTrue(r.stdout.contains("by type: csv 1, docx 1, eml 1, pdf 1, pptx 1, txt 1, xlsx 1"), r.stdout)
        let pdf = try strata(["search", "capital adequacy ratio Tier", "--k", "1"])
        XCTAssertTrue(pdf.stdout.contains("docs/report.pdf  p. 2 > 3 Capital > 3.2 Capital adequacy"), pdf.stdout)
        let slide = try strata(["search", "HBM demand", "--k", "1"])
        XCTAssertTrue(slide.stdout.contains("docs/deck.pptx  slide 1 > Memory cycle outlook"), slide.stdout)
        let sheet = try strata(["search", "Platinum credit", "--k", "1"])
        XCTAssertTrue(sheet.stdout.contains("docs/fees.xlsx  Cards > Row 4"), sheet.stdout)
        let mail = try strata(["search", "USD rate", "--k", "1"])
        XCTAssertTrue(mail.stdout.contains("docs/notice-gbk.eml › rates.csv  USD"), mail.stdout)
    }

    func testUnsupportedFilesFailTheRunUnlessExpected() throws {
        try copy(["bom.md"])
        try Data([0, 1, 2]).write(to: dir.appendingPathComponent("docs/tool.exe"))
        let r = try strata(["ingest", "docs"])
        XCTAssertEqual(r.status, 3, "an unsupported file in a folder is a failure (issue 20)\n\(r.stdout)")
        XCTAssertTrue(r.stderr.contains("skipped docs/tool.exe: unsupported file type '.exe'"), r.stderr)
        let ok = try strata(["ingest", "--skip-unsupported", "docs"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertTrue(ok.stdout.contains("1 unchanged, 1 skipped (unsupported: 1)"), ok.stdout)
        XCTAssertTrue(ok.stderr.contains("skipped docs/tool.exe: unsupported file type '.exe'"), "still listed: \(ok.stderr)")
    }

    func testMissingOCREngineSaysWhatToInstall() throws {
        try copy(["scan-zh.png", "bom.md"])
        let r = try strata(["ingest", "docs"], env: ["STRATA_CONVERTER_PATH": dir.appendingPathComponent("no-tools").path])
        XCTAssertEqual(r.status, 3, r.stdout)
        XCTAssertTrue(r.stdout.hasPrefix("ingested 1 file, 1 chunk, 1 skipped (converter missing: 1)"), r.stdout)
        XCTAssertTrue(r.stderr.contains("skipped docs/scan-zh.png: needs 'tesseract', which is not installed — install it with 'sudo apt-get install tesseract-ocr tesseract-ocr-chi-sim' (or run 'make setup')"), r.stderr)
    }

    func testDataImportTakesAnExcelSheet() throws {
        try copy(["fees.xlsx"])
        let first = try strata(["data", "import", "docs/fees.xlsx", "--table", "card_fees"])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.hasPrefix("imported card_fees: 3 rows, 4 columns (card text, annual_fee real, waiver text, effective date)"), first.stdout)
        let second = try strata(["data", "import", "docs/fees.xlsx", "--sheet", "Transfers", "--table", "transfer_fees"])
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertTrue(second.stdout.hasPrefix("imported transfer_fees: 2 rows, 3 columns (service text, fee integer, note text)"), second.stdout)
        let show = try strata(["data", "show", "transfer_fees", "--json"])
        XCTAssertTrue(show.stdout.contains("\"service\" : \"跨境汇款\""), show.stdout)
        let missing = try strata(["data", "import", "docs/fees.xlsx", "--sheet", "Nope"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("no sheet named 'Nope' — the sheets are: Cards, Transfers"), missing.stderr)
    }
}
