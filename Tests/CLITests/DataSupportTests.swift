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
        assertStoreHealthy(db)
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

    /// The scripted sessions of the issue: a vague opening, a lookup, a follow-up, a question the
    /// policies answer (with sources), and a handoff — in Chinese, then in English; every turn is
    /// in the audit log with its intent and reply path.
    func testSupportMultiTurnSessionsInChineseAndEnglish() throws {
        let root = StrataBinary.root
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("models/all-MiniLM-L6-v2/model.safetensors").path) else {
            throw XCTSkip("models/all-MiniLM-L6-v2 is absent — run the model set-up")
        }
        let files = ["products", "card_fees", "branches", "fee_schedule", "cases"].map { root.appendingPathComponent("Knowledge/business/\($0).csv").path }
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import"] + files).status, 0)
        let ingest = try StrataBinary.run(["--db", db, "ingest", "Knowledge/policies"], cwd: root)
        XCTAssertEqual(ingest.status, 0, ingest.stderr)
        let support = ["--db", db, "support", "--model", "none", "--today", "2026-11-23", "--json"]

        let zh = try StrataBinary.run(support, stdin: "你好，我想咨询一下\n金卡的年费是多少？\n那储蓄卡呢？\n退款需要几天到账？\n转人工\n", cwd: root)
        XCTAssertEqual(zh.status, 0, zh.stderr)
        let zhTurns = try turns(zh.stdout)
        XCTAssertEqual(zhTurns.map { $0["path"] as? String }, ["clarify", "template", "template", "knowledge", "handoff"], zh.stdout)
        XCTAssertEqual(zhTurns.map { $0["intent"] as? String }, ["general_help", "card_annual_fee", "card_annual_fee", "refund_policy", "human_agent"])
        XCTAssertTrue((zhTurns[2]["reply"] as? String ?? "").contains("借记卡年费为0元"))
        let zhCited = (zhTurns[3]["knowledge"] as? [String: Any])?["citations"] as? [[String: Any]] ?? []
        XCTAssertFalse(zhCited.isEmpty)
        XCTAssertTrue(zhCited.allSatisfy { ($0["path"] as? String ?? "").contains("policies/refunds") || ($0["path"] as? String ?? "").contains("policies/disputes") }, "\(zhCited)")
        XCTAssertEqual(zhTurns[3]["language"] as? String, "zh")

        let en = try StrataBinary.run(Array(support.dropLast()),
                                      stdin: "What is the annual fee of the gold card?\nHow long does a refund take to reach my card?\nconnect me to an agent\n", cwd: root)
        XCTAssertEqual(en.status, 0, en.stderr)
        XCTAssertTrue(en.stdout.hasPrefix("The Harbor Gold Credit Card"), en.stdout)
        XCTAssertTrue(en.stdout.contains("Sources:\n[1] Knowledge/policies/refunds.en.md") || en.stdout.contains("Sources:\n[1] Knowledge/policies/disputes-chargebacks.en.md"), en.stdout)
        XCTAssertTrue(en.stdout.contains("connecting you with a colleague") || en.stdout.contains("connect you with a colleague"), en.stdout)

        let log = try StrataBinary.run(["--db", db, "log", "--last", "8"])
        XCTAssertEqual(log.status, 0, log.stderr)
        XCTAssertTrue(log.stdout.contains("\"intent\":\"refund_policy\""), log.stdout)
        XCTAssertTrue(log.stdout.contains("\"path\":\"handoff\""), log.stdout)
    }

    /// The JSON objects `support --json` prints, one per turn (pretty-printed, so split on the
    /// closing brace at the start of a line).
    func turns(_ stdout: String) throws -> [[String: Any]] {
        try stdout.components(separatedBy: "\n}\n").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
            .map { try JSONSerialization.jsonObject(with: Data(($0 + "\n}").utf8)) as! [String: Any] }
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
