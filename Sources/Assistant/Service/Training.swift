import Foundation
import Tensor

extension IntentClassifier {
    /// Trains the multinomial logistic regression with mini-batch Adam on standardised
    /// features. Deterministic for a given seed, so evaluations are reproducible.
    static func train(_ x: [Float], labels: [Int], n: Int, dim: Int, classes: Int, mean: [Float], invStd: [Float],
                      options: IntentClassifierOptions) -> ([Float], [Float]) {
        // Standardised copy of the inputs: (n, dim).
        var xs = [Float](repeating: 0, count: n * dim)
        for i in 0..<n { for d in 0..<dim { xs[i * dim + d] = (x[i * dim + d] - mean[d]) * invStd[d] } }
        var w = [Float](repeating: 0, count: classes * dim)      // (classes, dim)
        var b = [Float](repeating: 0, count: classes)
        var mw = w, vw = w, mb = b, vb = b
        var gw = [Float](repeating: 0, count: classes * dim), gb = [Float](repeating: 0, count: classes)
        var rng = SplitMix64(seed: options.seed)
        var order = Array(0..<n)
        let beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8
        var step: Float = 0
        var logits = [Float](repeating: 0, count: classes)
        for _ in 0..<options.epochs {
            order.shuffle(using: &rng)
            var start = 0
            while start < n {
                let batch = order[start..<min(start + options.batchSize, n)]
                start += options.batchSize
                for j in gw.indices { gw[j] = 0 }
                for j in gb.indices { gb[j] = 0 }
                xs.withUnsafeBufferPointer { xp in
                    w.withUnsafeBufferPointer { wp in
                        gw.withUnsafeMutableBufferPointer { gp in
                            for i in batch {
                                let xi = xp.baseAddress! + i * dim
                                for c in 0..<classes { logits[c] = b[c] + dot(wp.baseAddress! + c * dim, xi, dim) }
                                let p = softmax(logits)
                                for c in 0..<classes {
                                    let g = p[c] - (c == labels[i] ? 1 : 0)
                                    gb[c] += g
                                    if abs(g) < 1e-6 { continue }
                                    let row = gp.baseAddress! + c * dim
                                    for d in 0..<dim { row[d] += g * xi[d] }
                                }
                            }
                        }
                    }
                }
                step += 1
                let scale = 1 / Float(batch.count)
                let c1 = 1 - pow(beta1, step), c2 = 1 - pow(beta2, step)
                let lr = options.learningRate
                for j in w.indices {
                    let g = gw[j] * scale + options.l2 * w[j]
                    mw[j] = beta1 * mw[j] + (1 - beta1) * g
                    vw[j] = beta2 * vw[j] + (1 - beta2) * g * g
                    w[j] -= lr * (mw[j] / c1) / ((vw[j] / c2).squareRoot() + eps)
                }
                for j in b.indices {
                    let g = gb[j] * scale
                    mb[j] = beta1 * mb[j] + (1 - beta1) * g
                    vb[j] = beta2 * vb[j] + (1 - beta2) * g * g
                    b[j] -= lr * (mb[j] / c1) / ((vb[j] / c2).squareRoot() + eps)
                }
            }
        }
        return (w, b)
    }
}

