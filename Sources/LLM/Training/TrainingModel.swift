import Foundation
import Tensor

/// A frozen `DecoderModel` with trainable LoRA weights: a float forward pass over packed
/// sequences that keeps every activation the backward needs, the loss, and the backward pass
/// into the LoRA gradients.
///
/// The base weights stay quantized in the mapping. Each layer's matrices are dequantized into
/// one set of float buffers when the layer runs (forward, and again in the backward), and the
/// tied output head in strips of rows per thread, so no float copy of the whole model exists.
/// The forward is the engine's arithmetic (its RoPE tables and rotation, the same attention
/// and norms), so what is trained is the model that is served.
public final class LoRATrainingModel: @unchecked Sendable {
    public let model: DecoderModel
    public let lora: LoRAParameters
    let pool: ThreadPool
    /// Most rows (sequences × length) per call, and the longest sequence.
    public let maxRows: Int
    public let maxLength: Int

    /// Activations of one layer for the backward (rows = sequences × length).
    struct LayerCache {
        var x, n1, rstd1: UnsafeMutablePointer<Float>      // (rows, dim) input, normed, (rows)
        var q, k, v: UnsafeMutablePointer<Float>           // (rows, q_dim), (rows, kv_dim) ×2 after RoPE
        var probs: UnsafeMutablePointer<Float>             // (sequences, heads, length, length)
        var att: UnsafeMutablePointer<Float>               // (rows, q_dim)
        var xMid, n2, rstd2: UnsafeMutablePointer<Float>   // (rows, dim) after attention, normed, (rows)
        var g, u, h: UnsafeMutablePointer<Float>           // (rows, ffn) gate, up, silu(g)⊙u
        var loraU: UnsafeMutablePointer<Float>             // (7, rows, rank) x·Aᵀ per projection
    }
    var caches: [LayerCache] = []
    let xFinal, nFinal, rstdFinal: UnsafeMutablePointer<Float>
    // One layer's weights in float: (rows, cols) as in `DecoderLayer`.
    let wq, wk, wv, wo, wg, wu, wd: UnsafeMutablePointer<Float>
    // Backward scratch.
    let dx, dn, datt, dq, dk, dv, dh, dg, du, t, attScratch: UnsafeMutablePointer<Float>
    let ropeCos, ropeSin, ropeSinBack: UnsafeMutablePointer<Float>
    // The output head, a chunk of rows at a time.
    static let headRows = 256
    let logits, headTiles, headAcc: UnsafeMutablePointer<Float>
    let matScratch: MatVecScratch
    private var allocations: [UnsafeMutablePointer<Float>] = []

    public init(model: DecoderModel, lora: LoRAParameters, maxRows: Int, maxLength: Int, pool: ThreadPool) {
        self.model = model; self.lora = lora; self.pool = pool
        self.maxRows = maxRows; self.maxLength = maxLength
        let c = model.config, N = maxRows, dim = c.embeddingLength, ffn = c.feedForwardLength, r = lora.rank
        var all: [UnsafeMutablePointer<Float>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let p = calloc(max(n, 1), MemoryLayout<Float>.stride)!.assumingMemoryBound(to: Float.self)
            all.append(p)
            return p
        }
        for _ in 0..<c.layerCount {
            caches.append(LayerCache(
                x: alloc(N * dim), n1: alloc(N * dim), rstd1: alloc(N),
                q: alloc(N * c.qDim), k: alloc(N * c.kvDim), v: alloc(N * c.kvDim),
                probs: alloc(c.headCount * N * maxLength), att: alloc(N * c.qDim),
                xMid: alloc(N * dim), n2: alloc(N * dim), rstd2: alloc(N),
                g: alloc(N * ffn), u: alloc(N * ffn), h: alloc(N * ffn),
                loraU: alloc(Projection.allCases.count * N * r)))
        }
        xFinal = alloc(N * dim); nFinal = alloc(N * dim); rstdFinal = alloc(N)
        wq = alloc(c.qDim * dim); wk = alloc(c.kvDim * dim); wv = alloc(c.kvDim * dim); wo = alloc(dim * c.qDim)
        wg = alloc(ffn * dim); wu = alloc(ffn * dim); wd = alloc(dim * ffn)
        dx = alloc(N * dim); dn = alloc(N * dim); datt = alloc(N * c.qDim); dq = alloc(N * c.qDim)
        dk = alloc(N * c.kvDim); dv = alloc(N * c.kvDim)
        dh = alloc(N * ffn); dg = alloc(N * ffn); du = alloc(N * ffn); t = alloc(N * r)
        attScratch = alloc(pool.threads * maxLength * maxLength)
        ropeCos = alloc(N * c.headDim / 2); ropeSin = alloc(N * c.headDim / 2); ropeSinBack = alloc(N * c.headDim / 2)
        let hr = min(Self.headRows, N)
        logits = alloc(hr * c.vocabularySize)
        headTiles = alloc(pool.threads * Self.headStrip * dim)
        headAcc = alloc(pool.threads * hr * dim)
        matScratch = MatVecScratch(maxCols: max(dim, c.qDim, ffn))
        allocations = all
    }

    deinit { for p in allocations { free(p) } }

    /// Vocabulary rows of the output head dequantized per thread at a time (128 × 576 floats ≈ 300 KB).
    static let headStrip = 128

    // MARK: forward

    /// The mean next-token loss of `sequences` packed sequences, each `length + 1` tokens in
    /// `tokens` (inputs are the first `length`, targets the last `length`). With `backward`,
    /// adds gradScale × the gradient of the summed loss to `lora.gradients`.
    /// Returns the summed negative log-likelihood (nats) over sequences × length targets.
    public func run(tokens: [Int32], sequences S: Int, length T: Int, backward: Bool, gradScale: Float = 1) -> Double {
        precondition(S * T <= maxRows && T <= maxLength && tokens.count == S * (T + 1))
        var inputs = [Int32](), targets = [Int32]()
        inputs.reserveCapacity(S * T); targets.reserveCapacity(S * T)
        for s in 0..<S {
            inputs += tokens[s * (T + 1)..<s * (T + 1) + T]
            targets += tokens[s * (T + 1) + 1..<(s + 1) * (T + 1)]
        }
        forwardLayers(inputs, sequences: S, length: T)
        let N = S * T, dim = model.config.embeddingLength
        if backward { dx.update(repeating: 0, count: N * dim) }
        var nll = 0.0
        targets.withUnsafeBufferPointer { tg in
            var start = 0
            while start < N {
                let rows = min(Self.headRows, N - start)
                headLogits(from: start, rows: rows)
                nll += TrainOps.crossEntropy(logits: logits, targets: tg.baseAddress! + start, rows: rows,
                                             vocab: model.config.vocabularySize, gradScale: gradScale)
                if backward { headBackward(from: start, rows: rows) }
                start += rows
            }
        }
        if backward { backwardLayers(sequences: S, length: T) }
        return nll
    }

    /// Logits (length, vocab) of one sequence: the parity check against the engine.
    public func logits(for inputs: [Int32]) -> [Float] {
        let T = inputs.count, vocab = model.config.vocabularySize
        precondition(T <= maxRows && T <= maxLength)
        forwardLayers(inputs, sequences: 1, length: T)
        var out = [Float](repeating: 0, count: T * vocab)
        var start = 0
        while start < T {
            let rows = min(Self.headRows, T - start)
            headLogits(from: start, rows: rows)
            for i in 0..<rows * vocab { out[start * vocab + i] = logits[i] }
            start += rows
        }
        return out
    }

    func forwardLayers(_ inputs: [Int32], sequences S: Int, length T: Int) {
        let c = model.config, N = S * T, dim = c.embeddingLength, ffn = c.feedForwardLength
        for (i, tok) in inputs.enumerated() {
            model.tokenEmbedding.dequantizeRows(Int(tok)..<Int(tok) + 1, into: caches[0].x + i * dim)
        }
        TrainOps.ropeTables(c, sequences: S, length: T, cos: ropeCos, sin: ropeSin, sinBack: ropeSinBack)
        for l in 0..<c.layerCount {
            let L = model.layers[l], C = caches[l]
            loadWeights(L)
            // ---- attention ----
            TrainOps.rmsNorm(x: C.x, w: L.attentionNorm, out: C.n1, rstd: C.rstd1, rows: N, dim: dim, eps: c.rmsEpsilon)
            project(l, .q, wq, L.bq, C.n1, C.q, N)
            project(l, .k, wk, L.bk, C.n1, C.k, N)
            project(l, .v, wv, L.bv, C.n1, C.v, N)
            Ops.rope(C.q, rows: N, heads: c.headCount, c, cos: ropeCos, sin: ropeSin)
            Ops.rope(C.k, rows: N, heads: c.kvHeadCount, c, cos: ropeCos, sin: ropeSin)
            for s in 0..<S {
                TrainOps.attention(pool, q: C.q + s * T * c.qDim, k: C.k + s * T * c.kvDim, v: C.v + s * T * c.kvDim,
                                   out: C.att + s * T * c.qDim, probs: C.probs + s * c.headCount * T * T,
                                   T: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
            }
            project(l, .o, wo, nil, C.att, C.xMid, N)
            for i in 0..<N * dim { C.xMid[i] += C.x[i] }
            // ---- feed-forward (SwiGLU) ----
            TrainOps.rmsNorm(x: C.xMid, w: L.ffnNorm, out: C.n2, rstd: C.rstd2, rows: N, dim: dim, eps: c.rmsEpsilon)
            project(l, .gate, wg, nil, C.n2, C.g, N)
            project(l, .up, wu, nil, C.n2, C.u, N)
            TrainOps.swiglu(g: C.g, u: C.u, h: C.h, count: N * ffn)
            let next = l + 1 < c.layerCount ? caches[l + 1].x : xFinal
            project(l, .down, wd, nil, C.h, next, N)
            for i in 0..<N * dim { next[i] += C.xMid[i] }
        }
        TrainOps.rmsNorm(x: xFinal, w: model.outputNorm, out: nFinal, rstd: rstdFinal, rows: N, dim: dim, eps: c.rmsEpsilon)
    }

    /// y (rows, out) = x · Wᵀ + bias + s·B·(A·x) for the adapted projections.
    private func project(_ l: Int, _ p: Projection, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                         _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ N: Int) {
        let (inDim, outDim) = LoRAParameters.shape(p, model.config)
        TrainOps.linear(pool, x: x, w: w, y: y, rows: N, inDim: inDim, outDim: outDim)
        if let bias { for r in 0..<N { for i in 0..<outDim { y[r * outDim + i] += bias[i] } } }
        if let s = lora.slot(l, p) {
            TrainOps.loraForward(pool, x: x, a: lora.values + s.a, b: lora.values + s.b, u: loraU(l, p, N), y: y,
                                 rows: N, inDim: inDim, outDim: outDim, rank: lora.rank, scale: lora.scale)
        }
    }

    private func loraU(_ l: Int, _ p: Projection, _ N: Int) -> UnsafeMutablePointer<Float> {
        caches[l].loraU + Projection.allCases.firstIndex(of: p)! * maxRows * lora.rank
    }

    /// Dequantizes one layer's seven matrices into the float buffers, rows split across the pool.
    private func loadWeights(_ L: DecoderLayer) {
        for (w, into) in [(L.wq, wq), (L.wk, wk), (L.wv, wv), (L.wo, wo), (L.gate, wg), (L.up, wu), (L.down, wd)] {
            let cols = w.cols
            pool.parallelFor(w.rows, chunk: 64) { range in w.dequantizeRows(range, into: into + range.lowerBound * cols) }
        }
    }

    /// logits (rows, vocab) = nFinal[from...] · Eᵀ, by the engine's strip-wise dequantize + sgemm.
    private func headLogits(from start: Int, rows: Int) {
        let dim = model.config.embeddingLength
        model.output.matmulBLAS(nFinal + start * dim, tokens: rows, logits, scratch: matScratch, pool: pool)
    }

    // MARK: backward

    /// dx[from...] += rmsnorm'ᵀ(dlogits · E): each thread dequantizes strips of vocabulary rows
    /// and adds its share into its own accumulator; the accumulators are summed at the end.
    private func headBackward(from start: Int, rows: Int) {
        let c = model.config, dim = c.embeddingLength, vocab = c.vocabularySize, strip = Self.headStrip
        let threads = pool.threads, output = model.output
        let dl = logits, tiles = headTiles, acc = headAcc
        acc.update(repeating: 0, count: threads * rows * dim)
        pool.parallelFor(vocab, chunk: strip) { range, slot in
            let tile = tiles + slot * strip * dim
            output.dequantizeRows(range, into: tile)
            BLAS.gemm(transA: false, transB: false, m: rows, n: dim, k: range.count, a: dl + range.lowerBound, lda: vocab,
                      b: tile, ldb: dim, c: acc + slot * rows * dim, ldc: dim, beta: 1)
        }
        for s in 1..<threads { for i in 0..<rows * dim { acc[i] += acc[s * rows * dim + i] } }
        TrainOps.rmsNormBackward(dy: acc, x: xFinal + start * dim, w: model.outputNorm, rstd: rstdFinal + start,
                                 dx: dx + start * dim, rows: rows, dim: dim)
    }

    /// From dx = ∂loss/∂(last layer's output) down to layer 0, adding into the LoRA gradients.
    private func backwardLayers(sequences S: Int, length T: Int) {
        let c = model.config, N = S * T, dim = c.embeddingLength, ffn = c.feedForwardLength
        for l in stride(from: c.layerCount - 1, through: 0, by: -1) {
            let L = model.layers[l], C = caches[l]
            loadWeights(L)
            // ---- feed-forward: next = xMid + down(h), h = silu(g)⊙u, g/u = proj(n2) ----
            projectBackward(l, .down, wd, dy: dx, x: C.h, dx: dh, N, accumulate: false)
            TrainOps.swigluBackward(dh: dh, g: C.g, u: C.u, dg: dg, du: du, count: N * ffn)
            projectBackward(l, .gate, wg, dy: dg, x: C.n2, dx: dn, N, accumulate: false)
            projectBackward(l, .up, wu, dy: du, x: C.n2, dx: dn, N, accumulate: true)
            TrainOps.rmsNormBackward(dy: dn, x: C.xMid, w: L.ffnNorm, rstd: C.rstd2, dx: dx, rows: N, dim: dim)
            // ---- attention: xMid = x + o(att) ----
            projectBackward(l, .o, wo, dy: dx, x: C.att, dx: datt, N, accumulate: false)
            for s in 0..<S {
                TrainOps.attentionBackward(pool, dOut: datt + s * T * c.qDim, q: C.q + s * T * c.qDim, k: C.k + s * T * c.kvDim,
                                           v: C.v + s * T * c.kvDim, probs: C.probs + s * c.headCount * T * T,
                                           dq: dq + s * T * c.qDim, dk: dk + s * T * c.kvDim, dv: dv + s * T * c.kvDim,
                                           scratch: attScratch, T: T, heads: c.headCount, kvHeads: c.kvHeadCount, headDim: c.headDim)
            }
            Ops.rope(dq, rows: N, heads: c.headCount, c, cos: ropeCos, sin: ropeSinBack)
            Ops.rope(dk, rows: N, heads: c.kvHeadCount, c, cos: ropeCos, sin: ropeSinBack)
            projectBackward(l, .q, wq, dy: dq, x: C.n1, dx: dn, N, accumulate: false)
            projectBackward(l, .k, wk, dy: dk, x: C.n1, dx: dn, N, accumulate: true)
            projectBackward(l, .v, wv, dy: dv, x: C.n1, dx: dn, N, accumulate: true)
            TrainOps.rmsNormBackward(dy: dn, x: C.x, w: L.attentionNorm, rstd: C.rstd1, dx: dx, rows: N, dim: dim)
        }
    }

    /// dx (=/+=) dy · W plus the LoRA path, and the LoRA gradients of this projection.
    private func projectBackward(_ l: Int, _ p: Projection, _ w: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                 x: UnsafePointer<Float>, dx out: UnsafeMutablePointer<Float>, _ N: Int, accumulate: Bool) {
        let (inDim, outDim) = LoRAParameters.shape(p, model.config)
        TrainOps.gemm(pool, m: N, n: inDim, k: outDim, a: dy, lda: outDim, b: w, ldb: inDim, c: out, ldc: inDim,
                      beta: accumulate ? 1 : 0)
        if let s = lora.slot(l, p) {
            TrainOps.loraBackward(pool, dy: dy, x: x, u: loraU(l, p, N), a: lora.values + s.a, b: lora.values + s.b,
                                  da: lora.gradients + s.a, db: lora.gradients + s.b, dx: out, t: t,
                                  rows: N, inDim: inDim, outDim: outDim, rank: lora.rank, scale: lora.scale)
        }
    }
}
