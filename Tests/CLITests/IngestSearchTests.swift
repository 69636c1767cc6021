import XCTest

/// `strata ingest` and `strata search` end to end, on fixtures built here.
final class IngestSearchTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-cli-\(UUID().uuidString)")
        let kb = dir.appendingPathComponent("kb")
        try FileManager.default.createDirectory(at: kb, withIntermediateDirectories: true)
        func put(_ name: String, _ data: Data) throws { try data.write(to: kb.appendingPathComponent(name)) }
        try put("refunds-zh.md", Data("# 退款政策\n\n## 时间\n\n申请退款需要几天？一般情况下，退款会在七个工作日内到账。\n".utf8))
        try put("fees-en.md", Data("# Fees\n\nOpening an account is free.\n\n## Wire transfers\n\nA domestic wire costs fifteen dollars.\n".utf8))
        try put("prices.csv", Data("product,price\nWidget,12\nGadget,7\n".utf8))
        try put("binary.txt", Data([0x50, 0x4B, 0x03, 0x04, 0x00, 0x00]))
        try put("gbk.txt", Data([0xCD, 0xCB, 0xBF, 0xEE]))            // 退款 in GBK: detected and converted
        try put("empty.md", Data())
        try put("slides.pptx", Data("not text".utf8))                  // a PPTX that is not a ZIP archive
        try put("archive.bin", Data([0x01, 0x02]))
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func strata(_ args: [String]) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, cwd: dir)
    }

    func testIngestMixedFolderThenSearch() throws {
        let r = try strata(["ingest", "kb"])
        XCTAssertEqual(r.status, 3, "some files failed: exit 3\n\(r.stderr)")
        XCTAssertTrue(r.stdout.hasPrefix("ingested 4 files, 6 chunks, 4 skipped ("), r.stdout)
        XCTAssertTrue(r.stdout.contains("binary: 1") && r.stdout.contains("malformed: 1") && r.stdout.contains("empty: 1")
                      && r.stdout.contains("unsupported: 1"), r.stdout)
        XCTAssertTrue(r.stdout.contains("\nby type: md 2, csv 1, txt 1\n"), r.stdout)
        XCTAssertTrue(r.stderr.contains("skipped kb/binary.txt: binary file (NUL byte at offset 4)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped kb/slides.pptx: not a ZIP archive, or cut short"), r.stderr)
        XCTAssertTrue(r.stderr.contains("skipped kb/archive.bin: unsupported file type '.bin' — Strata reads .md .txt .csv"), r.stderr)
        XCTAssertFalse(r.stderr.contains("gbk.txt"), r.stderr)

        // Second run: nothing changed. Only the good files, named: exit 0.
        let again = try strata(["ingest", "kb/fees-en.md", "kb/refunds-zh.md"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stdout.hasPrefix("ingested 0 files, 0 chunks, 2 unchanged in "), again.stdout)

        let zh = try strata(["search", "退款"])
        XCTAssertEqual(zh.status, 0, zh.stderr)
        XCTAssertTrue(zh.stdout.hasPrefix("1. "), zh.stdout)
        XCTAssertTrue(zh.stdout.contains("kb/refunds-zh.md  退款政策 > 时间  (line 5)"), zh.stdout)
        XCTAssertTrue(zh.stdout.contains("申请[退款]需要几天"), zh.stdout)

        let en = try strata(["search", "wire", "--k", "1"])
        XCTAssertEqual(en.status, 0)
        XCTAssertTrue(en.stdout.contains("kb/fees-en.md  Fees > Wire transfers  (line 7)"), en.stdout)
        XCTAssertTrue(en.stdout.contains("A domestic [wire] costs fifteen dollars."), en.stdout)
        XCTAssertFalse(en.stdout.contains("2. "), en.stdout)

        let js = try strata(["search", "widget price", "--json"])
        XCTAssertEqual(js.status, 0)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(js.stdout.utf8)) as? [String: Any])
        let results = try XCTUnwrap(obj["results"] as? [[String: Any]])
        XCTAssertEqual(results.first?["path"] as? String, "kb/prices.csv")
        XCTAssertEqual(results.first?["text"] as? String, "product: Widget\nprice: 12")
        XCTAssertEqual(results.first?["start_line"] as? Int, 2)
        XCTAssertEqual(obj["mode"] as? String, "keyword")

        let hostile = try strata(["search", "NEAR( \"a -b ((( OR *"])
        XCTAssertEqual(hostile.status, 0, hostile.stderr)
        let punct = try strata(["search", "?!*"])
        XCTAssertEqual(punct.status, 0)
        XCTAssertTrue(punct.stdout.contains("no results"), punct.stdout)
        assertStoreHealthy(db)
    }

    func testAccessGroupsAreEnforcedBySearch() throws {
        XCTAssertEqual(try strata(["ingest", "kb/fees-en.md", "--groups", "finance"]).status, 0)
        XCTAssertEqual(try strata(["ingest", "kb/refunds-zh.md"]).status, 0)
        let outsider = try strata(["search", "wire", "--json"])
        let none = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(outsider.stdout.utf8)) as? [String: Any])
        XCTAssertEqual((none["results"] as? [Any])?.count, 0, outsider.stdout)
        XCTAssertTrue(try strata(["search", "wire", "--as", "hr"]).stdout.contains("no results"))
        let member = try strata(["search", "wire", "--as", "hr,finance"])
        XCTAssertTrue(member.stdout.contains("Fees > Wire transfers"), member.stdout)
        XCTAssertTrue(try strata(["search", "退款"]).stdout.contains("refunds-zh.md"))
    }

    func testBadUsageAndMissingInput() throws {
        let unknown = try strata(["search", "x", "--frobnicate"])
        XCTAssertEqual(unknown.status, 64)
        XCTAssertTrue(unknown.stderr.contains("unknown option '--frobnicate'"), unknown.stderr)
        let noDB = try strata(["search", "anything"])
        XCTAssertEqual(noDB.status, 1)
        XCTAssertTrue(noDB.stderr.contains("run 'strata ingest PATH' first"), noDB.stderr)
        XCTAssertEqual(try strata(["search", ""]).status, 64)
        XCTAssertEqual(try strata(["search", "x", "--k", "0"]).status, 64)
        XCTAssertEqual(try strata(["search", "x", "--mode", "psychic"]).status, 64)
        XCTAssertEqual(try strata(["ingest"]).status, 64)
        let missing = try strata(["ingest", "kb/fees-en.md", "nope/"])
        XCTAssertEqual(missing.status, 3)
        XCTAssertTrue(missing.stderr.contains("skipped nope/: no such file or directory"), missing.stderr)
        XCTAssertTrue(missing.stdout.hasPrefix("ingested 1 file, 2 chunks, 1 skipped (missing: 1)"), missing.stdout)
        // A 50 MB file is refused by size before being read (sparse, so the test stays fast).
        let big = dir.appendingPathComponent("big.txt")
        FileManager.default.createFile(atPath: big.path, contents: nil)
        let h = try FileHandle(forWritingTo: big)
        try h.truncate(atOffset: 50 * 1_048_576)
        try h.close()
        let r = try strata(["ingest", "big.txt"])
        XCTAssertEqual(r.status, 3)
        XCTAssertTrue(r.stderr.contains("file is 50.0 MB, over the 32.0 MB limit"), r.stderr)
        let help = try strata(["ingest", "--help"])
        XCTAssertTrue(help.stdout.contains("Exit status: 0 every file stored"), help.stdout)
        assertStoreHealthy(db)
    }
}
