import Foundation

/// The intent decision for one utterance.
public struct IntentDecision: Sendable, Equatable, Codable {
    /// nil when out of scope.
    public var intent: String?
    /// The best intent even when out of scope (for --explain).
    public var bestGuess: String
    public var confidence: Double
    public var nearestSimilarity: Double
    /// The three best intents with their scores.
    public var top: [ScoredIntent]
    public struct ScoredIntent: Sendable, Equatable, Codable { public var intent: String; public var score: Double }
}

/// Decides the intent with the pack's classifier: the sentence embedding and the utterance's
/// character/word n-grams (which carry Chinese, where the English-trained encoder separates
/// utterances poorly), blended with a weight chosen by cross-validation on the pack's examples.
/// Out of scope when the two best intents are too close (`threshold`) or no example is like the
/// utterance (`min_similarity`, the larger of the embedding and n-gram cosines).
public final class IntentRouter {
    let catalog: IntentCatalog
    let embedder: any TextEmbedder
    let classifier: IntentClassifier

    /// Settings for a pack: ~20 examples per intent, not ~130 as in BANKING77, so fewer
    /// neighbours and more weight on the regression.
    public static var packOptions: IntentClassifierOptions {
        var options = IntentClassifierOptions()
        options.k = 5
        options.regressionWeight = 0.7
        options.epochs = 60
        return options
    }

    /// Every example of every intent (all languages), embedded, labelled by the intent's index.
    public static func examples(_ catalog: IntentCatalog, embedder: any TextEmbedder) throws -> [LabelledVector] {
        var texts: [String] = [], labels: [Int] = []
        for (i, intent) in catalog.intents.enumerated() {
            for lang in intent.examples.keys.sorted() {
                for e in intent.examples[lang]! { texts.append(e); labels.append(i) }
            }
        }
        let vectors = try embedder.embed(texts)
        return texts.indices.map { LabelledVector(vector: vectors[$0], text: texts[$0], label: labels[$0]) }
    }

    public init(catalog: IntentCatalog, embedder: any TextEmbedder) throws {
        self.catalog = catalog
        self.embedder = embedder
        classifier = try IntentClassifier(examples: try Self.examples(catalog, embedder: embedder),
                                          labelCount: catalog.intents.count, options: Self.packOptions)
    }

    public func decide(_ utterance: String) throws -> IntentDecision {
        guard let v = try embedder.embed([utterance]).first else { throw ServiceError.noExamples }
        let p = classifier.classify(v, text: utterance)
        let scores = p.ranked.sorted { $0.label < $1.label }.map(\.score)
        let order = p.ranked.map(\.label)
        let margin = p.margin
        let similarity = p.nearestSimilarity
        let inScope = margin >= catalog.threshold && similarity >= catalog.minSimilarity
        return IntentDecision(intent: inScope ? catalog.intents[order[0]].name : nil,
                              bestGuess: catalog.intents[order[0]].name, confidence: margin, nearestSimilarity: similarity,
                              top: order.prefix(3).map { .init(intent: catalog.intents[$0].name, score: scores[$0]) })
    }
}
