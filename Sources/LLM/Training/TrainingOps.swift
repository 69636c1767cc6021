import Foundation
import Tensor

/// Forward and backward of every op of the decoder block, in float, for LoRA training.
///
/// Each backward takes the gradient of the loss with respect to the op's output and returns
/// (or adds, where several paths meet) the gradient with respect to its inputs. They are kept
/// apart from the inference kernels in `Ops` so that each can be checked against finite
/// differences on its own (`GradientCheckTests`); the forward ops that the engine also has
/// (RoPE tables and rotation) are the engine's own, so training optimises the served model.
enum TrainOps {
    // MARK: matrix products

    /// C (m, n) = A · B with A (m, k) or its transpose, B (k, n) or its transpose, row-major;
    /// rows of C are split across the pool (OpenBLAS stays single-threaded, see `Engine.init`).
    static func gemm(_ pool: ThreadPool, transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                     c: UnsafeMutablePointer<Float>, ldc: Int, alpha: Float = 1, beta: Float = 0) {
        guard m > 0, n > 0 else { return }
        // Chunks of at least 32 rows keep each sgemm efficient; several per thread let a core
        // that another process holds fall behind without stalling the other.
        let chunk = max(32, (m + pool.threads * 2 - 1) / (pool.threads * 2))
        pool.parallelFor(m, chunk: chunk) { range in
            let aOff = transA ? range.lowerBound : range.lowerBound * lda
            BLAS.gemm(transA: transA, transB: transB, m: range.count, n: n, k: k, a: a + aOff, lda: lda,
                      b: b, ldb: ldb, c: c + range.lowerBound * ldc, ldc: ldc, alpha: alpha, beta: beta)
        }
    }

    /// y (n, out) = x (n, in) · Wᵀ for a float W (out, in).
    static func linear(_ pool: ThreadPool, x: UnsafePointer<Float>, w: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                       rows: Int, inDim: Int, outDim: Int) {
        gemm(pool, transB: true, m: rows, n: outDim, k: inDim, a: x, lda: inDim, b: w, ldb: inDim, c: y, ldc: outDim)
    }

    /// dx (n, in) += dy (n, out) · W (out, in): the input gradient of `linear` (W is frozen).
    static func linearBackward(_ pool: ThreadPool, dy: UnsafePointer<Float>, w: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>,
                               rows: Int, inDim: Int, outDim: Int) {
        gemm(pool, m: rows, n: inDim, k: outDim, a: dy, lda: outDim, b: w, ldb: inDim, c: dx, ldc: inDim, beta: 1)
    }

    /// The LoRA update of a projection: u (n, r) = x · Aᵀ, y (n, out) += s · u · Bᵀ.
    static func loraForward(_ pool: ThreadPool, x: UnsafePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                            u: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                            rows: Int, inDim: Int, outDim: Int, rank: Int, scale: Float) {
        gemm(pool, transB: true, m: rows, n: rank, k: inDim, a: x, lda: inDim, b: a, ldb: inDim, c: u, ldc: rank)
        gemm(pool, transB: true, m: rows, n: outDim, k: rank, a: u, lda: rank, b: b, ldb: rank, c: y, ldc: outDim,
             alpha: scale, beta: 1)
    }

    /// Gradients of `loraForward` given dy: dB += s·dyᵀ·u, t = dy·B, dA += s·tᵀ·x, dx += s·t·A.
    /// `t` is (n, r) scratch.
    static func loraBackward(_ pool: ThreadPool, dy: UnsafePointer<Float>, x: UnsafePointer<Float>, u: UnsafePointer<Float>,
                             a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                             da: UnsafeMutablePointer<Float>, db: UnsafeMutablePointer<Float>,
                             dx: UnsafeMutablePointer<Float>, t: UnsafeMutablePointer<Float>,
                             rows: Int, inDim: Int, outDim: Int, rank: Int, scale: Float) {
        gemm(pool, transA: true, m: outDim, n: rank, k: rows, a: dy, lda: outDim, b: u, ldb: rank, c: db, ldc: rank,
             alpha: scale, beta: 1)
        gemm(pool, m: rows, n: rank, k: outDim, a: dy, lda: outDim, b: b, ldb: rank, c: t, ldc: rank)
        // dA (r, in): only r rows, so split the columns instead — one sgemm per column strip.
        let strip = max(64, (inDim + pool.threads * 2 - 1) / (pool.threads * 2))
        pool.parallelFor(inDim, chunk: strip) { cols in
            BLAS.gemm(transA: true, transB: false, m: rank, n: cols.count, k: rows, a: t, lda: rank,
                      b: x + cols.lowerBound, ldb: inDim, c: da + cols.lowerBound, ldc: inDim, alpha: scale, beta: 1)
        }
        gemm(pool, m: rows, n: inDim, k: rank, a: t, lda: rank, b: a, ldb: inDim, c: dx, ldc: inDim, alpha: scale, beta: 1)
    }

    // MARK: RMSNorm

    /// out = x · r ⊙ w with r = 1/√(mean(x²) + eps) per row; keeps r for the backward.
    static func rmsNorm(x: UnsafePointer<Float>, w: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
                        rstd: UnsafeMutablePointer<Float>, rows: Int, dim: Int, eps: Float) {
        for r in 0..<rows {
            let xr = x + r * dim, o = out + r * dim
            var ss: Float = 0
            for i in 0..<dim { ss += xr[i] * xr[i] }
            let scale = 1 / (ss / Float(dim) + eps).squareRoot()
            rstd[r] = scale
            for i in 0..<dim { o[i] = xr[i] * scale * w[i] }
        }
    }

    /// dx += r·w⊙dy − x · r³/dim · Σ(dy⊙w⊙x), per row (w is frozen).
    static func rmsNormBackward(dy: UnsafePointer<Float>, x: UnsafePointer<Float>, w: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, dx: UnsafeMutablePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows {
            let xr = x + r * dim, g = dy + r * dim, d = dx + r * dim, s = rstd[r]
            var dot: Float = 0
            for i in 0..<dim { dot += g[i] * w[i] * xr[i] }
            let k = dot * s * s * s / Float(dim)
            for i in 0..<dim { d[i] += s * w[i] * g[i] - xr[i] * k }
        }
    }

    // MARK: RoPE

    /// cos/sin tables (sequences·length, head_dim/2) for packed sequences that each start at
    /// position 0, computed by the engine's own `Ops.ropeTables`; `sinBack` is −sin, the
    /// inverse rotation, which is the backward of a rotation (Rᵀ = R(−θ)).
    static func ropeTables(_ c: DecoderConfig, sequences: Int, length: Int, cos: UnsafeMutablePointer<Float>,
                           sin: UnsafeMutablePointer<Float>, sinBack: UnsafeMutablePointer<Float>) {
        let half = c.headDim / 2
        Ops.ropeTables(c, positions: 0..<length, cos: cos, sin: sin)
        for s in 1..<max(1, sequences) {
            (cos + s * length * half).update(from: cos, count: length * half)
            (sin + s * length * half).update(from: sin, count: length * half)
        }
        for i in 0..<sequences * length * half { sinBack[i] = -sin[i] }
    }

    // MARK: attention

    /// Causal grouped-query attention of one sequence of `T` rows, as the engine computes it:
    /// P_h = softmax(q_h·k_gᵀ/√d) with g = h / (heads / kv_heads), out_h = P_h · v_g.
    /// Keeps P (heads, T, T) for the backward. One head per pool job.
    static func attention(_ pool: ThreadPool, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                          out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                          T: Int, heads: Int, kvHeads: Int, headDim hd: Int) {
        let group = heads / kvHeads, qDim = heads * hd, kvDim = kvHeads * hd
        let scale = 1 / Float(hd).squareRoot()
        pool.parallelFor(heads, chunk: 1) { hs in
            for h in hs {
                let g = h / group, p = probs + h * T * T
                BLAS.gemm(m: T, n: T, k: hd, a: q + h * hd, lda: qDim, b: k + g * hd, ldb: kvDim, transB: true,
                          c: p, ldc: T, alpha: scale)
                for t in 0..<T {
                    let r = p + t * T
                    var m = -Float.infinity
                    for j in 0...t { m = max(m, r[j]) }
                    var total: Float = 0
                    for j in 0...t { r[j] = expf(r[j] - m); total += r[j] }
                    let inv = 1 / total
                    for j in 0...t { r[j] *= inv }
                    for j in (t + 1)..<T { r[j] = 0 }
                }
                BLAS.gemm(m: T, n: hd, k: T, a: p, lda: T, b: v + g * hd, ldb: kvDim, transB: false, c: out + h * hd, ldc: qDim)
            }
        }
    }

    /// Backward of `attention` for one sequence: dP = dO·vᵀ, dS = P ⊙ (dP − rowsum(dP ⊙ P)),
    /// dq = dS·k/√d, dk += dSᵀ·q/√d, dv += Pᵀ·dO (the heads of a group add into one kv head).
    /// dq, dk, dv are overwritten. `scratch` holds threads × T × T floats.
    static func attentionBackward(_ pool: ThreadPool, dOut: UnsafePointer<Float>, q: UnsafePointer<Float>,
                                  k: UnsafePointer<Float>, v: UnsafePointer<Float>, probs: UnsafePointer<Float>,
                                  dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
                                  scratch: UnsafeMutablePointer<Float>, T: Int, heads: Int, kvHeads: Int, headDim hd: Int) {
        let group = heads / kvHeads, qDim = heads * hd, kvDim = kvHeads * hd
        let scale = 1 / Float(hd).squareRoot()
        // One kv head per job, so the heads sharing it add into dk/dv without a race.
        pool.parallelFor(kvHeads, chunk: 1) { gs, slot in
            let dp = scratch + slot * T * T
            for g in gs {
                for t in 0..<T { for i in 0..<hd { dk[t * kvDim + g * hd + i] = 0; dv[t * kvDim + g * hd + i] = 0 } }
                for h in g * group..<(g + 1) * group {
                    let p = probs + h * T * T, dO = dOut + h * hd
                    // dv_g += Pᵀ (T, T) · dO_h (T, hd)
                    BLAS.gemm(transA: true, transB: false, m: T, n: hd, k: T, a: p, lda: T, b: dO, ldb: qDim,
                              c: dv + g * hd, ldc: kvDim, beta: 1)
                    // dP (T, T) = dO_h · v_gᵀ
                    BLAS.gemm(m: T, n: T, k: hd, a: dO, lda: qDim, b: v + g * hd, ldb: kvDim, transB: true, c: dp, ldc: T)
                    for t in 0..<T {
                        let pr = p + t * T, dr = dp + t * T
                        var dot: Float = 0
                        for j in 0...t { dot += pr[j] * dr[j] }
                        for j in 0...t { dr[j] = pr[j] * (dr[j] - dot) * scale }
                        for j in (t + 1)..<T { dr[j] = 0 }
                    }
                    // dq_h (T, hd) = dS · k_g ; dk_g += dSᵀ · q_h
                    BLAS.gemm(m: T, n: hd, k: T, a: dp, lda: T, b: k + g * hd, ldb: kvDim, transB: false, c: dq + h * hd, ldc: qDim)
                    BLAS.gemm(transA: true, transB: false, m: T, n: hd, k: T, a: dp, lda: T, b: q + h * hd, ldb: qDim,
                              c: dk + g * hd, ldc: kvDim, beta: 1)
                }
            }
        }
    }

    // MARK: SwiGLU

    /// h = silu(g) ⊙ u.
    static func swiglu(g: UnsafePointer<Float>, u: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { let a = g[i]; h[i] = a / (1 + expf(-a)) * u[i] }
    }

    /// dg = dh ⊙ u ⊙ silu'(g) with silu'(g) = σ(g)·(1 + g·(1 − σ(g))); du = dh ⊙ silu(g).
    static func swigluBackward(dh: UnsafePointer<Float>, g: UnsafePointer<Float>, u: UnsafePointer<Float>,
                               dg: UnsafeMutablePointer<Float>, du: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let a = g[i], sig = 1 / (1 + expf(-a))
            du[i] = dh[i] * a * sig
            dg[i] = dh[i] * u[i] * sig * (1 + a * (1 - sig))
        }
    }

    // MARK: cross-entropy

    /// Sum over rows of −log softmax(logits)[target]; replaces each row of logits by
    /// `gradScale` · (softmax − onehot(target)), the gradient of gradScale × that sum.
    static func crossEntropy(logits: UnsafeMutablePointer<Float>, targets: UnsafePointer<Int32>, rows: Int, vocab: Int,
                             gradScale: Float) -> Double {
        var total = 0.0
        for r in 0..<rows {
            let l = logits + r * vocab, target = Int(targets[r])
            var m = -Float.infinity
            for i in 0..<vocab { m = max(m, l[i]) }
            let lt = l[target]
            var sum: Float = 0
            for i in 0..<vocab { l[i] = expf(l[i] - m); sum += l[i] }
            // −log p[target] = log Σ exp(l − m) − (l[target] − m): no log of an underflowed p.
            total += Double(logf(sum)) - Double(lt - m)
            let inv = gradScale / sum
            for i in 0..<vocab { l[i] *= inv }
            l[target] -= gradScale
        }
        return total
    }
}
