import Foundation
import Tensor

/// The element-wise and attention steps of the forward pass, written plainly: with -Ounchecked
/// these loops vectorise, and they are a small share of the time next to the matrix products.
enum Ops {
    /// out[r] = x[r] / sqrt(mean(x[r]²) + eps) ⊙ w, for each of `rows` rows of `dim`.
    static func rmsNorm(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                        rows: Int, dim: Int, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * dim, o = out + r * dim
            var ss: Float = 0
            for i in 0..<dim { ss += xr[i] * xr[i] }
            let scale = 1 / (ss / Float(dim) + eps).squareRoot()
            for i in 0..<dim { o[i] = xr[i] * scale * w[i] }
        }
    }

    static func add(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) {
        for i in 0..<n { y[i] += x[i] }
    }

    /// g = silu(g) ⊙ u (exp eight at a time: `VectorMath`).
    static func swiglu(_ g: UnsafeMutablePointer<Float>, _ u: UnsafePointer<Float>, _ n: Int) {
        VectorMath.swiglu(g, u, count: n)
    }

    /// cos/sin (rows, head_dim/2) of θ = p · base^(−2i/head_dim) for each position p.
    static func ropeTables(_ c: DecoderConfig, positions: Range<Int>, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        let half = c.headDim / 2
        for (r, p) in positions.enumerated() {
            for i in 0..<half {
                let theta = Double(p) * pow(Double(c.ropeBase), -2 * Double(i) / Double(c.headDim))
                cos[r * half + i] = Float(Foundation.cos(theta))
                sin[r * half + i] = Float(Foundation.sin(theta))
            }
        }
    }

    /// Rotates every head of `rows` rows in place (pairing per `c.ropeStyle`).
    static func rope(_ v: UnsafeMutablePointer<Float>, rows: Int, heads: Int, _ c: DecoderConfig,
                     cos: UnsafePointer<Float>, sin: UnsafePointer<Float>) {
        let hd = c.headDim, half = hd / 2
        for r in 0..<rows {
            let cr = cos + r * half, sr = sin + r * half
            for h in 0..<heads {
                let x = v + (r * heads + h) * hd
                switch c.ropeStyle {
                case .adjacentPairs:
                    for i in 0..<half {
                        let a = x[2 * i], b = x[2 * i + 1]
                        x[2 * i] = a * cr[i] - b * sr[i]
                        x[2 * i + 1] = a * sr[i] + b * cr[i]
                    }
                case .halves:
                    for i in 0..<half {
                        let a = x[i], b = x[i + half]
                        x[i] = a * cr[i] - b * sr[i]
                        x[i + half] = a * sr[i] + b * cr[i]
                    }
                }
            }
        }
    }

    /// Causal grouped-query attention of `rows` new tokens (positions pos0...) over the cache:
    /// att[t, h] = Σ_j softmax_j(q[t,h]·K[j,kvh] / √d) · V[j,kvh], kvh = h / (heads / kv_heads).
    static func attention(_ c: DecoderConfig, layer: Int, state s: DecoderState, rows: Int, pos0: Int) {
        let hd = c.headDim, heads = c.headCount, group = heads / c.kvHeadCount, kvDim = c.kvDim
        let scale = 1 / Float(hd).squareRoot(), ctx = s.context
        nonisolated(unsafe) let q = s.q, att = s.att, scoresAll = s.scores
        nonisolated(unsafe) let kBase = s.kCache + layer * ctx * kvDim, vBase = s.vCache + layer * ctx * kvDim
        s.pool.parallelFor(rows * heads) { jobs, slot in
          for job in jobs {
            let t = job / heads, h = job % heads, kvh = h / group
            let n = pos0 + t + 1
            let qv = q + (t * heads + h) * hd, out = att + (t * heads + h) * hd
            let sc = scoresAll + slot * ctx
            var maxScore = -Float.infinity
            for j in 0..<n {
                let kv = kBase + j * kvDim + kvh * hd
                var d: Float = 0
                for i in 0..<hd { d += qv[i] * kv[i] }
                sc[j] = d * scale
                maxScore = max(maxScore, sc[j])
            }
            let inv = 1 / VectorMath.expInPlace(sc, count: n, minus: maxScore)
            for i in 0..<hd { out[i] = 0 }
            for j in 0..<n {
                let w = sc[j] * inv, vv = vBase + j * kvDim + kvh * hd
                for i in 0..<hd { out[i] += w * vv[i] }
            }
          }
        }
    }

    /// Attention of a prompt batch (rows > 1) through OpenBLAS, in jobs of one head and up to
    /// `attentionBlock` rows: S (m, nb) = scale · Q_h (m, hd) · K_kvhᵀ (hd, nb), causal mask and
    /// softmax per row, then att_h (m, hd) = S · V_kvh (nb, hd), where nb = pos0 + the block's
    /// last row + 1 is as far as any row of the block may look. Blocks keep the masked upper
    /// triangle, which a whole-batch product computes and throws away (half of a first 512-token
    /// batch), to a sliver, and give the threads heads × blocks jobs to share instead of 9 heads
    /// (SmolLM2) split 5 / 4. The masked columns inside a block are zeroed, so S · V adds exact zeros.
    /// 128 rows, measured on one thread (SmolLM2 pp512 / pp2048 t/s): whole batch 135.6 / 96.3,
    /// 256: 139.3 / 97.0, 128: 143.1 / 96.3, 64: 143.0 / 84.1 (sgemm with 64-row A is slow here).
    static let attentionBlock = 128

    static func attentionBatch(_ c: DecoderConfig, layer: Int, state s: DecoderState, rows: Int, pos0: Int) {
        let hd = c.headDim, heads = c.headCount, group = heads / c.kvHeadCount, kvDim = c.kvDim, qDim = c.qDim
        let scale = 1 / Float(hd).squareRoot(), n = pos0 + rows
        let kBase = s.kCache + layer * s.context * kvDim, vBase = s.vCache + layer * s.context * kvDim
        let block = min(rows, attentionBlock), blocks = (rows + block - 1) / block
        let scoresAll = s.batchScoreBuffer(rows: block)
        let q = s.q, att = s.att
        // Longest blocks first, so the last jobs claimed are the short ones.
        s.pool.parallelFor(heads * blocks, chunk: 1) { jobs, slot in
            let sc = scoresAll + slot * block * n
            for job in jobs {
                let b = blocks - 1 - job / heads, h = job % heads, kvh = h / group
                let r0 = b * block, m = min(rows, r0 + block) - r0, nb = pos0 + r0 + m   // S_b is (m, nb)
                BLAS.gemm(m: m, n: nb, k: hd, a: q + r0 * qDim + h * hd, lda: qDim, b: kBase + kvh * hd, ldb: kvDim,
                          transB: true, c: sc, ldc: nb, alpha: scale)
                for t in 0..<m {
                    let r = sc + t * nb, valid = pos0 + r0 + t + 1
                    VectorMath.softmaxInPlace(r, count: valid)
                    for j in valid..<nb { r[j] = 0 }
                }
                BLAS.gemm(m: m, n: hd, k: nb, a: sc, lda: nb, b: vBase + kvh * hd, ldb: kvDim,
                          transB: false, c: att + r0 * qDim + h * hd, ldc: qDim)
            }
        }
    }
}
