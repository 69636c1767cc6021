import Foundation
import Tensor
import Assistant
import Evaluation
import Runtime

struct EvalQACommand: CLICommand {
    static let name = "eval qa"
    static let summary = "measure answers, refusals and citations on a BEIR Q&A folder"
    static let usage = """
    Usage: strata eval qa --beir DIR [--limit N] [--seed S] [--holdout F] [--no-refusal] [--model PATH|extractive | --llm-url URL] [--records FILE]
           strata eval qa --beir DIR [...] --records FILE --also-off OFF
           strata eval qa --beir DIR [...] --records FILE --from-records [--paired OTHER]
           strata eval qa --beir DIR --gate-sweep [--limit N] [--seed S] [--holdout F]

    DIR holds corpus.jsonl and queries.jsonl (with answerable / answers / context_id, as in
    ../shared/datasets/squad2-dev/beir and cmrc2018-dev/beir). --holdout F leaves a share F of the
    passages out of the index: their questions become refusal cases (for datasets, like CMRC 2018,
    that have no unanswerable questions). Reports retrieval Recall@k of the gold passage, EM/F1
    (SQuAD normalisation, per character for Chinese), refusal precision/recall/F1, SQuAD 2.0
    overall EM/F1, citation accuracy and seconds per question, then which refusal layer made each
    refusal (and how many of those were questions to refuse) and the number of refusals printed
    with a citation, which must be 0. Nothing is written to the audit log.

    --records FILE keeps one line per question (its outcome and answer) and resumes from it: run the
    same command again after an interruption and only the missing questions are asked. A 1.5B model
    takes ~1 minute a question on 2 cores, so a 300-question table is a multi-hour run.
    --from-records prints the figures of the questions recorded so far and asks nothing; with
    --threads 1, a run with and one without the refusal layers advance side by side. The sample
    is a seeded shuffle cut to --limit, so a file can grow from --limit 100 to 300, and
    --from-records --limit 100 prints the first 100 of a longer run. With --paired OTHER (the
    records of the same sample with other refusal layers, e.g. --no-refusal) it also prints this
    run minus the other on the questions both answered: overall EM and F1 and answerable F1, each
    with a 95% paired-bootstrap interval, so "on beats off" comes with its uncertainty.

    --also-off OFF asks every question a second time right after, with the refusal layers off,
    and records that run in OFF (as --no-refusal --records OFF would). The two prompts differ only
    where the pack puts its refusal rule, and the engine reuses the keys and values of everything
    before it, so the pair costs little more than one run when the rule comes after the sources.
    OFF's seconds per question are then those of the second, shorter evaluation.

    --gate-sweep calibrates refusal layer 1 without a model: it retrieves for every question and
    prints, per coverage threshold, the share of answerable questions the gate lets through and
    its refusal precision / recall / F1 on the questions to refuse, then the threshold with the
    best balance (Youden's J: refusal recall minus the share of answerable questions refused).
    """
    static let options: [OptionSpec] = [
        .value("beir", "DIR", "the BEIR folder"),
        .value("limit", "N", "questions to sample (default 200)"),
        .value("seed", "S", "sampling seed (default 1)"),
        .value("holdout", "F", "share of passages left out of the index, 0…0.9 (default 0)"),
        .flag("no-refusal", "switch off all three refusal layers"),
        .flag("no-gate", "switch off refusal layer 1 (evidence gate)"),
        .flag("no-support-check", "switch off refusal layer 3 (support check)"),
        .value("model", "PATH", "GGUF model or 'extractive' (default: $STRATA_MODEL)"),
        .value("pack", "NAME", "prompt pack (default kb-qa)"),
        packsOption,
        .value("k", "N", "passages per question (default: the pack's)"),
        .flag("json", "print the figures as JSON"),
        .value("records", "FILE", "one JSON line per question; resume from it when it exists"),
        .flag("from-records", "print the figures of the questions in --records FILE, ask nothing"),
        .value("paired", "FILE", "with --from-records: this run minus another run's records on the same questions, with 95% intervals"),
        .value("also-off", "FILE", "ask each question again with the refusal layers off, right after, and record that run in FILE"),
        .value("threads", "N", "threads for the model (default 2)"),
        .flag("gate-sweep", "calibrate the evidence gate: retrieval only, every coverage threshold 0–0.9"),
        .value("min-coverage", "X", "override the pack's evidence-gate coverage threshold (for calibration)"),
        .value("min-evidence", "X", "override the pack's evidence-gate score threshold (for calibration)"),
        EmbedderOption.spec,
        .flag("no-embedder", "lexical support check only (no sentence encoder)"),
    ] + ServerOptions.llm + ServerOptions.embedder

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard let dir = args.value("beir") else { throw CLIError.usage("--beir DIR is required", command: name) }
        let limit = try args.int("limit", default: 200)
        let seed = try args.int("seed", default: 1)
        let holdout = try args.double("holdout", default: 0)
        guard limit > 0 else { throw CLIError.usage("--limit must be positive", command: name) }
        guard (0...0.9).contains(holdout) else { throw CLIError.usage("--holdout takes a share between 0 and 0.9", command: name) }
        let sample = try QASample.load(dir, limit: limit, seed: seed, holdout: holdout)
        let queries = sample.questions
        if args.has("gate-sweep") { return try gateSweep(sample, args: args, dir: dir) }
        var pack = try AssistantWiring.pack(args)
        if let c = try args.optionalDouble("min-coverage") {
            guard (0...1).contains(c) else { throw CLIError.usage("--min-coverage takes a share between 0 and 1", command: name) }
            pack.retrieval.minCoverage = c
        }
        if let e = try args.optionalDouble("min-evidence") { pack.retrieval.minEvidence = e }
        let threads = try args.int("threads", default: 2)
        guard (1...64).contains(threads) else { throw CLIError.usage("--threads takes 1 to 64", command: name) }
        let fromRecords = args.has("from-records")
        if fromRecords, args.value("records") == nil { throw CLIError.usage("--from-records needs --records FILE", command: name) }
        if args.value("paired") != nil, !fromRecords { throw CLIError.usage("--paired needs --from-records (it compares recorded runs)", command: name) }
        if args.value("also-off") != nil, fromRecords || args.has("no-refusal") || args.value("records") == nil {
            throw CLIError.usage("--also-off FILE goes with --records FILE, without --from-records and --no-refusal", command: name)
        }
        // A run being resumed keeps the prompt arithmetic its records were made with: the two
        // round differently, and a table must come from one. (An unreadable file is reported below.)
        var arithmetic = PromptArithmetic.standard
        if !fromRecords, let path = args.value("records"), let recorded = try? RecordsFile.read(path),
           let a = recorded.run.arithmetic.flatMap(PromptArithmetic.init(rawValue:)), a != arithmetic {
            arithmetic = a
            printErr("eval qa: \(path) was recorded with the \(a.rawValue) prompt arithmetic — resuming with it")
        }
        // Without a model chosen (--model, $STRATA_MODEL, the config file, or a model server),
        // the extractive baseline.
        let generator = args.runtime.configuration.model == nil && args.runtime.configuration.llmURL == nil
            ? try args.runtime.generator(model: "extractive")
            : try AssistantWiring.generator(args, threads: threads, arithmetic: arithmetic)
        let qa = KnowledgeQA(pack: pack, retriever: sample.retriever, generator: generator,
                             embedder: try AssistantWiring.embedder(args))
        var options = AskOptions()
        options.k = try args.optionalInt("k")
        options.layers = args.has("no-refusal") ? .none : AssistantWiring.layers(args)
        var offOptions = options
        offOptions.layers = .none

        var run = RecordsFile.Run(beir: dir, seed: seed, holdout: holdout, model: qa.generator.modelID,
                                  pack: qa.pack.name, packDigest: RecordsFile.digest(of: qa.pack), k: options.k ?? qa.pack.retrieval.k,
                                  layers: options.layers.description, minCoverage: qa.pack.retrieval.minCoverage,
                                  minEvidence: qa.pack.retrieval.minEvidence, pipeline: KnowledgeQA.revision,
                                  // The extractive baseline and a model server have no prompt arithmetic of
                                  // ours; their files keep the label every file had before the field
                                  // existed, so any of them resumes.
                                  arithmetic: (qa.generator is LLMGenerator ? arithmetic : .rowExact).rawValue)
        var records: RecordsFile? = nil, offRecords: RecordsFile? = nil
        var done: [String: QAMetrics.Outcome] = [:]
        if fromRecords, let path = args.value("records") {
            // Only read: the file may belong to a run still writing it.
            let recorded = try RecordsFile.read(path)
            // Printing computes nothing: the thread count of this command does not matter.
            run.arithmetic = recorded.run.arithmetic
            guard recorded.run == run else {
                throw CLIError.failed("\(path) holds another run (\(RecordsFile.differences(recorded.run, run))) — repeat that run's options")
            }
            done = recorded.done
        } else if let path = args.value("records") {
            let file = try RecordsFile(path: path, run: run)
            records = file
            done = file.done
            if !done.isEmpty { printErr("eval qa: \(done.count) of \(counted(queries.count, "question")) already in \(path), asking the rest") }
            // The same question without refusal layers, asked right after: the two prompts differ
            // only where the refusal rule is, so the engine reuses everything before it.
            if let offPath = args.value("also-off") {
                var offRun = run
                offRun.layers = offOptions.layers.description
                offRecords = try RecordsFile(path: offPath, run: offRun)
                if let n = offRecords?.done.count, n > 0 { printErr("eval qa: \(n) of \(counted(queries.count, "question")) already in \(offPath)") }
            }
        }

        var outcomes: [QAMetrics.Outcome] = []
        for (i, q) in queries.enumerated() {
            defer { if (i + 1) % 50 == 0 { printErr("eval qa: \(i + 1)/\(queries.count)") } }
            if let d = done[q.id] { outcomes.append(d) }
            else if !fromRecords {
                let (outcome, record) = try sample.evaluate(q, with: qa, options: options)
                outcomes.append(outcome)
                try records?.append(record)
            }
            if let offRecords, offRecords.done[q.id] == nil {
                try offRecords.append(try sample.evaluate(q, with: qa, options: offOptions).1)
            }
        }
        if fromRecords {
            guard !outcomes.isEmpty else { throw CLIError.failed("\(args.value("records")!) holds no question of this run yet — run without --from-records first") }
            printErr("eval qa: figures of the \(outcomes.count) of \(counted(queries.count, "question")) recorded so far")
        }
        let s = QAMetrics.summarize(outcomes)
        let layers = QAMetrics.Layer.allCases.compactMap { l in s.byLayer[l].map { (l, $0) } }
        let figures: [(String, Double)] = [
            ("recall_at_k", s.recallAtK), ("answerable_em", s.answerableEM), ("answerable_f1", s.answerableF1),
            ("overall_em", s.overallEM), ("overall_f1", s.overallF1), ("refusal_precision", s.refusalPrecision),
            ("refusal_recall", s.refusalRecall), ("refusal_f1", s.refusalF1), ("citation_accuracy", s.citationAccuracy),
            ("seconds_per_question", s.secondsPerQuestion),
        ]
        let paired = try args.value("paired").map { try QASample.pairedFigures(queries.map(\.id), done, otherPath: $0, run: run) }
        if args.has("json") {
            var obj: [String: Any] = Dictionary(uniqueKeysWithValues: figures.map { ($0.0, $0.1) })
            if let paired {
                var p: [String: Any] = ["file": paired.path, "layers": paired.layers]
                for (name, d) in paired.figures {
                    p[name] = ["questions": d.questions, "difference": d.mean, "ci95_low": d.low, "ci95_high": d.high]
                }
                obj["paired"] = p
            }
            obj["questions"] = s.questions; obj["answerable"] = s.answerable; obj["unanswerable"] = s.unanswerable
            obj["model"] = qa.generator.modelID; obj["pack"] = qa.pack.name; obj["holdout"] = holdout; obj["seed"] = seed
            obj["layers"] = options.layers.description
            obj["refused_with_citation"] = s.refusedWithCitation
            obj["refused_by"] = Dictionary(uniqueKeysWithValues: layers.map { ($0.0.rawValue, ["refused": $0.1.refused, "to_refuse": $0.1.toRefuse]) })
            print(String(decoding: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), as: UTF8.self))
            return 0
        }
        print("eval qa on \(dir): \(counted(s.questions, "question")) (\(s.answerable) answerable, \(s.unanswerable) to refuse), model \(qa.generator.modelID), pack \(qa.pack.name), k=\(options.k ?? qa.pack.retrieval.k), refusal layers \(options.layers.description), gate coverage \(qa.pack.retrieval.minCoverage), seed \(seed), holdout \(holdout)")
        for (k, v) in figures {
            print("  \(k.padding(toLength: 22, withPad: " ", startingAt: 0)) \(k == "seconds_per_question" ? String(format: "%.4f", v) : String(format: "%.3f", v))")
        }
        print("  refused_with_citation  \(s.refusedWithCitation)")
        print("  refusals by layer      " + (layers.isEmpty ? "none"
            : layers.map { "\($0.0.rawValue) \($0.1.refused) (\($0.1.toRefuse) to refuse)" }.joined(separator: ", ")))
        if let paired {
            print("  minus \(paired.path) (refusal layers \(paired.layers)) on the questions both answered, with a 95% paired-bootstrap interval:")
            for (name, d) in paired.figures {
                print(String(format: "    %@ %+.3f  [%+.3f, %+.3f]  %@", name.padding(toLength: 20, withPad: " ", startingAt: 0),
                             d.mean, d.low, d.high, counted(d.questions, "question")))
            }
        }
        return 0
    }

    /// Refusal layer 1 alone, at every coverage threshold (`GateSweep`), printed.
    static func gateSweep(_ sample: QASample, args: ParsedArguments, dir: String) throws -> Int32 {
        let pack = try AssistantWiring.pack(args)
        let k = try args.optionalInt("k") ?? pack.retrieval.k
        let sweep = try GateSweep(sample, k: k)
        print("gate sweep on \(dir): \(sweep.questions) questions (\(sweep.answerable) answerable, \(sweep.toRefuse) to refuse), k=\(k), pack \(pack.name) (now min_coverage \(pack.retrieval.minCoverage))")
        print("  threshold  answerable passed  (gold retrieved, passed)  refusal P     R     F1    J")
        for p in sweep.points {
            print(String(format: "  %9.2f  %17.3f  %24.3f  %9.3f %5.3f %5.3f %5.3f", p.threshold, p.answerablePassed,
                         p.goldPassed, p.precision, p.recall, p.f1, p.youdenJ))
        }
        print(String(format: "  best balance: min_coverage %.2f (J %.3f)", sweep.best.threshold, sweep.best.j))
        if args.has("json") {
            let json = sweep.points.map { ["threshold": $0.threshold, "answerable_passed": $0.answerablePassed, "refusal_precision": $0.precision,
                                           "refusal_recall": $0.recall, "refusal_f1": $0.f1, "youden_j": $0.youdenJ] }
            print(String(decoding: try JSONSerialization.data(withJSONObject: ["sweep": json, "best_threshold": sweep.best.threshold], options: [.sortedKeys]), as: UTF8.self))
        }
        return 0
    }
}
