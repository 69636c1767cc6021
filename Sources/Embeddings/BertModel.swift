import Foundation
import GGUF
import Tensor

/// The weights of one encoder layer, Linear weights kept [out, in] as stored (y = x·Wᵀ + b).
struct BertLayer {
    var qkvW: [Float]      // (3H, H): query, key, value weights stacked so one GEMM makes all three
    var qkvB: [Float]      // (3H)
    var outW: [Float]      // (H, H) attention output projection
    var outB: [Float]      // (H)
    var ln1G: [Float], ln1B: [Float]   // (H) LayerNorm after attention + residual
    var upW: [Float]       // (I, H) intermediate
    var upB: [Float]       // (I)
    var downW: [Float]     // (H, I) output
    var downB: [Float]     // (H)
    var ln2G: [Float], ln2B: [Float]   // (H) LayerNorm after FFN + residual
}

/// A BERT encoder (embeddings + N layers) in float32, run on packed variable-length sequences.
///
/// Sequences of a batch are packed back to back into one (tokens × H) matrix instead of being
/// padded to the longest: every projection is one GEMM over the real tokens only, and attention
/// runs per sequence on its own length, so no padding rows and no attention masks exist. The
/// result equals the padded + masked computation of the reference.
final class BertModel {
    let config: BertConfig
    let wordEmb: [Float]       // (V, H)
    let posTypeEmb: [Float]    // (P, H) position embedding + token type 0 (all our token types are 0)
    let embLnG: [Float], embLnB: [Float]  // (H)
    let layers: [BertLayer]

    init(config c: BertConfig, file st: SafeTensorsFile) throws {
        config = c
        let h = c.hiddenSize, i = c.intermediateSize
        // Some exports keep the `bert.` prefix of BertForXxx checkpoints.
        let prefix = st.tensors["embeddings.word_embeddings.weight"] == nil && st.tensors["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func load(_ name: String, _ shape: [Int]) throws -> [Float] {
            let full = prefix + name
            guard let t = st.tensors[full] else { throw SafeTensorsError.missingTensor(path: st.path, name: full) }
            guard t.shape == shape else { throw EmbeddingsError.shapeMismatch(tensor: full, expected: shape, actual: t.shape) }
            return try st.floats(full)
        }
        // The word table may be larger than config says only if it is the tokenizer's; we require equality.
        wordEmb = try load("embeddings.word_embeddings.weight", [c.vocabSize, h])
        var pos = try load("embeddings.position_embeddings.weight", [c.maxPositions, h])
        let type = try load("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h])
        for p in 0..<c.maxPositions { for j in 0..<h { pos[p * h + j] += type[j] } }
        posTypeEmb = pos
        embLnG = try load("embeddings.LayerNorm.weight", [h])
        embLnB = try load("embeddings.LayerNorm.bias", [h])
        var ls: [BertLayer] = []
        for l in 0..<c.layers {
            let p = "encoder.layer.\(l)."
            let qkvW = try load(p + "attention.self.query.weight", [h, h]) + load(p + "attention.self.key.weight", [h, h])
                + load(p + "attention.self.value.weight", [h, h])
            let qkvB = try load(p + "attention.self.query.bias", [h]) + load(p + "attention.self.key.bias", [h])
                + load(p + "attention.self.value.bias", [h])
            ls.append(BertLayer(
                qkvW: qkvW, qkvB: qkvB,
                outW: try load(p + "attention.output.dense.weight", [h, h]),
                outB: try load(p + "attention.output.dense.bias", [h]),
                ln1G: try load(p + "attention.output.LayerNorm.weight", [h]),
                ln1B: try load(p + "attention.output.LayerNorm.bias", [h]),
                upW: try load(p + "intermediate.dense.weight", [i, h]),
                upB: try load(p + "intermediate.dense.bias", [i]),
                downW: try load(p + "output.dense.weight", [h, i]),
                downB: try load(p + "output.dense.bias", [h]),
                ln2G: try load(p + "output.LayerNorm.weight", [h]),
                ln2B: try load(p + "output.LayerNorm.bias", [h])))
        }
        layers = ls
    }

    /// Runs the encoder on `sequences` (ids incl. [CLS]/[SEP], each ≤ maxPositions long) and
    /// writes one pooled, L2-normalised vector of H floats per sequence to `out`.
    func encode(_ sequences: [[Int32]], scratch: Scratch, out: UnsafeMutablePointer<Float>) {
        let h = config.hiddenSize, inter = config.intermediateSize
        let heads = config.heads, hd = config.headDim
        let n = sequences.reduce(0) { $0 + $1.count }
        let maxLen = sequences.map(\.count).max() ?? 0
        scratch.reserve(tokens: n, hidden: h, intermediate: inter, maxLen: maxLen)
        let x = scratch.x, qkv = scratch.qkv, ctx = scratch.ctx, up = scratch.up, scores = scratch.scores

        // Embeddings: word + position + type, then LayerNorm.          x: (n, H)
        var row = 0
        wordEmb.withUnsafeBufferPointer { w in posTypeEmb.withUnsafeBufferPointer { pt in
            for s in sequences {
                for (t, id) in s.enumerated() {
                    let dst = x + row * h, we = w.baseAddress! + Int(id) * h, pe = pt.baseAddress! + t * h
                    for j in 0..<h { dst[j] = we[j] + pe[j] }
                    row += 1
                }
            }
        } }
        Kernels.layerNorm(x, rows: n, cols: h, gamma: embLnG, beta: embLnB, eps: config.layerNormEps)

        let scale = 1 / Float(hd).squareRoot()
        for L in layers {
            // qkv = x·Wqkvᵀ + b                                            qkv: (n, 3H)
            fill(qkv, rows: n, with: L.qkvB)
            project(m: n, n: 3 * h, k: h, a: x, w: L.qkvW, c: qkv)
            // Attention per sequence and head on the real length only.    ctx: (n, H)
            var start = 0
            for s in sequences {
                let len = s.count
                let base = qkv + start * 3 * h
                for hh in 0..<heads {
                    // scores = Q_h · K_hᵀ                                      (len, len)
                    BLAS.gemm(m: len, n: len, k: hd, a: base + hh * hd, lda: 3 * h,
                              b: base + h + hh * hd, ldb: 3 * h, transB: true, c: scores, ldc: len)
                    for r in 0..<len { Kernels.scaledSoftmax(scores + r * len, len, scale: scale) }
                    // ctx_h = P · V_h                                           (len, hd)
                    BLAS.gemm(m: len, n: hd, k: len, a: scores, lda: len, b: base + 2 * h + hh * hd, ldb: 3 * h,
                              transB: false, c: ctx + start * h + hh * hd, ldc: h)
                }
                start += len
            }
            // x = LN(x + ctx·Woᵀ + bo): the residual is the GEMM's C with beta 1.
            Kernels.addRow(x, rows: n, cols: h, L.outB)
            project(m: n, n: h, k: h, a: ctx, w: L.outW, c: x)
            Kernels.layerNorm(x, rows: n, cols: h, gamma: L.ln1G, beta: L.ln1B, eps: config.layerNormEps)
            // up = gelu(x·Wupᵀ + b)                                          up: (n, I)
            project(m: n, n: inter, k: h, a: x, w: L.upW, c: up, accumulate: false)
            Kernels.biasGELU(up, rows: n, cols: inter, bias: L.upB)
            // x = LN(x + up·Wdownᵀ + b)
            Kernels.addRow(x, rows: n, cols: h, L.downB)
            project(m: n, n: h, k: inter, a: up, w: L.downW, c: x)
            Kernels.layerNorm(x, rows: n, cols: h, gamma: L.ln2G, beta: L.ln2B, eps: config.layerNormEps)
        }

        // Pooling and L2 normalisation.                                   out: (sequences, H)
        var start = 0
        for (si, s) in sequences.enumerated() {
            let dst = out + si * h
            switch config.pooling {
            case .cls:
                for j in 0..<h { dst[j] = x[start * h + j] }
            case .mean:
                for j in 0..<h { dst[j] = 0 }
                for t in 0..<s.count { let src = x + (start + t) * h; for j in 0..<h { dst[j] += src[j] } }
                let inv = 1 / Float(s.count)
                for j in 0..<h { dst[j] *= inv }
            }
            var norm: Float = 0
            for j in 0..<h { norm += dst[j] * dst[j] }
            // sentence-transformers' Normalize divides by max(norm, 1e-12).
            let inv = 1 / max(norm.squareRoot(), 1e-12)
            for j in 0..<h { dst[j] *= inv }
            start += s.count
        }
    }

    /// c (m × n) (+)= a (m × k) · wᵀ, w stored (n × k). BLAS for batches; for a few rows (one
    /// query) the small-m kernel, which avoids OpenBLAS packing the whole weight per call.
    private func project(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, w: [Float], c: UnsafeMutablePointer<Float>,
                         accumulate: Bool = true) {
        w.withUnsafeBufferPointer { wp in
            if m <= SmallGEMM.maxRows && k % 8 == 0 {
                if !accumulate { c.update(repeating: 0, count: m * n) }
                SmallGEMM.run(m: m, n: n, k: k, a: a, lda: k, w: wp.baseAddress!, c: c, ldc: n)
            } else {
                BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: wp.baseAddress!, ldb: k, transB: true, c: c, ldc: n,
                          beta: accumulate ? 1 : 0)
            }
        }
    }

    private func fill(_ dst: UnsafeMutablePointer<Float>, rows: Int, with v: [Float]) {
        v.withUnsafeBufferPointer { src in
            for r in 0..<rows { (dst + r * v.count).update(from: src.baseAddress!, count: v.count) }
        }
    }
}

/// Activation buffers reused across calls (grown, never shrunk) so a batch allocates nothing.
final class Scratch {
    private(set) var x = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var qkv = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var ctx = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var up = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private(set) var scores = UnsafeMutablePointer<Float>.allocate(capacity: 1)
    private var tokens = 0, maxLen = 0

    func reserve(tokens n: Int, hidden h: Int, intermediate i: Int, maxLen l: Int) {
        if n > tokens {
            for p in [x, qkv, ctx, up] { p.deallocate() }
            x = .allocate(capacity: n * h); qkv = .allocate(capacity: n * 3 * h)
            ctx = .allocate(capacity: n * h); up = .allocate(capacity: n * i)
            tokens = n
        }
        if l > maxLen { scores.deallocate(); scores = .allocate(capacity: l * l); maxLen = l }
    }

    deinit { for p in [x, qkv, ctx, up, scores] { p.deallocate() } }
}
