import Foundation
import Tensor

/// Multinomial logistic regression over sparse TF-IDF vectors, trained in Swift with AdaGrad one
/// example at a time. Only the weights of the features an utterance holds are touched, so an
/// epoch over BANKING77's 10,003 utterances costs about a second however large the vocabulary.
struct SparseSoftmax: Sendable {
    let classes: Int
    let features: Int
    /// (features, classes), feature-major: the weights of one feature are contiguous, which is
    /// the order both scoring and the sparse update walk them in.
    let weights: [Float]
    let bias: [Float]

    struct Options: Sendable {
        var epochs = 12
        var learningRate: Float = 0.4
        /// L2 penalty, applied to the weights an example touches.
        var l2: Float = 1e-5
        var seed: UInt64 = 7
    }

    init(_ x: [SparseVector], labels: [Int], classes: Int, features: Int, options: Options = .init()) {
        self.classes = classes; self.features = features
        var w = [Float](repeating: 0, count: features * classes), b = [Float](repeating: 0, count: classes)
        var gw = [Float](repeating: 1e-6, count: features * classes), gb = [Float](repeating: 1e-6, count: classes)
        var order = Array(x.indices)
        var rng = SplitMix64(seed: options.seed)
        var logits = [Float](repeating: 0, count: classes)
        let lr = options.learningRate, l2 = options.l2
        for _ in 0..<options.epochs {
            order.shuffle(using: &rng)
            for n in order {
                let v = x[n]
                Self.logits(v, w, b, classes, into: &logits)
                let p = softmax(logits)
                w.withUnsafeMutableBufferPointer { wp in
                    gw.withUnsafeMutableBufferPointer { gp in
                        for (k, f) in v.indices.enumerated() {
                            let xv = v.values[k], base = Int(f) * classes
                            for c in 0..<classes {
                                let g = (p[c] - (c == labels[n] ? 1 : 0)) * xv + l2 * wp[base + c]
                                gp[base + c] += g * g
                                wp[base + c] -= lr * g / gp[base + c].squareRoot()
                            }
                        }
                    }
                }
                for c in 0..<classes {
                    let g = p[c] - (c == labels[n] ? 1 : 0)
                    gb[c] += g * g
                    b[c] -= lr * g / gb[c].squareRoot()
                }
            }
        }
        weights = w; bias = b
    }

    /// Class probabilities of `v`.
    func probabilities(_ v: SparseVector) -> [Float] {
        var logits = [Float](repeating: 0, count: classes)
        Self.logits(v, weights, bias, classes, into: &logits)
        return softmax(logits)
    }

    private static func logits(_ v: SparseVector, _ w: [Float], _ b: [Float], _ classes: Int, into out: inout [Float]) {
        for c in 0..<classes { out[c] = b[c] }
        w.withUnsafeBufferPointer { wp in
            for (k, f) in v.indices.enumerated() {
                let xv = v.values[k], base = Int(f) * classes
                for c in 0..<classes { out[c] += xv * wp[base + c] }
            }
        }
    }
}
