import Foundation
import Tensor

/// One labelled example for the intent classifier: an embedding, the utterance it came from
/// (for the character and word n-gram features; nil leaves them out) and the index of its intent.
public struct LabelledVector: Sendable {
    public var vector: [Float]
    public var text: String?
    public var label: Int
    public init(vector: [Float], text: String? = nil, label: Int) { self.vector = vector; self.text = text; self.label = label }
}

/// The ranked outcome of classifying one utterance.
public struct IntentPrediction: Sendable, Equatable {
    /// Intent indices with blended scores (0…1, summing to 1), best first.
    public var ranked: [(label: Int, score: Double)]
    /// Best score minus the runner-up: small when two intents are equally plausible, which is
    /// when guessing is worse than asking.
    public var margin: Double
    /// The cosine similarity of the nearest example: low when the utterance is unlike any
    /// example, which no softmax can express on its own. The larger of the embedding cosine and
    /// the n-gram (TF-IDF) cosine, so a Chinese utterance is not judged by the English encoder alone.
    public var nearestSimilarity: Double
    /// The confidence compared with the pack's threshold.
    public var confidence: Double

    public var best: Int { ranked[0].label }

    public static func == (a: IntentPrediction, b: IntentPrediction) -> Bool {
        a.ranked.map(\.label) == b.ranked.map(\.label) && a.confidence == b.confidence
    }
}

/// Settings of the classifier; the defaults were chosen on a validation split of the BANKING77
/// training set (see `strata eval intent`), never on its test set.
public struct IntentClassifierOptions: Sendable {
    /// Neighbours voting in the kNN part.
    public var k = 10
    /// Weight of the logistic-regression probabilities against the kNN vote (0…1). 0.3 was
    /// best on a 90/10 split of the BANKING77 training set (0.923 vs 0.883 at 0.7, 0.878 at 1.0).
    public var regressionWeight = 0.3
    public var epochs = 40
    public var learningRate: Float = 0.01
    public var l2: Float = 1e-4
    public var batchSize = 32
    public var seed: UInt64 = 7
    /// Weight of the n-gram (TF-IDF) model against the embedding model, 0…1. nil: chosen by
    /// `crossValidationFolds`-fold cross-validation on the examples among `sparseWeightGrid`,
    /// because what each is worth depends on the language and the data (on SMP2020's Chinese
    /// training set the n-grams alone win; on BANKING77's English one the blend does).
    public var sparseWeight: Double?
    public var sparseWeightGrid: [Double] = [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1]
    public var crossValidationFolds = 3
    var sparse = SparseSoftmax.Options()
    public var sparseEpochs: Int { get { sparse.epochs } set { sparse.epochs = newValue } }
    public var sparseLearningRate: Float { get { sparse.learningRate } set { sparse.learningRate = newValue } }
    public init() {}
}

/// Intent classification on two views of an utterance, blended:
/// - its sentence embedding: a multinomial logistic regression trained in Swift, blended with a
///   similarity-weighted kNN vote over the examples (the encoder stays frozen; the regression
///   adapts the generic space to these intents, kNN keeps a rare intent from being swamped);
/// - its character and word n-grams (`TextFeatures`, TF-IDF) in a sparse logistic regression,
///   which reads Chinese where the English encoder cannot.
public final class IntentClassifier: Sendable {
    public let labelCount: Int
    public let dimension: Int
    public let options: IntentClassifierOptions
    /// The weight of the n-gram model actually used (given, or chosen by cross-validation).
    public let sparseWeight: Double
    /// Cross-validated accuracy per weight tried, when the weight was chosen (for --explain).
    public let sparseWeightAccuracy: [(weight: Double, accuracy: Double)]
    let examples: [Float]         // (n, dim) unit vectors, row-major
    let exampleLabels: [Int]
    let mean: [Float]             // (dim) feature mean, for standardising
    let invStd: [Float]           // (dim)
    let weights: [Float]          // (labels, dim)
    let bias: [Float]             // (labels)
    let features: TextFeatures?
    let sparseModel: SparseSoftmax?
    /// The examples' n-gram vectors as posting lists: feature → (example, value), so the nearest
    /// example is found by touching only the examples that share a gram with the utterance.
    let postings: [[(example: Int32, value: Float)]]

    public init(examples: [LabelledVector], labelCount: Int, options: IntentClassifierOptions = .init()) throws {
        guard let first = examples.first else { throw ServiceError.noExamples }
        let dim = first.vector.count
        for e in examples where e.vector.count != dim || !(0..<labelCount).contains(e.label) {
            throw ServiceError.badExample(detail: "an example has \(e.vector.count) dimensions (expected \(dim)) or label \(e.label) outside 0..<\(labelCount)")
        }
        let texts = examples.compactMap(\.text)
        guard texts.isEmpty || texts.count == examples.count else {
            throw ServiceError.badExample(detail: "\(texts.count) of \(examples.count) examples have their text — give every example its utterance, or none")
        }
        self.labelCount = labelCount; self.dimension = dim; self.options = options
        var flat = [Float](); flat.reserveCapacity(examples.count * dim)
        for e in examples { flat += Self.normalised(e.vector) }
        self.examples = flat
        self.exampleLabels = examples.map(\.label)
        (mean, invStd) = Self.standardisation(flat, n: examples.count, dim: dim)
        (weights, bias) = Self.train(flat, labels: exampleLabels, n: examples.count, dim: dim, classes: labelCount,
                                     mean: mean, invStd: invStd, options: options)
        if texts.isEmpty {
            features = nil; sparseModel = nil; postings = []
            sparseWeight = 0; sparseWeightAccuracy = []
            return
        }
        let f = TextFeatures(training: texts)
        let xs = texts.map(f.vector)
        features = f
        var lists = [[(example: Int32, value: Float)]](repeating: [], count: f.count)
        for (n, x) in xs.enumerated() { for (k, i) in x.indices.enumerated() { lists[Int(i)].append((Int32(n), x.values[k])) } }
        postings = lists
        sparseModel = SparseSoftmax(xs, labels: exampleLabels, classes: labelCount, features: f.count, options: options.sparse)
        if let w = options.sparseWeight {
            sparseWeight = w; sparseWeightAccuracy = []
        } else {
            sparseWeightAccuracy = try Self.crossValidateSparseWeight(examples, labelCount: labelCount, options: options)
            // The best accuracy; among equals the weight nearest an even blend.
            sparseWeight = sparseWeightAccuracy.max { a, b in
                a.accuracy != b.accuracy ? a.accuracy < b.accuracy : abs(a.weight - 0.5) > abs(b.weight - 0.5)
            }!.weight
        }
    }

    /// Scores `vector` (and `text`, when the classifier was trained with texts) against every intent.
    public func classify(_ vector: [Float], text: String? = nil) -> IntentPrediction {
        let (dense, denseNearest) = denseScores(vector)
        var blended = dense
        var nearest = denseNearest
        if let text, let features, let sparseModel {
            let x = features.vector(text)
            let p = sparseModel.probabilities(x)
            let w = sparseWeight
            for c in 0..<labelCount { blended[c] = w * Double(p[c]) + (1 - w) * dense[c] }
            nearest = max(nearest, nearestSparse(x))
        }
        let ranked = blended.enumerated().map { (label: $0.offset, score: $0.element) }.sorted { $0.score > $1.score }
        let margin = ranked[0].score - (ranked.count > 1 ? ranked[1].score : 0)
        return IntentPrediction(ranked: ranked, margin: margin, nearestSimilarity: nearest, confidence: margin)
    }

    /// The n-gram cosine of the example nearest to `x`.
    func nearestSparse(_ x: SparseVector) -> Double {
        var acc: [Int32: Float] = [:]
        for (k, i) in x.indices.enumerated() {
            let v = x.values[k]
            for p in postings[Int(i)] { acc[p.example, default: 0] += v * p.value }
        }
        return Double(acc.values.max() ?? 0)
    }

    /// The embedding model's probabilities (regression blended with the kNN vote) and the
    /// cosine of the nearest example.
    func denseScores(_ vector: [Float]) -> ([Double], Double) {
        let v = Self.normalised(vector)
        // Logistic regression.
        var x = [Float](repeating: 0, count: dimension)
        for d in 0..<dimension { x[d] = (v[d] - mean[d]) * invStd[d] }
        var logits = [Float](repeating: 0, count: labelCount)
        weights.withUnsafeBufferPointer { w in
            x.withUnsafeBufferPointer { xp in
                for c in 0..<labelCount { logits[c] = bias[c] + dot(w.baseAddress! + c * dimension, xp.baseAddress!, dimension) }
            }
        }
        let lr = softmax(logits)
        // kNN over the examples.
        let n = exampleLabels.count
        var sims = [Float](repeating: 0, count: n)
        examples.withUnsafeBufferPointer { e in
            v.withUnsafeBufferPointer { vp in
                for i in 0..<n { sims[i] = dot(e.baseAddress! + i * dimension, vp.baseAddress!, dimension) }
            }
        }
        let order = topIndices(sims, k: min(options.k, n))
        var vote = [Double](repeating: 0, count: labelCount)
        var total = 0.0
        for i in order {
            let w = exp(Double(sims[i]) * 20)     // sharp: the nearest examples dominate
            vote[exampleLabels[i]] += w; total += w
        }
        var blended = [Double](repeating: 0, count: labelCount)
        let a = options.regressionWeight
        for c in 0..<labelCount { blended[c] = a * Double(lr[c]) + (1 - a) * (total > 0 ? vote[c] / total : 0) }
        return (blended, order.first.map { Double(sims[$0]) } ?? 0)
    }

    /// Accuracy of each candidate weight on out-of-fold predictions: each fold is classified by
    /// models trained on the other folds, so the weight is chosen on utterances the models did
    /// not see. Folds are stratified by intent.
    static func crossValidateSparseWeight(_ examples: [LabelledVector], labelCount: Int,
                                          options: IntentClassifierOptions) throws -> [(weight: Double, accuracy: Double)] {
        let folds = max(2, options.crossValidationFolds)
        var rng = SplitMix64(seed: options.seed &+ 101)
        var fold = [Int](repeating: 0, count: examples.count)
        var byLabel: [Int: [Int]] = [:]
        for (i, e) in examples.enumerated() { byLabel[e.label, default: []].append(i) }
        for l in byLabel.keys.sorted() {
            for (j, i) in byLabel[l]!.shuffled(using: &rng).enumerated() { fold[i] = j % folds }
        }
        var sub = options
        sub.sparseWeight = 1   // no nested cross-validation; both parts are read separately below
        var correct = [Int](repeating: 0, count: options.sparseWeightGrid.count)
        for f in 0..<folds {
            let train = examples.indices.filter { fold[$0] != f }.map { examples[$0] }
            let test = examples.indices.filter { fold[$0] == f }
            guard !train.isEmpty, !test.isEmpty else { continue }
            let c = try IntentClassifier(examples: train, labelCount: labelCount, options: sub)
            for i in test {
                let dense = c.denseScores(examples[i].vector).0
                let sparse = c.sparseModel!.probabilities(c.features!.vector(examples[i].text!))
                for (g, w) in options.sparseWeightGrid.enumerated() {
                    var best = 0, bestScore = -1.0
                    for k in 0..<labelCount {
                        let s = w * Double(sparse[k]) + (1 - w) * dense[k]
                        if s > bestScore { bestScore = s; best = k }
                    }
                    if best == examples[i].label { correct[g] += 1 }
                }
            }
        }
        return zip(options.sparseWeightGrid, correct).map { (weight: $0, accuracy: Double($1) / Double(examples.count)) }
    }

    static func normalised(_ v: [Float]) -> [Float] {
        var s: Float = 0
        for x in v { s += x * x }
        let inv = s > 0 ? 1 / s.squareRoot() : 0
        return v.map { $0 * inv }
    }

    static func standardisation(_ x: [Float], n: Int, dim: Int) -> ([Float], [Float]) {
        var mean = [Float](repeating: 0, count: dim), sq = [Float](repeating: 0, count: dim)
        for i in 0..<n { for d in 0..<dim { let v = x[i * dim + d]; mean[d] += v; sq[d] += v * v } }
        var inv = [Float](repeating: 1, count: dim)
        for d in 0..<dim {
            mean[d] /= Float(n)
            let variance = max(sq[d] / Float(n) - mean[d] * mean[d], 1e-8)
            inv[d] = 1 / variance.squareRoot()
        }
        return (mean, inv)
    }
}

/// Dot product of two float runs, eight lanes at a time.
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD8<Float>()
    var i = 0
    while i + 8 <= n {
        let x = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self)
        let y = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
        acc = acc.addingProduct(x, y)
        i += 8
    }
    var s = acc.sum()
    while i < n { s += a[i] * b[i]; i += 1 }
    return s
}

func softmax(_ logits: [Float]) -> [Float] {
    let m = logits.max() ?? 0
    var e = logits.map { Foundation.exp($0 - m) }
    let s = e.reduce(0, +)
    for i in e.indices { e[i] /= s }
    return e
}

/// Indices of the `k` largest values, largest first.
func topIndices(_ values: [Float], k: Int) -> [Int] {
    guard k > 0 else { return [] }
    var best: [Int] = []
    for i in values.indices {
        if best.count < k { best.append(i); best.sort { values[$0] > values[$1] }; continue }
        if values[i] > values[best[k - 1]] {
            best[k - 1] = i
            var j = k - 1
            while j > 0 && values[best[j]] > values[best[j - 1]] { best.swapAt(j, j - 1); j -= 1 }
        }
    }
    return best
}
