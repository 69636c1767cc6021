import Foundation
import Tensor

/// How the KV cache stores keys and values.
public enum KVCacheType: String, CaseIterable, Sendable {
    /// IEEE half, llama.cpp's default: a long context's decode step is bound by reading the
    /// cache, and this halves the bytes. Keys and values round to 11 significant bits.
    case f16
    /// The projections' floats unchanged: the reference the parity tests hold f16 to.
    case f32

    /// Bytes per stored element.
    public var elementBytes: Int { self == .f16 ? 2 : 4 }
}

/// The KV cache and every activation buffer of one sequence, allocated once so that the decode
/// loop allocates nothing. Buffers hold up to `maxBatch` token rows.
public final class DecoderState: @unchecked Sendable {
    public let context: Int
    public let maxBatch: Int
    /// Tokens already in the cache (the position of the next token).
    public internal(set) var position = 0
    let pool: ThreadPool
    /// How prompt batches are multiplied (`PromptArithmetic`); one token always takes the matvec.
    public let arithmetic: PromptArithmetic
    /// How keys and values are stored (`kCache`, `vCache` hold `kvType` elements).
    public let kvType: KVCacheType
    let kCache, vCache: UnsafeMutableRawPointer       // (layer, context, kv_dim) each, kvType elements
    private let kvDim: Int
    let x, xb: UnsafeMutablePointer<Float>             // (batch, dim) residual stream, normed copy
    let q, att: UnsafeMutablePointer<Float>            // (batch, q_dim) queries, attention output
    let k, v: UnsafeMutablePointer<Float>              // (batch, kv_dim)
    let hb, hb2: UnsafeMutablePointer<Float>           // (batch, ffn) gate, up
    let scores: UnsafeMutablePointer<Float>            // (threads, context) plain attention's weights
    /// The decode step's attention: per thread (heads, part) weights, then per part of the
    /// context (heads, head_dim) partial outputs and (heads) maxima and sums (`Ops.attentionDecode`).
    let decodeScores, decodeParts: UnsafeMutablePointer<Float>
    let ropeCos, ropeSin: UnsafeMutablePointer<Float>  // (batch, head_dim/2)
    /// Quantized activations and dequantized weight strips for the matrix products.
    let matScratch: MatVecScratch
    /// (threads, batch, context) attention scores of a prompt batch, allocated on first use.
    private(set) var batchScores: UnsafeMutablePointer<Float>?
    var logits: UnsafeMutablePointer<Float>           // (logitRows, vocab)
    var logitRows: Int
    let buffers: [UnsafeMutablePointer<Float>]

    public init(config c: DecoderConfig, context: Int, maxBatch: Int, pool: ThreadPool,
                arithmetic: PromptArithmetic = .standard, kvCache: KVCacheType = .f16) {
        self.context = context; self.maxBatch = maxBatch; self.pool = pool; self.arithmetic = arithmetic
        self.kvType = kvCache; kvDim = c.kvDim
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            // calloc: pages of the KV cache are only resident once written.
            calloc(max(n, 1), MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self)
        }
        kCache = calloc(max(c.layerCount * context * c.kvDim, 1), kvCache.elementBytes)!
        vCache = calloc(max(c.layerCount * context * c.kvDim, 1), kvCache.elementBytes)!
        x = alloc(maxBatch * c.embeddingLength); xb = alloc(maxBatch * c.embeddingLength)
        q = alloc(maxBatch * c.qDim); att = alloc(maxBatch * c.qDim)
        k = alloc(maxBatch * c.kvDim); v = alloc(maxBatch * c.kvDim)
        hb = alloc(maxBatch * c.feedForwardLength); hb2 = alloc(maxBatch * c.feedForwardLength)
        scores = alloc(pool.threads * context)
        decodeScores = alloc(pool.threads * c.headCount * Ops.decodePart)
        decodeParts = alloc((context + Ops.decodePart - 1) / Ops.decodePart * c.headCount * (c.headDim + 2))
        ropeCos = alloc(maxBatch * c.headDim / 2); ropeSin = alloc(maxBatch * c.headDim / 2)
        matScratch = MatVecScratch(maxCols: max(c.embeddingLength, c.qDim, c.feedForwardLength))
        logitRows = 1
        logits = alloc(c.vocabularySize)
        buffers = [x, xb, q, att, k, v, hb, hb2, scores, decodeScores, decodeParts, ropeCos, ropeSin]
    }

    /// Appends k, v (rows, kv_dim) of `layer` at positions pos0... to the cache, rounded to half
    /// when the cache is f16 (to nearest, as llama.cpp's f32 → f16 copy).
    func storeKV(layer: Int, pos0: Int, rows: Int) {
        let offset = (layer * context + pos0) * kvDim, n = rows * kvDim
        switch kvType {
        case .f32:
            (kCache.assumingMemoryBound(to: Float.self) + offset).update(from: k, count: n)
            (vCache.assumingMemoryBound(to: Float.self) + offset).update(from: v, count: n)
        case .f16:
            let kh = kCache.assumingMemoryBound(to: Float16.self) + offset, vh = vCache.assumingMemoryBound(to: Float16.self) + offset
            for i in 0..<n { kh[i] = Float16(k[i]); vh[i] = Float16(v[i]) }
        }
    }

    /// Keys and values of `layer` at positions 0..<n as floats (n, kv_dim) each: the cache itself
    /// when it is f32, else a copy widened from half into a buffer kept for it (the sgemm of batch
    /// attention and the plain reference read floats; converting once per layer costs n·kv_dim
    /// conversions against the products' rows·n·q_dim multiply-adds).
    func floatKV(layer: Int, upTo n: Int) -> (k: UnsafePointer<Float>, v: UnsafePointer<Float>) {
        let offset = layer * context * kvDim
        if kvType == .f32 {
            return (UnsafePointer(kCache.assumingMemoryBound(to: Float.self) + offset),
                    UnsafePointer(vCache.assumingMemoryBound(to: Float.self) + offset))
        }
        if widened == nil { widened = calloc(max(2 * context * kvDim, 1), MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self) }
        let kf = widened!, vf = widened! + context * kvDim
        let kh = kCache.assumingMemoryBound(to: Float16.self) + offset, vh = vCache.assumingMemoryBound(to: Float16.self) + offset
        for i in 0..<(n * kvDim) { kf[i] = Float(kh[i]); vf[i] = Float(vh[i]) }
        return (UnsafePointer(kf), UnsafePointer(vf))
    }
    /// (2, context, kv_dim) floats: one layer's keys and values widened from the f16 cache.
    private var widened: UnsafeMutablePointer<Float>?

    /// Scores for `rows` tokens of a batch per thread; grows once to the largest batch seen.
    func batchScoreBuffer(rows: Int) -> UnsafeMutablePointer<Float> {
        if let b = batchScores, rows <= batchScoreRows { return b }
        free(batchScores)
        batchScores = calloc(pool.threads * rows * context, MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self)
        batchScoreRows = rows
        return batchScores!
    }
    private var batchScoreRows = 0

    deinit {
        for b in buffers { free(b) }
        free(kCache); free(vCache); free(widened)
        free(logits)
        free(batchScores)
    }

    /// Forgets the sequence (the cache is overwritten from position 0).
    public func reset() { position = 0 }

    /// Drops cached tokens after `n` (e.g. to reuse a shared prompt prefix).
    public func truncate(to n: Int) { position = min(position, max(0, n)) }

    func ensureLogitRows(_ rows: Int, vocab: Int) {
        guard rows > logitRows else { return }
        free(logits)
        logits = calloc(rows * vocab, MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self)
        logitRows = rows
    }
}

extension DecoderModel {
    /// Runs `tokens` (at most `state.maxBatch`) at positions state.position..., appends them to
    /// the KV cache and returns the logits of rows `logitsFrom..<tokens.count` as (rows, vocab).
    public func forward(_ tokens: UnsafeBufferPointer<Int32>, state s: DecoderState, logitsFrom: Int) throws -> UnsafeMutablePointer<Float> {
        let c = config, T = tokens.count, dim = c.embeddingLength, pos0 = s.position
        guard T > 0 else { throw EngineError.emptyInput }
        precondition(T <= s.maxBatch && logitsFrom >= 0 && logitsFrom < T)
        guard pos0 + T <= s.context else { throw EngineError.contextOverflow(tokens: pos0 + T, context: s.context) }
        for t in tokens where t < 0 || Int(t) >= c.vocabularySize {
            throw EngineError.tokenOutOfRange(Int(t), vocabulary: c.vocabularySize)
        }
        let clock = Self.stageClock
        clock?.start()
        // x (T, dim) = embedding rows
        for t in 0..<T { tokenEmbedding.dequantizeRows(Int(tokens[t])..<Int(tokens[t]) + 1, into: s.x + t * dim) }
        Ops.ropeTables(c, positions: pos0..<pos0 + T, cos: s.ropeCos, sin: s.ropeSin)
        clock?.mark(.embedding)

        for (l, L) in layers.enumerated() {
            // ---- attention ----
            Ops.byRows(T, s.pool) { r in Ops.rmsNorm(s.x + r.lowerBound * dim, L.attentionNorm, s.xb + r.lowerBound * dim, rows: r.count, dim: dim, eps: c.rmsEpsilon) }   // xb (T, dim)
            clock?.mark(.attentionNorm)
            if T == 1 {                                                                     // one pool call for q, k, v
                WeightMatrix.matvec(L.wq, s.q, L.wk, s.k, L.wv, s.v, x: s.xb, scratch: s.matScratch, pool: s.pool)
                finish(L.wq, .q, l, s.xb, s.q, T, bias: L.bq)
                finish(L.wk, .k, l, s.xb, s.k, T, bias: L.bk)
                finish(L.wv, .v, l, s.xb, s.v, T, bias: L.bv)
            } else {
                project(L.wq, .q, l, s.xb, s.q, T, s, bias: L.bq)                           // q (T, q_dim)
                project(L.wk, .k, l, s.xb, s.k, T, s, bias: L.bk)                           // k (T, kv_dim)
                project(L.wv, .v, l, s.xb, s.v, T, s, bias: L.bv)                           // v (T, kv_dim)
            }
            clock?.mark(.qkv)
            Ops.rope(s.q, rows: T, heads: c.headCount, c, cos: s.ropeCos, sin: s.ropeSin)
            Ops.rope(s.k, rows: T, heads: c.kvHeadCount, c, cos: s.ropeCos, sin: s.ropeSin)
            clock?.mark(.rope)
            s.storeKV(layer: l, pos0: pos0, rows: T)                                       // cache (layer, ctx, kv_dim)
            clock?.mark(.storeKV)
            if T == 1 { Ops.attentionDecode(c, layer: l, state: s, pos0: pos0) }             // att (T, q_dim)
            else { Ops.attentionBatch(c, layer: l, state: s, rows: T, pos0: pos0) }
            clock?.mark(.attention)
            project(L.wo, .o, l, s.att, s.xb, T, s, bias: nil)                             // xb (T, dim)
            clock?.mark(.wo)
            Ops.byRows(T, s.pool) { r in Ops.add(s.x + r.lowerBound * dim, s.xb + r.lowerBound * dim, r.count * dim) }
            clock?.mark(.residual)
            // ---- feed-forward (SwiGLU) ----
            Ops.byRows(T, s.pool) { r in Ops.rmsNorm(s.x + r.lowerBound * dim, L.ffnNorm, s.xb + r.lowerBound * dim, rows: r.count, dim: dim, eps: c.rmsEpsilon) }
            clock?.mark(.ffnNorm)
            if T == 1 {                                                                     // one pool call for gate, up
                WeightMatrix.matvec(L.gate, s.hb, L.up, s.hb2, x: s.xb, scratch: s.matScratch, pool: s.pool)
                finish(L.gate, .gate, l, s.xb, s.hb, T, bias: nil)
                finish(L.up, .up, l, s.xb, s.hb2, T, bias: nil)
            } else {
                project(L.gate, .gate, l, s.xb, s.hb, T, s, bias: nil)                     // hb (T, ffn)
                project(L.up, .up, l, s.xb, s.hb2, T, s, bias: nil)                        // hb2 (T, ffn)
            }
            clock?.mark(.gateUp)
            let ffn = c.feedForwardLength                                                   // hb = silu(hb) ⊙ hb2
            Ops.byRows(T, s.pool) { r in Ops.swiglu(s.hb + r.lowerBound * ffn, s.hb2 + r.lowerBound * ffn, r.count * ffn) }
            clock?.mark(.swiglu)
            project(L.down, .down, l, s.hb, s.xb, T, s, bias: nil)                         // xb (T, dim)
            clock?.mark(.down)
            Ops.byRows(T, s.pool) { r in Ops.add(s.x + r.lowerBound * dim, s.xb + r.lowerBound * dim, r.count * dim) }
            clock?.mark(.residual)
        }
        s.position = pos0 + T
        // logits (rows, vocab) = output · rmsnorm(x[logitsFrom...])
        let rows = T - logitsFrom
        Ops.rmsNorm(s.x + logitsFrom * dim, outputNorm, s.xb, rows: rows, dim: dim, eps: c.rmsEpsilon)
        clock?.mark(.outputNorm)
        s.ensureLogitRows(rows, vocab: c.vocabularySize)
        output.matmul(s.xb, tokens: rows, s.logits, scratch: s.matScratch, pool: s.pool, arithmetic: s.arithmetic)
        clock?.mark(.logits)
        return s.logits
    }

    /// y (T, rows) = x (T, cols) · Wᵀ + bias, then the adapter hook.
    @inline(__always)
    private func project(_ w: WeightMatrix, _ p: Projection, _ layer: Int, _ x: UnsafeMutablePointer<Float>,
                         _ y: UnsafeMutablePointer<Float>, _ T: Int, _ s: DecoderState, bias: UnsafePointer<Float>?) {
        // One token: the integer matvec; a batch: integer kernels or dequantized strips + sgemm,
        // as the state's arithmetic says for the batch size and type (WeightMatrix.blasMinTokens).
        w.matmul(x, tokens: T, y, scratch: s.matScratch, pool: s.pool, arithmetic: s.arithmetic)
        finish(w, p, layer, x, y, T, bias: bias)
    }

    /// What follows a projection's product: its bias, then the adapter hook.
    @inline(__always)
    private func finish(_ w: WeightMatrix, _ p: Projection, _ layer: Int, _ x: UnsafeMutablePointer<Float>,
                        _ y: UnsafeMutablePointer<Float>, _ T: Int, bias: UnsafePointer<Float>?) {
        if let bias { for t in 0..<T { Ops.add(y + t * w.rows, bias, w.rows) } }
        hook?.apply(layer: layer, projection: p, x: x, inDim: w.cols, y: y, outDim: w.rows, tokens: T)
    }
}
