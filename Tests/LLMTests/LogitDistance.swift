import Foundation

/// How far apart two sets of logits are, laid out as rows of one vocabulary each.
///
/// Each row is compared after removing its mean: softmax ignores a constant shift, and rounding
/// often moves a whole row (llama.cpp's two reference settings differ by 0.58 in the mean logit
/// of one SmolLM2 prompt), which says nothing about the distribution the model samples from.
struct LogitDistance: CustomStringConvertible {
    /// The largest difference of any one (mean-removed) logit.
    var maxAbs: Float = 0
    /// Root mean square over every logit.
    var rms: Double = 0
    /// The largest |logit| of the first set (the scale the difference is read against).
    var scale: Float = 0

    init(_ a: [Float], _ b: [Float], vocabulary: Int) {
        precondition(a.count == b.count && a.count % vocabulary == 0, "logit arrays of different shapes")
        var total = 0.0
        for row in 0..<(a.count / vocabulary) {
            let range = row * vocabulary..<(row + 1) * vocabulary
            var meanA = 0.0, meanB = 0.0
            for i in range { meanA += Double(a[i]); meanB += Double(b[i]) }
            let shift = Float((meanA - meanB) / Double(vocabulary))
            for i in range {
                let d = abs(a[i] - b[i] - shift)
                maxAbs = max(maxAbs, d); scale = max(scale, abs(a[i]))
                total += Double(d) * Double(d)
            }
        }
        rms = (total / Double(a.count)).squareRoot()
    }

    var description: String {
        String(format: "max %.4g, rms %.4g (logits up to %.3g)", maxAbs, rms, scale)
    }
}
