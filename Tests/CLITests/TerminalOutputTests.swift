import Foundation
import XCTest

/// Stored and user text never reaches the terminal raw: escape sequences could set the window
/// title, clear the screen or conceal text, and a newline in a file name would split a line.
final class TerminalOutputTests: XCTestCase {
    var dir: URL!
    var db: String { dir.appendingPathComponent("k.db").path }
    override func setUpWithError() throws { dir = try StrataBinary.temporaryFolder("strata-term") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func strata(_ args: [String], stdin: String? = nil) throws -> StrataRun {
        try StrataBinary.run(["--db", db] + args, stdin: stdin, cwd: dir)
    }

    /// No control character but newline (and tab) in anything printed, on stdout or stderr.
    func assertClean(_ r: StrataRun, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        for (name, text) in [("stdout", r.stdout), ("stderr", r.stderr)] {
            let bad = text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value)
                || (0x202A...0x202E).contains($0.value) || (0x2066...0x2069).contains($0.value) }
            XCTAssertTrue(bad.isEmpty, "\(what) \(name) has control characters \(bad.map { String($0.value, radix: 16) }): \(text.debugDescription)",
                          file: file, line: line)
        }
    }

    func testEscapeSequencesAreNeutralisedEverywhere() throws {
        let esc = "\u{1B}"
        let title = "\(esc)]0;pwned\u{07}"
        let kb = dir.appendingPathComponent("kb")
        try FileManager.default.createDirectory(at: kb, withIntermediateDirectories: true)
        try "# Refunds \(title)\n\nCard refunds take five working days.\(esc)[2J\(esc)[8m hidden \u{202E}txt.exe\n"
            .write(to: kb.appendingPathComponent("refunds.md"), atomically: true, encoding: .utf8)
        // A file name with a newline and an escape, and one the ingest refuses (so it is named on stderr).
        let odd = "odd\nname\(esc)[31m.md"
        try "# Odd\n\nOdd refunds note.\n".write(to: kb.appendingPathComponent(odd), atomically: true, encoding: .utf8)
        // Binary by any reading (a PNG header: NULs not in a UTF-16 pattern).
        try Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00]).write(to: kb.appendingPathComponent("bad\n\(esc)[2Jbin.txt"))

        let ingest = try strata(["ingest", "kb"])
        XCTAssertEqual(ingest.status, 3, ingest.stderr)
        assertClean(ingest, "ingest")
        XCTAssertEqual(ingest.stderr.split(separator: "\n").count, 1, ingest.stderr)   // one line per skipped file
        XCTAssertTrue(ingest.stderr.contains("bad\\n"), ingest.stderr)

        let search = try strata(["search", "refunds"])
        assertClean(search, "search")
        XCTAssertTrue(search.stdout.contains("odd\\nname"), search.stdout)
        XCTAssertTrue(search.stdout.contains("take five working days."), search.stdout)

        let json = try strata(["search", "refunds", "--json"])
        assertClean(json, "search --json")
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let texts = (obj["results"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        XCTAssertTrue(texts.contains { $0.contains("\(esc)[2J") }, "JSON keeps the exact text, escaped by the encoder: \(texts)")

        let question = "How long do card refunds take?\(esc)]0;title\u{07}\(esc)[2J"
        let ask = try strata(["ask", question, "--model", "extractive", "--no-embedder"])
        XCTAssertEqual(ask.status, 0, ask.stderr)
        assertClean(ask, "ask")
        let log = try strata(["log"])
        assertClean(log, "log")
        XCTAssertTrue(log.stdout.contains("Q: How long do card refunds take?"), log.stdout)
        let chat = try strata(["chat", "--model", "extractive", "--no-embedder"], stdin: question + "\n/sources\n")
        assertClean(chat, "chat")

        let csv = dir.appendingPathComponent("t.csv")
        try "id,note\n1,\"\(esc)]0;title\u{07}two\nlines\"\n".write(to: csv, atomically: true, encoding: .utf8)
        XCTAssertEqual(try strata(["data", "import", csv.path]).status, 0)
        let show = try strata(["data", "show", "t"])
        assertClean(show, "data show")
        let list = try strata(["data", "list"])
        assertClean(list, "data list")
        let report = try strata(["report", "card refunds", "--model", "extractive", "--sections", "1"])
        assertClean(report, "report")
        // A question's control characters in an error message are neutralised too.
        let err = try strata(["data", "show", "no\(esc)[2Jpe"])
        XCTAssertEqual(err.status, 1)
        assertClean(err, "error")
        assertStoreHealthy(db)
    }
}
