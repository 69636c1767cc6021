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

    /// Runs `body` over the token rows of a batch, split across the pool from `byRowsMinimum`
    /// rows on. Each row is computed as alone (the ops below work row by row, or element by
    /// element with a tail done lane-wise the same way), so the split never changes a result.
    /// Why: at two threads the norms, SwiGLU and residual adds of a 512-token Qwen batch ran on
    /// one thread while the other waited (~3% of the batch); a decode step stays serial, where
    /// waking the pool would cost more than the work.
    static func byRows(_ rows: Int, _ pool: ThreadPool, _ body: (Range<Int>) -> Void) {
        if rows < byRowsMinimum { return body(0..<rows) }
        pool.parallelFor(rows, grain: 4, body)
    }
    static let byRowsMinimum = 16

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
    /// The plain reference: one dot product at a time, which the compiler may not reorder, so
    /// each waits on the last add (measured: 47% of a SmolLM2 answer's time at 3,000 tokens of
    /// context). The engine decodes with `attentionDecode`; tests hold both paths to this one.
    static func attentionPlain(_ c: DecoderConfig, layer: Int, state s: DecoderState, rows: Int, pos0: Int) {
        let hd = c.headDim, heads = c.headCount, group = heads / c.kvHeadCount, kvDim = c.kvDim
        let scale = 1 / Float(hd).squareRoot(), ctx = s.context
        nonisolated(unsafe) let q = s.q, att = s.att, scoresAll = s.scores
        let kv = s.floatKV(layer: layer, upTo: pos0 + rows)
        nonisolated(unsafe) let kBase = kv.k, vBase = kv.v
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

    /// Attention of one new token (the decode step), split over the context in parts of
    /// `decodePart` positions, each part one job for all heads, merged at the end as flash-decoding
    /// does: a part keeps its own maximum score m_p, sum of weights l_p and unnormalised output
    /// o_p, and att_h = Σ_p e^(m_p−M)·o_p / Σ_p e^(m_p−M)·l_p with M the largest m_p.
    ///
    /// Why: a long context's cache does not fit in any cache level (SmolLM2 at 3,000 tokens, 138 MB
    /// of f32 keys and values), so the step is bound by reading it. A part reads its key rows
    /// front to back, every head at once, so each row is fetched once; its value rows (≤ 256 KB)
    /// then stay in L2 while each head's output is summed 32 lanes at a time in registers. Parts
    /// also share a long context between threads whatever the head count (Qwen has 2 KV heads).
    /// The split depends on the position only, never on the thread count, so neither do results.
    /// Measured (SmolLM2, 2,705-token prompt, 128 tokens generated, 1 / 2 threads): the plain
    /// loop 28.8 / 34.8 t/s; OpenBLAS per KV head 43.2 / 61.1 (it packed the cache for every
    /// product); SIMD per query head 51.0 / 59.4; per KV head 47.4 / 69.3; this: bench-llm --depth.
    static let decodePart = 256

    static func attentionDecode(_ c: DecoderConfig, layer: Int, state s: DecoderState, pos0: Int) {
        guard c.headDim % 32 == 0 else { return attentionPlain(c, layer: layer, state: s, rows: 1, pos0: pos0) }
        switch s.kvType {
        case .f32: attentionDecode(c, layer: layer, state: s, pos0: pos0, Float.self)
        case .f16: attentionDecode(c, layer: layer, state: s, pos0: pos0, Float16.self)
        }
    }

    /// The decode step on a cache of `E` elements (each read eight at a time as floats).
    private static func attentionDecode<E: KVElement>(_ c: DecoderConfig, layer: Int, state s: DecoderState, pos0: Int, _: E.Type) {
        let hd = c.headDim, heads = c.headCount, group = heads / c.kvHeadCount, kvDim = c.kvDim
        let scale = 1 / Float(hd).squareRoot(), n = pos0 + 1, part = decodePart
        let parts = (n + part - 1) / part
        let q = UnsafePointer(s.q), att = s.att, scoresAll = s.decodeScores
        let outs = s.decodeParts, stats = s.decodeParts + parts * heads * hd   // stats: (part, head) max, sum
        let keys = UnsafePointer(s.kCache.assumingMemoryBound(to: E.self) + layer * s.context * kvDim)
        let values = UnsafePointer(s.vCache.assumingMemoryBound(to: E.self) + layer * s.context * kvDim)
        @inline(__always) func x8(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
            UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
        }
        @inline(__always) func e8(_ p: UnsafePointer<E>, _ i: Int) -> SIMD8<Float> { E.load8(p + i) }   // a cache row
        s.pool.parallelFor(parts, chunk: 1) { jobs, slot in
            let sc = scoresAll + slot * heads * part   // (head, position in part)
            for p in jobs {
                let j0 = p * part, len = min(part, n - j0)
                for j in 0..<len {
                    let k = keys + (j0 + j) * kvDim
                    for h in 0..<heads {
                        let qh = q + h * hd, kh = k + (h / group) * hd
                        var a0 = x8(qh, 0) * e8(kh, 0), a1 = x8(qh, 8) * e8(kh, 8)
                        var i = 16
                        while i < hd { a0.addProduct(x8(qh, i), e8(kh, i)); a1.addProduct(x8(qh, i + 8), e8(kh, i + 8)); i += 16 }
                        sc[h * part + j] = (a0 + a1).sum() * scale
                    }
                }
                for h in 0..<heads {
                    let row = sc + h * part
                    var m = -Float.infinity
                    for j in 0..<len { m = max(m, row[j]) }
                    stats[2 * (p * heads + h)] = m
                    stats[2 * (p * heads + h) + 1] = VectorMath.expInPlace(row, count: len, minus: m)
                }
                // o_p[h] = Σ_j w[h, j] · V[j, kvh]: up to 3 heads × 32 lanes of accumulators at a time
                // (SIMD32 arithmetic spilled, 25x slower, so 4 × 8 lanes are written out).
                for h0 in Swift.stride(from: 0, to: heads, by: 3) {
                    let m = min(3, heads - h0)
                    for lane in Swift.stride(from: 0, to: hd, by: 32) {
                        var o00 = SIMD8<Float>(), o01 = SIMD8<Float>(), o02 = SIMD8<Float>(), o03 = SIMD8<Float>()
                        var o10 = SIMD8<Float>(), o11 = SIMD8<Float>(), o12 = SIMD8<Float>(), o13 = SIMD8<Float>()
                        var o20 = SIMD8<Float>(), o21 = SIMD8<Float>(), o22 = SIMD8<Float>(), o23 = SIMD8<Float>()
                        let w0 = sc + h0 * part, w1 = w0 + part, w2 = w1 + part
                        let c0 = (h0 / group) * hd + lane, c1 = ((h0 + 1) / group) * hd + lane, c2 = ((h0 + 2) / group) * hd + lane
                        for j in 0..<len {
                            let row = values + (j0 + j) * kvDim
                            var v = row + c0
                            var w = SIMD8<Float>(repeating: w0[j])
                            o00.addProduct(w, e8(v, 0)); o01.addProduct(w, e8(v, 8)); o02.addProduct(w, e8(v, 16)); o03.addProduct(w, e8(v, 24))
                            if m > 1 {
                                v = row + c1; w = SIMD8<Float>(repeating: w1[j])
                                o10.addProduct(w, e8(v, 0)); o11.addProduct(w, e8(v, 8)); o12.addProduct(w, e8(v, 16)); o13.addProduct(w, e8(v, 24))
                            }
                            if m > 2 {
                                v = row + c2; w = SIMD8<Float>(repeating: w2[j])
                                o20.addProduct(w, e8(v, 0)); o21.addProduct(w, e8(v, 8)); o22.addProduct(w, e8(v, 16)); o23.addProduct(w, e8(v, 24))
                            }
                        }
                        @inline(__always) func store(_ h: Int, _ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>, _ d: SIMD8<Float>) {
                            let out = UnsafeMutableRawPointer(outs + (p * heads + h) * hd + lane)
                            out.storeBytes(of: a, as: SIMD8<Float>.self); out.storeBytes(of: b, toByteOffset: 32, as: SIMD8<Float>.self)
                            out.storeBytes(of: c, toByteOffset: 64, as: SIMD8<Float>.self); out.storeBytes(of: d, toByteOffset: 96, as: SIMD8<Float>.self)
                        }
                        store(h0, o00, o01, o02, o03)
                        if m > 1 { store(h0 + 1, o10, o11, o12, o13) }
                        if m > 2 { store(h0 + 2, o20, o21, o22, o23) }
                    }
                }
            }
        }
        // Merge the parts, in part order.
        for h in 0..<heads {
            var top = -Float.infinity
            for p in 0..<parts { top = max(top, stats[2 * (p * heads + h)]) }
            var total: Float = 0
            let out = att + h * hd
            for i in 0..<hd { out[i] = 0 }
            for p in 0..<parts {
                let f = expf(stats[2 * (p * heads + h)] - top), o = outs + (p * heads + h) * hd
                total += f * stats[2 * (p * heads + h) + 1]
                for i in 0..<hd { out[i] += f * o[i] }
            }
            let inv = 1 / total
            for i in 0..<hd { out[i] *= inv }
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
        let (kBase, vBase) = s.floatKV(layer: layer, upTo: n)
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

/// An element type the KV cache can hold, read eight at a time as floats.
protocol KVElement {
    static func load8(_ p: UnsafePointer<Self>) -> SIMD8<Float>
}

extension Float: KVElement {
    @inline(__always) static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }
}

extension Float16: KVElement {
    /// A per-lane loop (one vcvtph2ps with F16C): the stdlib SIMD conversion is not inlined and
    /// spills (SWIFT-NOTES), and scalar conversions create false dependencies.
    @inline(__always) static func load8(_ p: UnsafePointer<Float16>) -> SIMD8<Float> {
        let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float16>.self)
        var r = SIMD8<Float>()
        for i in 0..<8 { r[i] = Float(h[i]) }
        return r
    }
}
