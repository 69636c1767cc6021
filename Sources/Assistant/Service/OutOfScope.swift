import Foundation
import Tensor

/// When an utterance is out of scope: the two best intents are too close (margin), or no example
/// is like it (nearest similarity).
public struct OutOfScopeRule: Sendable, Codable, Equatable {
    public var minMargin: Double
    public var minSimilarity: Double
    public init(minMargin: Double, minSimilarity: Double) { self.minMargin = minMargin; self.minSimilarity = minSimilarity }

    public func isOutOfScope(_ p: IntentPrediction) -> Bool { p.margin < minMargin || p.nearestSimilarity < minSimilarity }
}

/// Chooses an `OutOfScopeRule` on training data alone, by cross-validation that simulates
/// utterances of intents the classifier has never seen: in each fold a share of the intents is
/// held out of training, and that fold's utterances of those intents must come out as out of
/// scope while the others must be classified right. Real out-of-scope utterances (rows labelled
/// `oos` in a training file) join the folds as they are.
///
/// The rule chosen catches as many out-of-scope utterances as it can (recall) while giving up at
/// most `maxAccuracyLoss` of in-scope accuracy (an in-scope utterance rejected counts as an
/// error) against accepting everything: a customer who asks a real question and is told "I don't
/// understand" is served worse than one whose off-topic question gets the list of topics, so
/// in-scope accuracy is the budget and recall is what it buys.
public enum OutOfScopeCalibration {
    public struct Point: Sendable, Codable, Equatable {
        public var rule: OutOfScopeRule
        public var inScopeAccuracy: Double
        public var outOfScopeRecall: Double
        public var outOfScopePrecision: Double
    }

    public static let marginGrid: [Double] = stride(from: 0.0, through: 0.9, by: 0.05).map { $0 }
    public static let similarityGrid: [Double] = [0] + stride(from: 0.3, through: 0.9, by: 0.05).map { $0 }

    /// - Parameters:
    ///   - outOfScope: real out-of-scope utterances (label ignored), spread over the folds.
    ///   - heldOutShare: the share of intents held out of training in each fold.
    ///   - maxAccuracyLoss: how much in-scope accuracy the rule may cost, against no rule.
    /// - Returns: the chosen rule and every rule of the grid with its cross-validated figures.
    public static func calibrate(_ examples: [LabelledVector], outOfScope: [LabelledVector] = [], labelCount: Int,
                                 options: IntentClassifierOptions, folds: Int = 3, heldOutShare: Double = 0.25,
                                 maxAccuracyLoss: Double = 0.05, seed: UInt64 = 11) throws -> (rule: OutOfScopeRule, grid: [Point]) {
        var rng = SplitMix64(seed: seed)
        var fold = [Int](repeating: 0, count: examples.count)
        var byLabel: [Int: [Int]] = [:]
        for (i, e) in examples.enumerated() { byLabel[e.label, default: []].append(i) }
        for l in byLabel.keys.sorted() {
            for (j, i) in byLabel[l]!.shuffled(using: &rng).enumerated() { fold[i] = j % folds }
        }
        let labels = byLabel.keys.sorted()
        let heldOutCount = max(1, Int((Double(labels.count) * heldOutShare).rounded()))
        var outcomes: [(margin: Double, similarity: Double, truth: Int?, predicted: Int)] = []
        for f in 0..<folds {
            let heldOut = Set(labels.shuffled(using: &rng).prefix(heldOutCount))
            let train = examples.indices.filter { fold[$0] != f && !heldOut.contains(examples[$0].label) }.map { examples[$0] }
            guard !train.isEmpty else { continue }
            let c = try IntentClassifier(examples: train, labelCount: labelCount, options: options)
            for i in examples.indices where fold[i] == f {
                let p = c.classify(examples[i].vector, text: examples[i].text)
                outcomes.append((p.margin, p.nearestSimilarity, heldOut.contains(examples[i].label) ? nil : examples[i].label, p.best))
            }
            for (j, o) in outOfScope.enumerated() where j % folds == f {
                let p = c.classify(o.vector, text: o.text)
                outcomes.append((p.margin, p.nearestSimilarity, nil, p.best))
            }
        }
        var grid: [Point] = []
        for m in marginGrid {
            for s in similarityGrid {
                let rule = OutOfScopeRule(minMargin: m, minSimilarity: s)
                var inScope = 0, inRight = 0, oos = 0, oosCaught = 0, rejected = 0
                for o in outcomes {
                    let out = o.margin < m || o.similarity < s
                    if out { rejected += 1 }
                    if let t = o.truth {
                        inScope += 1
                        if !out && o.predicted == t { inRight += 1 }
                    } else {
                        oos += 1
                        if out { oosCaught += 1 }
                    }
                }
                grid.append(Point(rule: rule, inScopeAccuracy: inScope > 0 ? Double(inRight) / Double(inScope) : 0,
                                  outOfScopeRecall: oos > 0 ? Double(oosCaught) / Double(oos) : 0,
                                  outOfScopePrecision: rejected > 0 ? Double(oosCaught) / Double(rejected) : 0))
            }
        }
        // The most recall within the accuracy budget; among equals the better accuracy.
        let floor = grid[0].inScopeAccuracy - maxAccuracyLoss   // grid[0] is the empty rule (0, 0)
        let best = grid.filter { $0.inScopeAccuracy >= floor }.max { a, b in
            a.outOfScopeRecall != b.outOfScopeRecall ? a.outOfScopeRecall < b.outOfScopeRecall : a.inScopeAccuracy < b.inScopeAccuracy
        } ?? grid[0]
        return (best.rule, grid)
    }
}
