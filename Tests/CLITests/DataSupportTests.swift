import Foundation
import XCTest

final class DataSupportTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var db: String { dir.appendingPathComponent("s.db").path }

    func testImportListShowAndRefusedBadFile() throws {
        let csv = dir.appendingPathComponent("cards.csv")
        try "id,name,fee\nG,海港金卡,300\nP,\"Platinum, card\",1000\n".write(to: csv, atomically: true, encoding: .utf8)
        let imp = try StrataBinary.run(["--db", db, "data", "import", csv.path])
        XCTAssertEqual(imp.status, 0, imp.stderr)
        XCTAssertTrue(imp.stdout.contains("imported cards: 2 rows, 3 columns (id text, name text, fee integer)"), imp.stdout)
        let show = try StrataBinary.run(["--db", db, "data", "show", "cards"])
        // CJK characters count two columns, so the next column lines up.
        XCTAssertEqual(show.stdout, """
        id  name            fee
        --  --------------  ----
        G   海港金卡        300
        P   Platinum, card  1000

        """)
        let bad = dir.appendingPathComponent("bad.csv")
        try "id,name,fee\nG,x,notanumber\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["--db", db, "data", "import", bad.path, "--table", "cards"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("line 2: column fee: 'notanumber' is not an integer"), r.stderr)
        let list = try StrataBinary.run(["--db", db, "data", "list", "--json"])
        XCTAssertTrue(list.stdout.contains("\"rows\" : 2"), list.stdout)
        let missing = try StrataBinary.run(["--db", db, "data", "show", "nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no business table 'nope'"), missing.stderr)
    }

    func testSupportAnswersAndRemembersTheSlotAcrossTurns() throws {
        let root = StrataBinary.root
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("models/all-MiniLM-L6-v2/model.safetensors").path) else {
            throw XCTSkip("models/all-MiniLM-L6-v2 is absent — run the model set-up")
        }
        let files = ["products", "card_fees", "branches", "fee_schedule", "cases"].map { root.appendingPathComponent("Knowledge/business/\($0).csv").path }
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import"] + files).status, 0)
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "check"], cwd: root).status, 0)
        let r = try StrataBinary.run(["--db", db, "support", "--model", "none", "--today", "2026-11-23"],
                                     stdin: "金卡的年费是多少？\n那储蓄卡呢？\n", cwd: root)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "海港金卡信用卡年费为300元。首年免年费；每卡片年度刷卡消费满12笔免次年年费。\n海港银联借记卡年费为0元。无年费。\n")
    }

    func testEvalIntentRejectsBadInputWithAHint() throws {
        let noArgs = try StrataBinary.run(["eval", "intent"])
        XCTAssertEqual(noArgs.status, 64)
        XCTAssertTrue(noArgs.stderr.contains("--train and --test are required"), noArgs.stderr)
        let bad = dir.appendingPathComponent("bad.csv")
        try "utterance,label\nhi,greet\n".write(to: bad, atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["eval", "intent", "--train", bad.path, "--test", bad.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("needs a header with columns 'text' and 'category'"), r.stderr)
        let shots = try StrataBinary.run(["eval", "intent", "--train", bad.path, "--test", bad.path, "--shots", "0"])
        XCTAssertEqual(shots.status, 64)
    }
}
