import Foundation
import XCTest

/// `ask` and `eval kb` on a database holding documents and business tables, as `make demo`
/// builds it: a question naming a branch or a case exactly is answered from its record and cited
/// by table file and key; `--no-records` keeps to the documents; `eval kb --replay` re-scores
/// the drafts a `--details` run recorded without a model.
final class EvalKBRecordsTests: XCTestCase {
    func testRecordsAnswerNamedBranchesAndCasesAndReplayReproducesARun() throws {
        let root = StrataBinary.root
        try StrataBinary.requireDefaultModels()
        let dir = try StrataBinary.temporaryFolder("strata-kb-records")
        defer { try? FileManager.default.removeItem(at: dir) }
        let db = ["--db", dir.appendingPathComponent("k.db").path]
        for step: [String] in [["ingest", "--embed", "Knowledge/policies/refunds.en.md"],
                               ["data", "import", "--searchable", "--embed", "Knowledge/business/branches.csv"],
                               ["data", "import", "Knowledge/business/cases.csv"]] {
            let r = try StrataBinary.run(db + step, cwd: root)
            XCTAssertEqual(r.status, 0, "\(step): \(r.stderr)")
        }

        let ask = try StrataBinary.run(db + ["ask", "徐家汇支行礼拜天开门不", "--model", "extractive", "--no-audit"], cwd: root)
        XCTAssertEqual(ask.status, 0, ask.stderr)
        XCTAssertTrue(ask.stdout.contains("周日不营业"), ask.stdout)
        XCTAssertTrue(ask.stdout.contains("[1] Knowledge/business/branches.csv › SH-003"), ask.stdout)
        let documents = try StrataBinary.run(db + ["ask", "徐家汇支行礼拜天开门不", "--model", "extractive", "--no-audit", "--no-records", "--explain"], cwd: root)
        XCTAssertEqual(documents.status, 0, documents.stderr)
        XCTAssertFalse(documents.stdout.contains("answered from the business tables"), documents.stdout)

        let questions = dir.appendingPathComponent("q.jsonl")
        try """
        {"id": "t-1", "lang": "zh", "question": "徐家汇支行礼拜天开门不", "covered": true, "restricted": false, "facts": [["不营业", "closed"]], "wrong": [], "source": "business/branches.csv › SH-003", "note": "record"}
        {"id": "t-2", "lang": "en", "question": "what's going on with my case HB-2026-00158?", "covered": true, "restricted": false, "facts": [["IBAN"]], "wrong": [], "source": "business/cases.csv › HB-2026-00158", "note": "record"}
        {"id": "t-3", "lang": "en", "question": "How long does a card refund take?", "covered": true, "restricted": false, "facts": [["3–7 business days", "3-7 business days"]], "wrong": [], "source": "policies/refunds.en.md", "note": "document"}
        {"id": "t-4", "lang": "en", "question": "Is there parking at the Hongqiao Hub Branch?", "covered": false, "restricted": false, "facts": [], "wrong": [], "source": "", "note": "names a branch, asks what no record holds"}
        """.write(to: questions, atomically: true, encoding: .utf8)
        let details = dir.appendingPathComponent("d.jsonl").path
        func figures(_ extra: [String]) throws -> [String: Any] {
            let r = try StrataBinary.run(db + ["eval", "kb", "--questions", questions.path, "--model", "extractive", "--json"] + extra, cwd: root)
            XCTAssertEqual(r.status, 0, r.stderr)
            return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any], r.stdout)
        }
        let run = try figures(["--details", details])
        let covered = try XCTUnwrap(run["covered"] as? [String: Any])
        XCTAssertGreaterThanOrEqual(covered["correct"] as? Double ?? 0, 2.0 / 3 - 1e-9, "both record questions: \(run)")
        let lines = try String(contentsOfFile: details, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("answered from the business tables") }.count, 2, lines.joined(separator: "\n"))

        // The replay gives each question its recorded draft: the figures are the run's.
        let replayed = try figures(["--replay", details])
        XCTAssertEqual(replayed["covered"] as? NSDictionary, run["covered"] as? NSDictionary)
        XCTAssertEqual(replayed["uncovered"] as? NSDictionary, run["uncovered"] as? NSDictionary)
        XCTAssertTrue((replayed["model"] as? String ?? "").hasPrefix("replay of d.jsonl"), "\(replayed)")

        let notDetails = dir.appendingPathComponent("x.jsonl")
        try "not json\n".write(to: notDetails, atomically: true, encoding: .utf8)
        let bad = try StrataBinary.run(db + ["eval", "kb", "--questions", questions.path, "--model", "extractive", "--replay", notDetails.path], cwd: root)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("line 1 is not a details line") && bad.stderr.contains("eval kb --details"), bad.stderr)
    }
}
