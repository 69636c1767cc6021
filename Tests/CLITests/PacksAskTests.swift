import Foundation
import XCTest

final class PacksAskTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-ask-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try """
        {"_id": "refund-card", "title": "Refunds › Card refunds", "text": "Card refunds are returned to the original card within 5 working days. Refunds above 500 EUR need a manager's approval."}
        {"_id": "refund-cash", "title": "Refunds › Cash refunds", "text": "Cash refunds are paid at the counter on the same day."}
        {"_id": "zh-refund", "title": "退款 › 信用卡退款", "text": "信用卡退款在5个工作日内退回原卡。超过500元的退款需要经理批准。"}
        """.write(to: dir.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        // The audit log lives in a Strata database, which only 'ingest' or 'data import' create.
        try "# About\n\nThe test bank.\n".write(to: dir.appendingPathComponent("about.md"), atomically: true, encoding: .utf8)
        let made = try StrataBinary.run(["--db", dir.appendingPathComponent("t.db").path, "ingest", dir.appendingPathComponent("about.md").path])
        XCTAssertEqual(made.status, 0, made.stderr)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    var base: [String] { ["--corpus", dir.appendingPathComponent("corpus.jsonl").path, "--model", "extractive",
                          "--db", dir.appendingPathComponent("t.db").path] }

    func testPacksCheckPassesOnShippedPacks() throws {
        let r = try StrataBinary.run(["packs", "check"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("ok   kb-qa (system.en user.en select.en system.zh user.zh select.zh)"), r.stdout)
        XCTAssertTrue(r.stdout.contains("3 of 3 packs valid"), r.stdout)
    }

    func testPacksCheckFailsOnABrokenUserPack() throws {
        let packs = dir.appendingPathComponent("packs/kb-qa")
        try FileManager.default.createDirectory(at: packs, withIntermediateDirectories: true)
        let shipped = StrataBinary.root.appendingPathComponent("Prompts/kb-qa")
        for f in ["pack.json", "system.md", "system.zh.md", "user.zh.md"] {
            try FileManager.default.copyItem(at: shipped.appendingPathComponent(f), to: packs.appendingPathComponent(f))
        }
        try "Question: {{qestion}}".write(to: packs.appendingPathComponent("user.md"), atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["packs", "check", "--packs", dir.appendingPathComponent("packs").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stdout.contains("FAIL kb-qa: pack 'kb-qa', user.md line 1: template variable '{{qestion}}' has no value"), r.stdout)
    }

    func testPacksListAndShow() throws {
        let list = try StrataBinary.run(["packs", "list"])
        XCTAssertEqual(list.status, 0)
        for name in ["kb-qa", "customer-service", "research-report"] { XCTAssertTrue(list.stdout.contains(name), list.stdout) }
        let show = try StrataBinary.run(["packs", "show", "kb-qa"])
        XCTAssertEqual(show.status, 0)
        XCTAssertTrue(show.stdout.contains("refusal.zh:  知识库中没有找到相关信息。"), show.stdout)
        let missing = try StrataBinary.run(["packs", "show", "nope"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("no prompt pack named 'nope'"), missing.stderr)
    }

    func testAskPrintsAnswerWithSourcesAndLogsIt() throws {
        let r = try StrataBinary.run(["ask", "How long do card refunds take?", "--as", "staff"] + base)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        Card refunds are returned to the original card within 5 working days. [1]

        Sources:
        [1] corpus.jsonl#refund-card › Refunds › Card refunds (lines 1–1)

        """)
        let log = try StrataBinary.run(["log", "--last", "5", "--db", dir.appendingPathComponent("t.db").path])
        XCTAssertEqual(log.status, 0, log.stderr)
        XCTAssertTrue(log.stdout.contains("as staff  pack kb-qa  model extractive-baseline"), log.stdout)
        XCTAssertTrue(log.stdout.contains("Q: How long do card refunds take?"), log.stdout)
    }

    /// A pack may name an L2 adapter a site has not trained (or trained on another model): the
    /// pack is shared data, so that means the base model and a note, never a failed answer. An
    /// adapter the user names with --adapter must exist.
    func testPackDefaultAdapterMissingFallsBackButAnExplicitOneMustExist() throws {
        let model = StrataBinary.root.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf").path
        guard FileManager.default.fileExists(atPath: model) else { throw XCTSkip("SmolLM2 model absent — run the model set-up") }
        let packs = dir.appendingPathComponent("packs")
        let pack = packs.appendingPathComponent("fin-qa")
        try FileManager.default.createDirectory(at: packs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: StrataBinary.root.appendingPathComponent("Prompts/kb-qa"), to: pack)
        let manifest = pack.appendingPathComponent("pack.json")
        let text = try String(contentsOf: manifest, encoding: .utf8)
            .replacingOccurrences(of: "\"name\": \"kb-qa\"", with: "\"name\": \"fin-qa\"")
            .replacingOccurrences(of: "\"adapter\": null", with: "\"adapter\": \"finance-missing\"")
        try text.write(to: manifest, atomically: true, encoding: .utf8)
        let args = ["--corpus", dir.appendingPathComponent("corpus.jsonl").path, "--db", dir.appendingPathComponent("t.db").path,
                    "--packs", packs.path, "--pack", "fin-qa", "--model", model]
        let env = ["STRATA_ADAPTERS": dir.appendingPathComponent("adapters").path]
        let soft = try StrataBinary.run(["ask", "How long do card refunds take?"] + args, env: env)
        XCTAssertEqual(soft.status, 0, soft.stderr)
        XCTAssertTrue(soft.stderr.contains("note: pack 'fin-qa' names adapter 'finance-missing'") && soft.stderr.contains("using the base model"), soft.stderr)
        let strict = try StrataBinary.run(["ask", "How long do card refunds take?", "--adapter", "finance-missing"] + args, env: env)
        XCTAssertEqual(strict.status, 1, strict.stdout)
        XCTAssertTrue(strict.stderr.contains("finance-missing"), strict.stderr)
    }

    func testAskRefusesWithoutCitationsAndExplains() throws {
        let r = try StrataBinary.run(["ask", "What is the visitor parking policy?", "--explain"] + base)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("I cannot find this in the knowledge base.\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("Sources:"))
        XCTAssertTrue(r.stdout.contains("Why: evidence gate"), r.stdout)
    }

    func testAskJSON() throws {
        let r = try StrataBinary.run(["ask", "信用卡退款需要多久？", "--json"] + base)
        XCTAssertEqual(r.status, 0, r.stderr)
        let obj = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(obj["language"] as? String, "zh")
        XCTAssertEqual(obj["refused"] as? Bool, false)
        XCTAssertEqual(obj["pack"] as? String, "kb-qa")
        let cites = try XCTUnwrap(obj["citations"] as? [[String: Any]])
        XCTAssertEqual(cites.first?["chunkID"] as? Int, 3)
        XCTAssertNotNil(obj["timings"] as? [String: Any])
        XCTAssertNotNil(obj["promptTokens"] as? Int)
    }

    func testAskBadInputGivesClearErrors() throws {
        let noModel = try StrataBinary.run(["ask", "hi", "--corpus", dir.appendingPathComponent("corpus.jsonl").path],
                                           env: ["STRATA_MODEL": ""])
        XCTAssertNotEqual(noModel.status, 0)
        let noCorpus = try StrataBinary.run(["ask", "hi", "--model", "extractive", "--corpus", "/nonexistent.jsonl"])
        XCTAssertEqual(noCorpus.status, 1)
        XCTAssertTrue(noCorpus.stderr.contains("cannot read the corpus /nonexistent.jsonl"), noCorpus.stderr)
        let noQuestion = try StrataBinary.run(["ask"] + base)
        XCTAssertEqual(noQuestion.status, 64)
        let badPack = try StrataBinary.run(["ask", "hi", "--pack", "nope"] + base)
        XCTAssertEqual(badPack.status, 1)
        XCTAssertTrue(badPack.stderr.contains("strata packs list"), badPack.stderr)
    }

    func testChatTwoTurnsWithFollowUpThroughStdin() throws {
        let r = try StrataBinary.run(["chat"] + base, stdin: "How long do card refunds take?\nand for cash?\n/sources\n/frob\n")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        Card refunds are returned to the original card within 5 working days. [1]

        Sources:
        [1] corpus.jsonl#refund-card › Refunds › Card refunds (lines 1–1)

        Cash refunds are paid at the counter on the same day. [1]

        Sources:
        [1] corpus.jsonl#refund-cash › Refunds › Cash refunds (lines 2–2)

        [1] corpus.jsonl#refund-cash › Refunds › Cash refunds (lines 2–2)
        unknown command /frob — /help lists the commands

        """)
    }

    func testLogWithoutDatabase() throws {
        let r = try StrataBinary.run(["log", "--db", dir.appendingPathComponent("none.db").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("nothing has been asked yet"), r.stderr)
    }
}

extension PacksAskTests {
    func testEvalQAOnATinyBEIRFolder() throws {
        let beir = dir.appendingPathComponent("beir")
        try FileManager.default.createDirectory(at: beir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("corpus.jsonl"), to: beir.appendingPathComponent("corpus.jsonl"))
        try """
        {"_id": "q1", "text": "How long do card refunds take?", "answerable": true, "answers": ["within 5 working days"], "context_id": "refund-card"}
        {"_id": "q2", "text": "When are cash refunds paid?", "answerable": true, "answers": ["on the same day"], "context_id": "refund-cash"}
        {"_id": "q3", "text": "Who founded the visitor parking office?", "answerable": false, "answers": [], "context_id": "refund-cash"}
        """.write(to: beir.appendingPathComponent("queries.jsonl"), atomically: true, encoding: .utf8)
        let r = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(o["questions"] as? Int, 3)
        XCTAssertEqual(o["recall_at_k"] as? Double, 1)
        XCTAssertEqual(o["refusal_recall"] as? Double, 1)
        XCTAssertEqual(o["citation_accuracy"] as? Double, 1)
        let f1 = try XCTUnwrap(o["answerable_f1"] as? Double)
        XCTAssertGreaterThan(f1, 0.3); XCTAssertLessThan(f1, 1)
        XCTAssertEqual(o["refused_with_citation"] as? Int, 0)
        XCTAssertEqual(o["layers"] as? String, "gate+prompt+support-check+agreement")
        let byLayer = try XCTUnwrap(o["refused_by"] as? [String: [String: Int]])
        XCTAssertEqual(byLayer.values.reduce(0) { $0 + $1["to_refuse"]! }, 1, "\(byLayer)")

        // --records: a second run resumes from the file and gives the same figures; a partial last
        // line (a run killed mid-write) is dropped and that question asked again; another run's
        // options are refused rather than mixed into one table.
        let records = dir.appendingPathComponent("qa.jsonl").path
        let first = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records])
        XCTAssertEqual(first.status, 0, first.stderr)
        XCTAssertTrue(first.stdout.contains("refused_with_citation  0"), first.stdout)
        XCTAssertTrue(first.stdout.contains("refusals by layer"), first.stdout)
        var lines = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertTrue(lines[0].hasPrefix("{\"run\":"), String(lines[0]))
        // Records are committed (bench/results/qa) so a table outlives a session: they name a
        // question by its id and never copy the dataset's text.
        XCTAssertFalse(lines.contains { $0.contains("How long do card refunds") || $0.contains("\"question\"") }, lines.joined(separator: "\n"))
        try (lines.prefix(3).joined(separator: "\n") + "\n" + lines[3].prefix(20)).write(toFile: records, atomically: true, encoding: .utf8)
        let again = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("2 of 3 questions already in"), again.stderr)
        func figures(_ out: String) -> [Substring] { out.split(separator: "\n").filter { !$0.contains("seconds_per_question") } }
        XCTAssertEqual(figures(again.stdout), figures(first.stdout))
        lines = try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        let recorded = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records"])
        XCTAssertEqual(recorded.status, 0, recorded.stderr)
        XCTAssertTrue(recorded.stderr.contains("figures of the 3 of 3 questions recorded so far"), recorded.stderr)
        XCTAssertEqual(figures(recorded.stdout), figures(first.stdout))
        // The sample is a prefix of the seeded shuffle: the first two of the three recorded.
        let prefix = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records", "--limit", "2"])
        XCTAssertEqual(prefix.status, 0, prefix.stderr)
        XCTAssertTrue(prefix.stderr.contains("figures of the 2 of 2 questions recorded so far"), prefix.stderr)
        // --from-records only reads: a partial last line (a run still writing) is skipped, not cut.
        let writing = dir.appendingPathComponent("writing.jsonl").path
        let partial = try String(contentsOfFile: records, encoding: .utf8) + "{\"answer\":\"The sou"
        try partial.write(toFile: writing, atomically: true, encoding: .utf8)
        let reading = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", writing, "--from-records"])
        XCTAssertEqual(reading.status, 0, reading.stderr)
        XCTAssertEqual(try String(contentsOfFile: writing, encoding: .utf8), partial)

        // --paired: this run minus the same sample without refusal layers, question by question.
        let off = dir.appendingPathComponent("off.jsonl").path
        let offRun = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", off, "--no-refusal", "--json"])
        XCTAssertEqual(offRun.status, 0, offRun.stderr)
        let pairedRun = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records", "--paired", off, "--json"])
        XCTAssertEqual(pairedRun.status, 0, pairedRun.stderr)
        let on = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(pairedRun.stdout.utf8)) as? [String: Any])
        let offFigures = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(offRun.stdout.utf8)) as? [String: Any])
        let paired = try XCTUnwrap(on["paired"] as? [String: Any])
        XCTAssertEqual(paired["layers"] as? String, "none")
        let overall = try XCTUnwrap(paired["overall_f1"] as? [String: Any])
        XCTAssertEqual(overall["questions"] as? Int, 3)
        let difference = try XCTUnwrap(overall["difference"] as? Double)
        XCTAssertEqual(difference, (on["overall_f1"] as! Double) - (offFigures["overall_f1"] as! Double), accuracy: 1e-9)
        XCTAssertLessThanOrEqual(overall["ci95_low"] as! Double, difference)
        XCTAssertGreaterThanOrEqual(overall["ci95_high"] as! Double, difference)
        XCTAssertEqual((paired["answerable_f1"] as? [String: Any])?["questions"] as? Int, 2)
        let text = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records", "--paired", off])
        XCTAssertTrue(text.stdout.contains("95% paired-bootstrap interval"), text.stdout)
        XCTAssertTrue(text.stdout.contains(": 3 questions (") && text.stdout.contains("  2 questions"), text.stdout)
        let one = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records", "--paired", off, "--limit", "1"])
        XCTAssertTrue(one.stdout.contains(": 1 question (") && !one.stdout.contains("1 questions"), one.stdout)
        let notPaired = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--paired", off])
        XCTAssertEqual(notPaired.status, 64)
        XCTAssertTrue(notPaired.stderr.contains("--paired needs --from-records"), notPaired.stderr)
        // --also-off: one process asks each question with the layers on, then off, into two files
        // that read back like the two separate runs.
        let (jointOn, jointOff) = (dir.appendingPathComponent("joint-on.jsonl").path, dir.appendingPathComponent("joint-off.jsonl").path)
        let joint = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", jointOn, "--also-off", jointOff])
        XCTAssertEqual(joint.status, 0, joint.stderr)
        XCTAssertEqual(figures(joint.stdout), figures(first.stdout))
        let jointOffFigures = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", jointOff, "--from-records", "--no-refusal"])
        let separateOffFigures = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", off, "--from-records", "--no-refusal"])
        XCTAssertEqual(jointOffFigures.status, 0, jointOffFigures.stderr)
        XCTAssertEqual(figures(jointOffFigures.stdout), figures(separateOffFigures.stdout))
        let resumedJoint = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", jointOn, "--also-off", jointOff])
        XCTAssertTrue(resumedJoint.stderr.contains("3 of 3 questions already in \(jointOff)"), resumedJoint.stderr)
        XCTAssertEqual(try String(contentsOfFile: jointOff, encoding: .utf8).split(separator: "\n").count, 4, "nothing asked twice")
        let alsoOffAlone = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--also-off", jointOff, "--no-refusal", "--records", jointOn])
        XCTAssertEqual(alsoOffAlone.status, 64)
        XCTAssertTrue(alsoOffAlone.stderr.contains("--also-off FILE goes with --records FILE"), alsoOffAlone.stderr)

        let otherSample = dir.appendingPathComponent("seed3.jsonl").path
        XCTAssertEqual(try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", otherSample, "--seed", "3", "--no-refusal"]).status, 0)
        let mismatched = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--from-records", "--paired", otherSample])
        XCTAssertEqual(mismatched.status, 1)
        XCTAssertTrue(mismatched.stderr.contains("not the same sample (seed: 3 in the file, 1 now)"), mismatched.stderr)

        let other = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", records, "--seed", "2"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("seed: 1 in the file, 2 now"), other.stderr)

        // Answers of another pipeline revision are another run; a file from before revisions were
        // recorded was written by revision 1, so it is one too.
        let revision = 4   // KnowledgeQA.revision (these tests run the binary and link no module)
        let now = "\"pipeline\":\(revision)"
        let header = try XCTUnwrap(try String(contentsOfFile: records, encoding: .utf8).split(separator: "\n").first)
        XCTAssertTrue(header.contains(now), String(header))
        for (name, edit, was) in [("rev0.jsonl", "\"pipeline\":0", 0), ("unversioned.jsonl", "", 1)] {
            let path = dir.appendingPathComponent(name).path
            var text = try String(contentsOfFile: records, encoding: .utf8).replacingOccurrences(of: now, with: edit)
            text = text.replacingOccurrences(of: ",,", with: ",")   // the field sits between two others (sorted keys)
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let resumed = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--records", path])
            XCTAssertEqual(resumed.status, 1, resumed.stderr)
            XCTAssertTrue(resumed.stderr.contains("pipeline: \(was) in the file, \(revision) now"), resumed.stderr)
        }

        // An edited template is another run too: records name the pack's digest.
        let packs = dir.appendingPathComponent("packs")
        try FileManager.default.createDirectory(at: packs, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: StrataBinary.root.appendingPathComponent("Prompts/kb-qa"), to: packs.appendingPathComponent("kb-qa"))
        let copied = dir.appendingPathComponent("copy.jsonl").path
        let packArgs = ["eval", "qa", "--beir", beir.path, "--records", copied, "--packs", packs.path]
        XCTAssertEqual(try StrataBinary.run(packArgs).status, 0)
        let user = packs.appendingPathComponent("kb-qa/user.md")
        try (try String(contentsOf: user, encoding: .utf8) + "Be brief.\n").write(to: user, atomically: true, encoding: .utf8)
        let edited = try StrataBinary.run(packArgs)
        XCTAssertEqual(edited.status, 1)
        XCTAssertTrue(edited.stderr.contains("packDigest"), edited.stderr)

        let bad = try StrataBinary.run(["eval", "qa", "--beir", dir.appendingPathComponent("none").path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("queries.jsonl"), bad.stderr)

        // The gate calibration: at the shipped 0.3 both answerable questions pass and the third is
        // refused; a stricter threshold never lets more through nor refuses less.
        let sweep = try StrataBinary.run(["eval", "qa", "--beir", beir.path, "--gate-sweep", "--json"])
        XCTAssertEqual(sweep.status, 0, sweep.stderr)
        XCTAssertTrue(sweep.stdout.contains("best balance: min_coverage"), sweep.stdout)
        let json = try XCTUnwrap(sweep.stdout.split(separator: "\n").last)
        let rows = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])?["sweep"] as? [[String: Double]])
        XCTAssertEqual(rows.count, 19)
        let at30 = try XCTUnwrap(rows.first { abs($0["threshold"]! - 0.3) < 1e-9 })
        XCTAssertEqual(at30["answerable_passed"], 1)
        XCTAssertEqual(at30["refusal_recall"], 1)
        for (a, b) in zip(rows, rows.dropFirst()) {
            XCTAssertGreaterThanOrEqual(a["answerable_passed"]!, b["answerable_passed"]!)
            XCTAssertLessThanOrEqual(a["refusal_recall"]!, b["refusal_recall"]!)
        }
    }
}

extension PacksAskTests {
    /// The real knowledge store end to end: an outsider never gets HR's passage, HR does.
    func testAskOverIngestedKnowledgeRespectsGroups() throws {
        let kb = dir.appendingPathComponent("Knowledge")
        try FileManager.default.createDirectory(at: kb.appendingPathComponent("hr"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: kb.appendingPathComponent("policies"), withIntermediateDirectories: true)
        try "# Refunds\n\n## Card refunds\n\nCard refunds are returned to the original card within 5 working days.\n"
            .write(to: kb.appendingPathComponent("policies/refunds.md"), atomically: true, encoding: .utf8)
        try "# Salaries\n\n## Bands\n\nThe salary band for senior engineers is 90000 to 120000 EUR.\n"
            .write(to: kb.appendingPathComponent("hr/salaries.md"), atomically: true, encoding: .utf8)
        let db = ["--db", dir.appendingPathComponent("k.db").path]
        XCTAssertEqual(try StrataBinary.run(["ingest", "Knowledge/policies"] + db, cwd: dir).status, 0)
        XCTAssertEqual(try StrataBinary.run(["ingest", "Knowledge/hr", "--groups", "hr"] + db, cwd: dir).status, 0)
        let q = "What is the salary band for senior engineers?"
        let outsider = try StrataBinary.run(["ask", q, "--model", "extractive", "--as", "staff", "--json"] + db, cwd: dir)
        XCTAssertEqual(outsider.status, 0, outsider.stderr)
        // Not "90000" alone: a timing such as 0.000090000 could contain it.
        XCTAssertFalse(outsider.stdout.contains("120000 EUR"), outsider.stdout)
        XCTAssertFalse(outsider.stdout.contains("salaries.md"), outsider.stdout)
        XCTAssertTrue(outsider.stdout.contains("\"refused\" : true"), outsider.stdout)
        let hr = try StrataBinary.run(["ask", q, "--model", "extractive", "--as", "hr"] + db, cwd: dir)
        XCTAssertEqual(hr.status, 0, hr.stderr)
        XCTAssertTrue(hr.stdout.contains("[1] Knowledge/hr/salaries.md › Salaries > Bands (lines 5–5)"), hr.stdout)
        // The log applies the same rules: HR's answer drew on an HR document.
        let log = try StrataBinary.run(["log", "--json", "--as", "hr"] + db, cwd: dir)
        XCTAssertEqual(log.stdout.split(separator: "\n").count, 2, log.stdout)
        let outsiderLog = try StrataBinary.run(["log", "--json"] + db, cwd: dir)
        XCTAssertEqual(outsiderLog.stdout.split(separator: "\n").count, 1, outsiderLog.stdout)
        XCTAssertFalse(outsiderLog.stdout.contains("120000 EUR"), outsiderLog.stdout)
    }
}
