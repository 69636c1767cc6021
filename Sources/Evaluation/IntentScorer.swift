import Assistant
import Foundation

/// Accumulates predictions and turns them into accuracy, macro-F1, confusions and, when some
/// intents are held out, out-of-scope precision and recall. `nil` means out of scope.
package struct IntentScorer {
    package let labels: [String]
    private var pairs: [(truth: String?, predicted: String?)] = []

    package init(labels: [String]) { self.labels = labels }

    package mutating func add(truth: String?, predicted: String?) { pairs.append((truth, predicted)) }

    package struct Report: Encodable {
        package var testUtterances: Int
        package var inScopeUtterances: Int
        package var examples: Int
        package var heldOutIntents: Int
        package var accuracy: Double
        package var macroF1: Double
        package var outOfScopePrecision: Double?
        package var outOfScopeRecall: Double?
        package var confused: [Confusion]
        package var trainSeconds: Double
        package var classifyMilliseconds: Double
        package var embedMilliseconds: Double?
        /// both, embedding or ngrams.
        package var features = "both"
        /// The weight of the n-gram model, and its cross-validated accuracy per weight tried.
        package var sparseWeight: Double?
        package var sparseWeightCrossValidation: [WeightAccuracy] = []
        /// The out-of-scope rule applied, and its figures in the cross-validation it was chosen by.
        package var outOfScopeRule: OutOfScopeRule?
        package var calibration: OutOfScopeCalibration.Point?

        package struct Confusion: Encodable { package var truth: String; package var predicted: String; package var count: Int }
        package struct WeightAccuracy: Encodable {
            package var weight: Double; package var accuracy: Double
            package init(weight: Double, accuracy: Double) { self.weight = weight; self.accuracy = accuracy }
        }

        package func text() -> String {
            var s = "test utterances      \(testUtterances) (\(inScopeUtterances) in scope)\n"
            s += "training examples    \(examples)\(heldOutIntents > 0 ? ", \(heldOutIntents) intents held out" : "")\n"
            s += "accuracy (in scope)  \(String(format: "%.4f", accuracy))\n"
            s += "macro-F1 (in scope)  \(String(format: "%.4f", macroF1))\n"
            if let p = outOfScopePrecision, let r = outOfScopeRecall {
                s += "out-of-scope         precision \(String(format: "%.4f", p))  recall \(String(format: "%.4f", r))  (\(testUtterances - inScopeUtterances) utterances)\n"
            }
            s += "features             \(features)"
            if let w = sparseWeight {
                s += ", n-gram weight \(String(format: "%.2f", w))"
                if !sparseWeightCrossValidation.isEmpty {
                    s += " (chosen by 3-fold CV on train: " + sparseWeightCrossValidation.map { String(format: "%.2f→%.4f", $0.weight, $0.accuracy) }.joined(separator: " ") + ")"
                }
            }
            s += "\n"
            if let r = outOfScopeRule {
                s += "out-of-scope rule    margin < \(String(format: "%.2f", r.minMargin)) or nearest similarity < \(String(format: "%.2f", r.minSimilarity))"
                if let c = calibration {
                    s += String(format: " (calibrated on train, CV with held-out intents: in-scope acc %.4f, oos recall %.4f, precision %.4f)", c.inScopeAccuracy, c.outOfScopeRecall, c.outOfScopePrecision)
                } else { s += " (given)" }
                s += "\n"
            }
            s += "training             \(String(format: "%.1f", trainSeconds)) s\n"
            s += "classify             \(String(format: "%.3f", classifyMilliseconds)) ms/utterance"
            if let e = embedMilliseconds { s += " (+ \(String(format: "%.2f", e)) ms to embed)" }
            s += "\n\nmost confused (truth -> predicted, count):\n"
            for c in confused { s += "  \(c.truth) -> \(c.predicted)  \(c.count)\n" }
            return s
        }

        package func json() -> String {
            let e = JSONEncoder(); e.outputFormatting = [.prettyPrinted, .sortedKeys]
            return String(decoding: (try? e.encode(self)) ?? Data(), as: UTF8.self)
        }
    }

    package func report(examples: Int, heldOutIntents: Int, trainSeconds: Double, classifyMilliseconds: Double,
                embedMilliseconds: Double?) -> Report {
        let inScope = pairs.filter { $0.truth != nil }
        let correct = inScope.filter { $0.truth == $0.predicted }.count
        // Macro-F1 over the known intents; an in-scope utterance called out of scope is a miss.
        var tp: [String: Int] = [:], fp: [String: Int] = [:], fn: [String: Int] = [:]
        var confusion: [String: Int] = [:]
        for (t, p) in pairs {
            if t == p { if let t { tp[t, default: 0] += 1 }; continue }
            if let t { fn[t, default: 0] += 1 }
            if let p { fp[p, default: 0] += 1 }
            confusion["\(t ?? "(out of scope)")\t\(p ?? "(out of scope)")", default: 0] += 1
        }
        var f1s: [Double] = []
        for l in labels {
            let a = Double(tp[l] ?? 0), b = Double(fp[l] ?? 0), c = Double(fn[l] ?? 0)
            f1s.append(a == 0 ? 0 : 2 * a / (2 * a + b + c))
        }
        var oosP: Double?, oosR: Double?
        if pairs.contains(where: { $0.truth == nil }) {
            let predictedOut = pairs.filter { $0.predicted == nil }
            let trulyOut = pairs.filter { $0.truth == nil }
            let both = pairs.filter { $0.truth == nil && $0.predicted == nil }.count
            oosP = predictedOut.isEmpty ? 0 : Double(both) / Double(predictedOut.count)
            oosR = trulyOut.isEmpty ? 0 : Double(both) / Double(trulyOut.count)
        }
        let top = confusion.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10).map {
            let parts = $0.key.split(separator: "\t").map(String.init)
            return Report.Confusion(truth: parts[0], predicted: parts[1], count: $0.value)
        }
        return Report(testUtterances: pairs.count, inScopeUtterances: inScope.count, examples: examples,
                      heldOutIntents: heldOutIntents, accuracy: inScope.isEmpty ? 0 : Double(correct) / Double(inScope.count),
                      macroF1: f1s.isEmpty ? 0 : f1s.reduce(0, +) / Double(f1s.count),
                      outOfScopePrecision: oosP, outOfScopeRecall: oosR, confused: Array(top),
                      trainSeconds: trainSeconds, classifyMilliseconds: classifyMilliseconds, embedMilliseconds: embedMilliseconds)
    }
}
