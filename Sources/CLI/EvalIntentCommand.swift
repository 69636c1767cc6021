import Assistant
import Embeddings
import Evaluation
import Foundation
import Tensor
import Knowledge

/// `strata eval intent`: measures the intent classifier on a labelled corpus (BANKING77's
/// `text,category` CSVs), including few-shot and out-of-scope settings.
struct EvalIntentCommand: CLICommand {
    static let name = "eval intent"
    static let summary = "measure intent classification accuracy (text,category CSV)"
    static let usage = """
    Usage: strata eval intent --train FILE --test FILE [--shots N] [--holdout-intents F] [--oos FILE]
                              [--oos-label L] [--seed S] [--json]
           strata eval intent --pack NAME [--oos FILE]

    Embeds every utterance with all-MiniLM-L6-v2 (cached under /tmp), trains the classifier on the
    training file (embedding model + character/word n-gram model, blended with a weight chosen by
    cross-validation on the training file) and reports accuracy, macro-F1, the most confused pairs
    and latency on the test file. --shots N keeps N training examples per intent.

    Out of scope: test rows labelled --oos-label (default oos, as in CLINC150), the rows of every
    --oos FILE (e.g. another domain's utterances), and, with --holdout-intents F, the test rows of
    that share of intents removed from training must come out as out of scope. Unless --threshold
    and --min-similarity are given, the rule is calibrated on the training file by cross-validation
    that holds intents out (never on the test file). Reports out-of-scope precision and recall
    beside in-scope accuracy.

    --pack NAME cross-validates a customer-service pack's own examples instead and prints the
    out-of-scope rule (threshold, min_similarity) calibrated on them.
    """
    static let options: [OptionSpec] = [
        .value("train", "FILE", "training CSV with a header text,category"),
        .value("pack", "NAME", "calibrate a customer-service pack's intents instead of --train/--test"),
        packsOption,
        .value("test", "FILE", "test CSV with the same header"),
        .value("shots", "N", "examples kept per intent (default: all)"),
        .value("holdout-intents", "F", "share of intents removed from training, 0…0.9 (default 0)"),
        .value("oos", "FILE", "CSV (column text) whose rows are all out of scope; repeatable"),
        .value("oos-label", "L", "category that marks an out-of-scope row (default oos)"),
        .value("seed", "S", "seed for sampling shots and held-out intents (default 1)"),
        .value("threshold", "T", "margin between the two best intents below which an utterance is out of scope (default: calibrated)"),
        .value("min-similarity", "S", "cosine to the nearest example below which an utterance is out of scope (default: calibrated)"),
        .value("accuracy-loss", "L", "in-scope accuracy the calibrated out-of-scope rule may give up, 0…0.5 (default 0.05)"),
        .value("features", "F", "both (default), embedding or ngrams"),
        .value("sparse-weight", "W", "weight of the n-gram model, 0…1 (default: chosen by cross-validation)"),
        .value("model", "DIR", "sentence encoder folder (default models/all-MiniLM-L6-v2)"),
        .value("epochs", "N", "logistic-regression epochs (default 40)"),
        .value("regression-weight", "W", "weight of the regression against the kNN vote, 0…1 (default 0.3)"),
        .value("k", "N", "neighbours in the kNN vote (default 10)"),
        .flag("json", "print the figures as JSON"),
    ]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        if let pack = args.value("pack") {
            let dir = args.value("model") ?? "models/all-MiniLM-L6-v2"
            do { return try runPack(pack, args, encoder: try SentenceEncoder(directory: dir)) } catch let e as CLIError { throw e } catch {
                throw CLIError.failed("\(error.localizedDescription)")
            }
        }
        guard let trainPath = args.value("train"), let testPath = args.value("test") else {
            throw CLIError.usage("--train and --test are required", command: name)
        }
        let shots = try args.optionalInt("shots")
        if let s = shots, s < 1 { throw CLIError.usage("--shots must be at least 1, got \(s)", command: name) }
        let holdout = try args.double("holdout-intents", default: 0)
        guard (0...0.9).contains(holdout) else { throw CLIError.usage("--holdout-intents must be within 0…0.9, got \(holdout)", command: name) }
        let seed = UInt64(max(0, try args.int("seed", default: 1)))
        let oosLabel = args.value("oos-label") ?? "oos"
        let featureSet = args.value("features") ?? "both"
        guard ["both", "embedding", "ngrams"].contains(featureSet) else {
            throw CLIError.usage("--features takes both, embedding or ngrams, got '\(featureSet)'", command: name)
        }
        let allTrain = try readLabelled(trainPath)
        let train = allTrain.filter { $0.label != oosLabel }
        let trainOOS = allTrain.filter { $0.label == oosLabel }
        var test = try readLabelled(testPath)
        for f in args.all("oos") { test += try readLabelled(f, needsCategory: false).map { ($0.text, oosLabel) } }

        let modelDir = args.value("model") ?? "models/all-MiniLM-L6-v2"
        let encoder: SentenceEncoder
        do { encoder = try SentenceEncoder(directory: modelDir) } catch {
            throw CLIError.failed("cannot load the sentence encoder from \(modelDir): \(error.localizedDescription) — run the model set-up or pass --model DIR")
        }
        let trainVectors = try cachedEmbeddings(train.map(\.text), encoder: encoder)
        let trainOOSVectors = trainOOS.isEmpty ? [] : try cachedEmbeddings(trainOOS.map(\.text), encoder: encoder)
        let testVectors = try cachedEmbeddings(test.map(\.text), encoder: encoder)

        // Intents, shots and held-out intents, all decided by the seed.
        var rng = SplitMix64(seed: seed)
        let allIntents = Array(Set(train.map(\.label))).sorted()
        let heldOut = Set(allIntents.shuffled(using: &rng).prefix(Int((Double(allIntents.count) * holdout).rounded())))
        let known = allIntents.filter { !heldOut.contains($0) }
        let index = Dictionary(uniqueKeysWithValues: known.enumerated().map { ($1, $0) })
        var byIntent: [Int: [Int]] = [:]
        for (i, row) in train.enumerated() { if let l = index[row.label] { byIntent[l, default: []].append(i) } }
        let useText = featureSet != "embedding"
        // "ngrams" alone: a constant embedding carries no information, and the weight is 1.
        func vector(_ v: [Float]) -> [Float] { featureSet == "ngrams" ? [1] : v }
        var examples: [LabelledVector] = []
        for l in byIntent.keys.sorted() {
            var rows = byIntent[l]!
            if let s = shots { rows.shuffle(using: &rng); rows = Array(rows.prefix(s)) }
            examples += rows.map { LabelledVector(vector: vector(trainVectors[$0]), text: useText ? train[$0].text : nil, label: l) }
        }
        let oosExamples = trainOOS.indices.map { LabelledVector(vector: vector(trainOOSVectors[$0]), text: useText ? trainOOS[$0].text : nil, label: 0) }
        let trainStart = Date()
        var options = IntentClassifierOptions()
        options.epochs = try args.int("epochs", default: options.epochs)
        options.regressionWeight = try args.double("regression-weight", default: options.regressionWeight)
        options.k = try args.int("k", default: options.k)
        options.sparseWeight = featureSet == "ngrams" ? 1 : try args.optionalDouble("sparse-weight")
        guard options.epochs >= 1, options.k >= 1, (0...1).contains(options.regressionWeight), (0...1).contains(options.sparseWeight ?? 0) else {
            throw CLIError.usage("--epochs and --k must be at least 1, --regression-weight and --sparse-weight within 0…1", command: name)
        }
        let classifier = try IntentClassifier(examples: examples, labelCount: known.count, options: options)
        let trainSeconds = Date().timeIntervalSince(trainStart)

        let testStart = Date()
        let predictions = test.indices.map { classifier.classify(vector(testVectors[$0]), text: useText ? test[$0].text : nil) }
        let classifySeconds = Date().timeIntervalSince(testStart) / Double(max(test.count, 1))
        let truths = test.map { heldOut.contains($0.label) || $0.label == oosLabel ? nil : $0.label }
        let measuresOOS = truths.contains(nil)

        // The out-of-scope rule: given, or calibrated on the training file.
        var rule = OutOfScopeRule(minMargin: 0, minSimilarity: 0)
        var calibration: OutOfScopeCalibration.Point?
        if measuresOOS {
            let m = try args.optionalDouble("threshold"), s = try args.optionalDouble("min-similarity")
            if let m, let s { rule = OutOfScopeRule(minMargin: m, minSimilarity: s) } else {
                var fixed = options
                fixed.sparseWeight = classifier.sparseWeight   // chosen once, on all of the training file
                let loss = try args.double("accuracy-loss", default: 0.05)
                guard (0...0.5).contains(loss) else { throw CLIError.usage("--accuracy-loss must be within 0…0.5, got \(loss)", command: name) }
                let c = try OutOfScopeCalibration.calibrate(examples, outOfScope: oosExamples, labelCount: known.count, options: fixed,
                                                            maxAccuracyLoss: loss, seed: seed &+ 11)
                rule = OutOfScopeRule(minMargin: m ?? c.rule.minMargin, minSimilarity: s ?? c.rule.minSimilarity)
                calibration = c.grid.first { $0.rule == c.rule }
            }
        }
        func score(_ rule: OutOfScopeRule) -> IntentScorer {
            var scorer = IntentScorer(labels: known)
            for (t, p) in zip(truths, predictions) {
                scorer.add(truth: t, predicted: measuresOOS && rule.isOutOfScope(p) ? nil : known[p.best])
            }
            return scorer
        }
        if measuresOOS && !args.has("json") {
            // Operating points on the test file, to see the trade-off (the rule was not chosen here).
            print("margin  similarity  in-scope acc  oos precision  oos recall")
            for m in [0.0, 0.2, 0.4, 0.6, 0.8] {
                for sim in [0.0, 0.5, 0.6, 0.7] {
                    let r = score(OutOfScopeRule(minMargin: m, minSimilarity: sim)).report(examples: 0, heldOutIntents: heldOut.count, trainSeconds: 0, classifyMilliseconds: 0, embedMilliseconds: nil)
                    print(String(format: "%6.2f  %10.2f  %12.4f  %13.4f  %10.4f", m, sim, r.accuracy, r.outOfScopePrecision ?? 0, r.outOfScopeRecall ?? 0))
                }
            }
            print("")
        }
        var report = score(rule).report(examples: examples.count, heldOutIntents: heldOut.count, trainSeconds: trainSeconds,
                                        classifyMilliseconds: classifySeconds * 1000,
                                        embedMilliseconds: embedMillisecondsPerUtterance)
        report.features = featureSet
        report.sparseWeight = useText ? classifier.sparseWeight : nil
        report.sparseWeightCrossValidation = classifier.sparseWeightAccuracy.map { .init(weight: $0.weight, accuracy: $0.accuracy) }
        if measuresOOS { report.outOfScopeRule = rule; report.calibration = calibration }
        if args.has("json") { print(report.json()) } else { print(report.text()) }
        return 0
    }

    static func readLabelled(_ path: String, needsCategory: Bool = true) throws -> [(text: String, label: String)] {
        try LabelledUtterances.read(path, needsCategory: needsCategory)
    }

    nonisolated(unsafe) private static var embedMillisecondsPerUtterance: Double?

    /// Embeds `texts` through the cache under /tmp (`EmbeddingCache`).
    static func cachedEmbeddings(_ texts: [String], encoder: SentenceEncoder) throws -> [[Float]] {
        let r = try EmbeddingCache.vectors(texts, modelID: encoder.modelID, dimension: encoder.dimension,
                                           embed: encoder.embedFlat, note: printErr)
        if let ms = r.milliseconds { embedMillisecondsPerUtterance = ms }
        return r.vectors
    }
}
