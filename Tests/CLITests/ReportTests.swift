import XCTest

/// `strata report` end to end on the demo knowledge base (`Knowledge/`).
final class ReportTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }
    let root = StrataBinary.root

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let r = try StrataBinary.run(["--db", db, "ingest", "Knowledge"], cwd: root)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func strata(_ args: [String], env: [String: String] = [:]) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, cwd: root, env: env)
    }

    /// Every [n] of the Markdown resolves to a reference; every reference names a chunk the
    /// sections used as evidence, in a file that exists and is long enough for its lines.
    func checkReport(_ json: String, file: String) throws -> [String: Any] {
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any], json)
        let refs = try XCTUnwrap(obj["references"] as? [[String: Any]])
        let sections = try XCTUnwrap(obj["sections"] as? [[String: Any]])
        let evidence = Set(sections.flatMap { ($0["evidenceChunkIDs"] as? [Int]) ?? [] })
        XCTAssertFalse(refs.isEmpty)
        for (i, r) in refs.enumerated() {
            XCTAssertEqual(r["number"] as? Int, i + 1)
            let chunk = try XCTUnwrap(r["chunkID"] as? Int)
            XCTAssertTrue(evidence.contains(chunk), "reference \(i + 1) cites chunk \(chunk), which no section retrieved")
            let path = try XCTUnwrap(r["path"] as? String)
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            XCTAssertGreaterThanOrEqual(text.components(separatedBy: "\n").count, try XCTUnwrap(r["endLine"] as? Int), path)
        }
        let md = try String(contentsOfFile: file, encoding: .utf8)
        let numbers = try NSRegularExpression(pattern: #"\[(\d+)\]"#).matches(in: md, range: NSRange(md.startIndex..., in: md))
            .map { Int((md as NSString).substring(with: $0.range(at: 1)))! }
        XCTAssertFalse(numbers.isEmpty)
        for n in numbers { XCTAssertTrue((1...refs.count).contains(n), "[\(n)] does not resolve") }
        return obj
    }

    func testExtractiveReportResolvesEveryCitation() throws {
        let out = dir.appendingPathComponent("semis.md").path
        let r = try strata(["report", "半导体行业", "--model", "extractive", "--sections", "2", "-o", out, "--json", "--no-audit"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try checkReport(r.stdout, file: out)
        XCTAssertEqual(obj["language"] as? String, "zh")
        XCTAssertTrue(r.stderr.contains("[1/2] 行业概况") && r.stderr.contains("evidence: "), r.stderr)
        XCTAssertTrue(r.stderr.contains("sections written 2, empty 0"), r.stderr)
        XCTAssertTrue(try String(contentsOfFile: out, encoding: .utf8).contains("## 参考资料\n\n[1] Knowledge/research/"))
    }

    func testOutlineFileAndEnglishAndEmptySection() throws {
        let outline = dir.appendingPathComponent("outline.txt")
        try "Risks\nQuantum teleportation of llamas\n".write(to: outline, atomically: true, encoding: .utf8)
        let out = dir.appendingPathComponent("bank.md").path
        let r = try strata(["report", "Jiangnan Commercial Bank", "--outline", outline.path, "--model", "extractive", "-o", out, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try checkReport(r.stdout, file: out)
        let sections = try XCTUnwrap(obj["sections"] as? [[String: Any]])
        XCTAssertEqual(sections.map { $0["title"] as? String }, ["Risks", "Quantum teleportation of llamas"])
        XCTAssertEqual(sections[1]["empty"] as? Bool, true)
        // Recorded in the audit log.
        let log = try strata(["log"])
        XCTAssertTrue(log.stdout.contains("report: Jiangnan Commercial Bank"), log.stdout + log.stderr)
    }

    func testBadInputFailsClearly() throws {
        var r = try strata(["report"])
        XCTAssertEqual(r.status, 64); XCTAssertTrue(r.stderr.contains("give the report topic in quotes"), r.stderr)
        r = try strata(["report", "banks", "--lang", "fr", "--model", "extractive"])
        XCTAssertEqual(r.status, 64); XCTAssertTrue(r.stderr.contains("--lang takes zh or en"), r.stderr)
        r = try strata(["report", "banks", "--sections", "0", "--model", "extractive"])
        XCTAssertEqual(r.status, 64)
        r = try strata(["report", "banks", "--outline", "/nonexistent/o.txt", "--model", "extractive"])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("cannot read the outline file"), r.stderr)
        r = try StrataBinary.run(["--db", dir.appendingPathComponent("none.db").path, "report", "banks", "--model", "extractive"], cwd: root)
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("no knowledge database"), r.stderr)
        r = try strata(["report", "banks", "--model", "/nonexistent.gguf"])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("no model file"), r.stderr)
        r = try strata(["report", "banks", "--table", "no_such_table", "--model", "extractive"])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("no business table 'no_such_table'"), r.stderr)
    }

    func testTableRowsJoinTheEvidence() throws {
        let out = dir.appendingPathComponent("products.md").path
        let r = try strata(["report", "Jiangnan Commercial Bank deposits", "--sections", "2", "--table", "Knowledge/business/products.csv",
                            "--model", "extractive", "-o", out, "--json", "--no-audit"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let md = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertTrue(md.contains("| --- |"), md)
        XCTAssertTrue(md.contains("Knowledge/business/products.csv › table products.csv (lines 1–"), md)
    }

    /// The real small model on one short section: slow on a shared machine, so kept tiny.
    func testSmallModelWritesACitedSection() throws {
        let model = root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: model) else {
            throw XCTSkip("models/SmolLM2-135M-Instruct.Q4_1.gguf is absent — run the set-up script to fetch it")
        }
        let out = dir.appendingPathComponent("smol.md").path
        let outline = dir.appendingPathComponent("o.txt")
        try "Outlook\n".write(to: outline, atomically: true, encoding: .utf8)
        let r = try strata(["report", "semiconductors", "--outline", outline.path, "--model", model, "--max-tokens", "24", "--passages", "2",
                            "-o", out, "--json", "--no-audit"])
        XCTAssertEqual(r.status, 0, r.stderr)
        _ = try checkReport(r.stdout, file: out)
        XCTAssertTrue(r.stderr.contains("tokens/s"), r.stderr)
    }
}
