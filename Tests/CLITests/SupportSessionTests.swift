import Foundation
import XCTest

/// `strata support` as a conversation, `eval support` and `eval intent` with out-of-scope rows,
/// run as a user runs them (#19 items 9 and 11, #18's message cap).
final class SupportSessionTests: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        guard FileManager.default.fileExists(atPath: StrataBinary.root.appendingPathComponent("models/all-MiniLM-L6-v2/model.safetensors").path) else {
            throw XCTSkip("models/all-MiniLM-L6-v2 is absent — run the model set-up")
        }
        dir = try StrataBinary.temporaryFolder("strata-support")
    }
    override func tearDownWithError() throws { if let dir { try? FileManager.default.removeItem(at: dir) } }

    var db: String { dir.appendingPathComponent("s.db").path }

    func importTables() throws {
        let files = ["products", "card_fees", "branches", "fee_schedule", "cases"].map { StrataBinary.root.appendingPathComponent("Knowledge/business/\($0).csv").path }
        XCTAssertEqual(try StrataBinary.run(["--db", db, "data", "import"] + files).status, 0)
    }

    /// An empty line used to end the conversation; /quit ends it now, and a message too long
    /// for one turn is refused with a message while the conversation goes on.
    func testEmptyLinesAreSkippedQuitEndsAndALongMessageIsRefused() throws {
        try importTables()
        let long = String(repeating: "金卡年费", count: 1_000)
        let r = try StrataBinary.run(["--db", db, "support", "--model", "none", "--today", "2026-11-23", "--no-audit"],
                                     stdin: "金卡的年费是多少？\n\n   \n\(long)\n那储蓄卡呢？\n/help\n/quit\n白金卡年费多少\n")
        XCTAssertEqual(r.status, 1, "a refused message makes the exit status 1")
        XCTAssertTrue(r.stderr.contains("the message has 4000 characters; one turn holds at most 2000"), r.stderr)
        let lines = r.stdout.components(separatedBy: "\n")
        XCTAssertEqual(lines[0], "海港金卡信用卡年费为300元。首年免年费；每卡片年度刷卡消费满12笔免次年年费。")
        XCTAssertEqual(lines[1], "海港银联借记卡年费为0元。无年费。", "the follow-up after the empty lines kept the intent")
        XCTAssertTrue(r.stdout.contains("金卡的年费是多少？"), "/help lists example questions")
        XCTAssertFalse(r.stdout.contains("白金信用卡"), "nothing after /quit is answered")
    }

    /// The issue's messages with the real encoder: in scope, the day asked about, the English
    /// branch name, and each reply in its customer's language only.
    func testTheIssuesMessagesAreAnsweredInTheCustomersLanguage() throws {
        try importTables()
        let r = try StrataBinary.run(["--db", db, "support", "--model", "none", "--today", "2026-11-23", "--no-audit"],
                                     stdin: "北京中关村支行周六几点开门？\nIs the Zhongguancun branch open on Saturday?\n杭州的网点周日营业吗？\nWhat is the status of my case HB-2026-00123?\n三年期大额存单起存多少钱\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.components(separatedBy: "\n")
        XCTAssertEqual(lines[0], "北京中关村支行周六的营业时间为09:30-15:30。地址：海淀区中关村大街16号，电话010-6258-9130。")
        XCTAssertEqual(lines[1], "Beijing Zhongguancun Branch is open on Saturday: 09:30-15:30. Address: 16 Zhongguancun Street, Haidian District; phone 010-6258-9130.")
        XCTAssertTrue(r.stdout.contains("杭州钱江分行（滨江区江南大道1366号）：周日不营业"), r.stdout)
        XCTAssertTrue(r.stdout.contains("Your refund case HB-2026-00123 (RMB 1,299) is being processed, last updated 2026-11-20."), r.stdout)
        XCTAssertTrue(r.stdout.contains("三年期大额存单：年利率1.85%，起存金额20万元。"), r.stdout)
        for bad in ["closed", "processing", "CNY", "Mid-year"] { XCTAssertFalse(r.stdout.contains(bad), bad) }
    }

    func testEvalSupportGradesRepliesAndNamesABadLine() throws {
        try importTables()
        let file = dir.appendingPathComponent("q.jsonl")
        try """
        {"id":"a","lang":"zh","question":"北京中关村支行周六几点开门？","expect":"answer","facts":[["9:30"],["15:30"]],"wrong":[]}
        {"id":"b","lang":"en","question":"What is the annual fee of the gold card?","expect":"answer","facts":[["300"]],"wrong":[["1,000"]]}
        {"id":"c","lang":"en","question":"Can you write me a poem about autumn leaves?","expect":"refuse","facts":[],"wrong":[]}

        """.write(to: file, atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["--db", db, "eval", "support", "--questions", file.path, "--model", "none", "--today", "2026-11-23", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        let overall = o["overall"] as! [String: Int]
        XCTAssertEqual(overall["n"], 3)
        XCTAssertEqual(overall["right"], 3, r.stdout)
        let table = try StrataBinary.run(["--db", db, "eval", "support", "--questions", file.path, "--model", "none", "--today", "2026-11-23"])
        XCTAssertTrue(table.stdout.contains("overall          3       3       0       0       0"), table.stdout)
        try "{\"id\":\"x\",\"lang\":\"en\"}\n".write(to: file, atomically: true, encoding: .utf8)
        let bad = try StrataBinary.run(["--db", db, "eval", "support", "--questions", file.path, "--model", "none"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("q.jsonl line 1: missing key 'question'"), bad.stderr)
    }

    /// Rows labelled oos (CLINC150's convention) and the rows of --oos files count as out of
    /// scope, and the report gives their precision and recall beside in-scope accuracy.
    func testEvalIntentMeasuresOutOfScopeRows() throws {
        let train = dir.appendingPathComponent("train.csv"), test = dir.appendingPathComponent("test.csv"), other = dir.appendingPathComponent("other.csv")
        var rows = ["text,category"]
        for t in ["金卡年费多少", "白金卡年费是多少", "信用卡年费怎么免", "年费能减免吗", "what is the annual fee", "annual fee of the gold card"] { rows.append("\(t),fee") }
        for t in ["网点几点开门", "支行营业时间", "周六营业吗", "分行几点关门", "when does the branch open", "branch opening hours"] { rows.append("\(t),hours") }
        try (rows.joined(separator: "\n") + "\n").write(to: train, atomically: true, encoding: .utf8)
        try "text,category\n储蓄卡要年费吗,fee\n周日开门吗,hours\n今天天气怎么样,oos\n".write(to: test, atomically: true, encoding: .utf8)
        try "text\nplay some jazz music\n".write(to: other, atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["eval", "intent", "--train", train.path, "--test", test.path, "--oos", other.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
        XCTAssertEqual(o["testUtterances"] as? Int, 4)
        XCTAssertEqual(o["inScopeUtterances"] as? Int, 2)
        XCTAssertNotNil(o["outOfScopeRecall"] as? Double)
        XCTAssertNotNil(o["outOfScopeRule"] as? [String: Any])
        XCTAssertNotNil(o["sparseWeight"] as? Double)
        let test2 = dir.appendingPathComponent("test2.csv")
        try "text,category\n储蓄卡要年费吗,fee\n今天天气怎么样,none\n".write(to: test2, atomically: true, encoding: .utf8)
        let label = try StrataBinary.run(["eval", "intent", "--train", train.path, "--test", test2.path, "--oos-label", "none", "--threshold", "0", "--min-similarity", "0"])
        XCTAssertTrue(label.stdout.contains("(1 in scope)"), label.stdout)
        XCTAssertTrue(label.stdout.contains("out-of-scope rule    margin < 0.00 or nearest similarity < 0.00 (given)"), label.stdout)
    }
}
