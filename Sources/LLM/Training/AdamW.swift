import Foundation

/// AdamW (Loshchilov & Hutter): Adam moments with bias correction and weight decay applied
/// to the weights directly rather than through the gradient; the learning rate follows a
/// linear warm-up then a cosine decay to `minRatio` × the peak.
public struct AdamW: Sendable {
    public var learningRate: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    /// Gradients whose global L2 norm exceeds this are scaled down to it.
    public var clipNorm: Float
    /// The floor of the cosine decay, as a fraction of the peak learning rate.
    public var minRatio: Float = 0.1
    /// First and second moments, one per parameter.
    public var m: [Float]
    public var v: [Float]
    /// Updates applied so far.
    public var step = 0

    public init(parameterCount: Int, learningRate: Float, warmupSteps: Int, totalSteps: Int,
                weightDecay: Float = 0, clipNorm: Float = 1) {
        self.learningRate = learningRate; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
        self.weightDecay = weightDecay; self.clipNorm = clipNorm
        m = [Float](repeating: 0, count: parameterCount)
        v = [Float](repeating: 0, count: parameterCount)
    }

    /// The learning rate of update number `step` (0-based).
    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return learningRate * Float(step + 1) / Float(warmupSteps) }
        let span = max(1, totalSteps - warmupSteps)
        let progress = min(1, Float(step - warmupSteps) / Float(span))
        let cosine = 0.5 * (1 + Foundation.cos(Float.pi * progress))
        return learningRate * (minRatio + (1 - minRatio) * cosine)
    }

    /// The global L2 norm of the gradients.
    public static func norm(_ g: UnsafePointer<Float>, count: Int) -> Float {
        var s = 0.0
        for i in 0..<count { s += Double(g[i]) * Double(g[i]) }
        return Float(s.squareRoot())
    }

    /// Clips `g` to `clipNorm`, then applies one update to `w`. Returns the norm before clipping.
    @discardableResult
    public mutating func update(_ w: UnsafeMutablePointer<Float>, _ g: UnsafeMutablePointer<Float>, count: Int) -> Float {
        precondition(count == m.count)
        let n = Self.norm(g, count: count)
        let clip: Float = n > clipNorm && clipNorm > 0 ? clipNorm / n : 1
        let lr = rate(at: step)
        step += 1
        let c1 = 1 - powf(beta1, Float(step)), c2 = 1 - powf(beta2, Float(step))
        let b1 = beta1, b2 = beta2, eps = epsilon, decay = lr * weightDecay
        m.withUnsafeMutableBufferPointer { m in
            v.withUnsafeMutableBufferPointer { v in
                for i in 0..<count {
                    let gi = g[i] * clip
                    m[i] = b1 * m[i] + (1 - b1) * gi
                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                    let mh = m[i] / c1, vh = v[i] / c2
                    w[i] -= lr * mh / (vh.squareRoot() + eps) + decay * w[i]
                }
            }
        }
        return n
    }
}
