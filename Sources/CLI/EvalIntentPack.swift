import Assistant
import Embeddings
import Evaluation
import Foundation

extension EvalIntentCommand {
    /// `strata eval intent --pack NAME`: how well a customer-service pack's own examples separate
    /// its intents, and the out-of-scope rule calibrated on them (cross-validation that holds
    /// intents out, plus any real out-of-scope utterances given with --oos). The figures to
    /// write into the pack's intents.json (`threshold`, `min_similarity`) come from here.
    static func runPack(_ name: String, _ args: ParsedArguments, encoder: SentenceEncoder) throws -> Int32 {
        let pack: ServicePack
        do { pack = try ServicePack(pack: try args.packLibrary.pack(named: name)) } catch {
            throw CLIError.failed("cannot load pack '\(name)': \(error.localizedDescription)")
        }
        let examples = try IntentRouter.examples(pack.catalog, embedder: encoder)
        var options = IntentRouter.packOptions
        let classifier = try IntentClassifier(examples: examples, labelCount: pack.catalog.intents.count, options: options)
        options.sparseWeight = classifier.sparseWeight
        var oos: [LabelledVector] = []
        for f in args.all("oos") {
            let texts = try readLabelled(f, needsCategory: false).map(\.text)
            let vectors = try cachedEmbeddings(texts, encoder: encoder)
            oos += texts.indices.map { LabelledVector(vector: vectors[$0], text: texts[$0], label: 0) }
        }
        let loss = try args.double("accuracy-loss", default: 0.05)
        let c = try OutOfScopeCalibration.calibrate(examples, outOfScope: oos, labelCount: pack.catalog.intents.count,
                                                    options: options, folds: 10, maxAccuracyLoss: loss)
        let current = OutOfScopeRule(minMargin: pack.catalog.threshold, minSimilarity: pack.catalog.minSimilarity)
        // The grid point nearest the pack's current rule, to compare like with like.
        let now = c.grid.min { a, b in
            abs(a.rule.minMargin - current.minMargin) + abs(a.rule.minSimilarity - current.minSimilarity)
                < abs(b.rule.minMargin - current.minMargin) + abs(b.rule.minSimilarity - current.minSimilarity)
        }!
        let chosen = c.grid.first { $0.rule == c.rule }!
        if args.has("json") {
            struct Out: Encodable {
                var pack: String, examples: Int, intents: Int, outOfScopeExamples: Int, sparseWeight: Double
                var sparseWeightCrossValidation: [IntentScorer.Report.WeightAccuracy]
                var current: OutOfScopeCalibration.Point, calibrated: OutOfScopeCalibration.Point
            }
            print(try jsonString(Out(pack: name, examples: examples.count, intents: pack.catalog.intents.count, outOfScopeExamples: oos.count,
                                     sparseWeight: classifier.sparseWeight,
                                     sparseWeightCrossValidation: classifier.sparseWeightAccuracy.map { .init(weight: $0.weight, accuracy: $0.accuracy) },
                                     current: now, calibrated: chosen)))
            return 0
        }
        func describe(_ p: OutOfScopeCalibration.Point) -> String {
            String(format: "threshold %.2f, min_similarity %.2f: in-scope acc %.4f, oos recall %.4f, precision %.4f",
                   p.rule.minMargin, p.rule.minSimilarity, p.inScopeAccuracy, p.outOfScopeRecall, p.outOfScopePrecision)
        }
        print("pack \(name): \(examples.count) examples of \(pack.catalog.intents.count) intents, \(oos.count) out-of-scope utterances")
        print("n-gram weight \(String(format: "%.2f", classifier.sparseWeight)) (3-fold CV: "
              + classifier.sparseWeightAccuracy.map { String(format: "%.2f→%.4f", $0.weight, $0.accuracy) }.joined(separator: " ") + ")")
        print("10-fold cross-validation, a quarter of the intents held out in each fold:")
        print("  pack now    " + describe(now))
        print("  calibrated  " + describe(chosen))
        return 0
    }
}
