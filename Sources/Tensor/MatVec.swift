import CKernels

/// Matrix-vector and small matrix-matrix products of a `WeightMatrix` with float activations.
///
/// Quantized types: the activations are quantized once per call into `scratch` (8-bit blocks
/// of 32 or 256, as llama.cpp's q8_0 / q8_K), then rows are split across `pool` and each
/// chunk of rows runs one C integer kernel. Float types: Swift SIMD dot products.
extension WeightMatrix {
    /// Rows per claimed chunk: a few µs of work, so claims are cheap next to the work while a
    /// core lost to another process still leaves enough chunks to rebalance.
    static let rowGrain = 16

    /// y[rows] = W · x[cols]. `x` and `y` must not overlap. No allocation.
    public func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       scratch: MatVecScratch, pool: ThreadPool) {
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        let n = cols, stride = rowBytes, base = data
        guard let kernel = rowsKernel else {
            let type = self.type
            pool.parallelFor(rows, grain: Self.rowGrain) { range in
                for r in range { y[r] = FloatDot.dot(type, base + r * stride, x, count: n) }
            }
            return
        }
        scratch.quantize(x, count: n, format: activationFormat!, token: 0)
        var act = scratch.activations(token: 0)
        withUnsafePointer(to: &act) { a in
            pool.parallelFor(rows, grain: Self.rowGrain) { range in
                kernel(Int32(n), base + range.lowerBound * stride, stride, Int32(range.count), a, y + range.lowerBound)
            }
        }
    }

    /// y_a = A·x, y_b = B·x and, when given, y_c = C·x: the matrices of one decode step that read
    /// the same input (q, k, v; gate, up). When they share a column count and an activation
    /// format, x is quantized once and the rows of all of them are split in one `parallelFor`:
    /// one wake-up of the pool and one barrier instead of two or three, which is what SmolLM2's
    /// decode step spends its time on (30 layers of small matrices). Each row gets exactly what
    /// `matvec` gives it (same kernel, same 8-bit activations); otherwise this is separate matvecs.
    public static func matvec(_ a: WeightMatrix, _ ya: UnsafeMutablePointer<Float>,
                              _ b: WeightMatrix, _ yb: UnsafeMutablePointer<Float>,
                              _ c: WeightMatrix? = nil, _ yc: UnsafeMutablePointer<Float>? = nil,
                              x: UnsafePointer<Float>, scratch: MatVecScratch, pool: ThreadPool) {
        let n = a.cols
        guard fusesMatvecs, let ka = a.rowsKernel, let kb = b.rowsKernel, let format = a.activationFormat, b.cols == n, b.activationFormat == format,
              c == nil || (c!.rowsKernel != nil && c!.cols == n && c!.activationFormat == format) else {
            a.matvec(x, ya, scratch: scratch, pool: pool)
            b.matvec(x, yb, scratch: scratch, pool: pool)
            if let c, let yc { c.matvec(x, yc, scratch: scratch, pool: pool) }
            return
        }
        precondition(n <= scratch.maxCols, TensorError.scratchTooSmall(needed: n, capacity: scratch.maxCols).description)
        scratch.quantize(x, count: n, format: format, token: 0)
        var act = scratch.activations(token: 0)
        let kc = c?.rowsKernel, rowsA = a.rows, rowsAB = a.rows + b.rows, total = rowsAB + (c?.rows ?? 0)
        withUnsafePointer(to: &act) { act in
            pool.parallelFor(total, grain: rowGrain) { range in
                // A range may straddle two matrices: each part goes to its own kernel.
                var lo = range.lowerBound
                while lo < range.upperBound {
                    if lo < rowsA {
                        let hi = min(range.upperBound, rowsA)
                        ka(Int32(n), a.data + lo * a.rowBytes, a.rowBytes, Int32(hi - lo), act, ya + lo)
                        lo = hi
                    } else if lo < rowsAB {
                        let hi = min(range.upperBound, rowsAB), r = lo - rowsA
                        kb(Int32(n), b.data + r * b.rowBytes, b.rowBytes, Int32(hi - lo), act, yb + r)
                        lo = hi
                    } else {
                        let hi = range.upperBound, r = lo - rowsAB, m = c!
                        kc!(Int32(n), m.data + r * m.rowBytes, m.rowBytes, Int32(hi - lo), act, yc! + r)
                        lo = hi
                    }
                }
            }
        }
    }

    /// Off: `matvec(_:_:_:_:_:_:x:scratch:pool:)` runs one matvec per matrix (for `bench-llm
    /// --no-fuse`, which compares the two in one run).
    nonisolated(unsafe) public static var fusesMatvecs = true

    /// Y[t] = W · X[t] for `tokens` rows of X ([tokens × cols] → [tokens × rows], row-major):
    /// the prompt (prefill) path.
    ///
    /// Quantized types use the integer kernels with the rows outermost, so each chunk of
    /// weight rows is read from memory once and reused from cache for every token; float
    /// types and large batches go to OpenBLAS (see `blasMinTokens`).
    public func matmul(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                       scratch: MatVecScratch, pool: ThreadPool, arithmetic: PromptArithmetic = .standard) {
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        guard tokens > 0 else { return }
        if tokens == 1 { return matvec(x, y, scratch: scratch, pool: pool) }
        let blasFrom = blasMinTokens(arithmetic)
        if tileKernel != nil && tokens < blasFrom {
            matmulTiled(x, tokens: tokens, y, scratch: scratch, pool: pool, arithmetic: arithmetic)
        } else if rowsKernel != nil && tokens < blasFrom {
            matmulIntegerKernels(x, tokens: tokens, y, scratch: scratch, pool: pool)
        } else {
            matmulBLAS(x, tokens: tokens, y, scratch: scratch, pool: pool)
        }
    }

    /// The integer-kernel path of `matmul` (quantized types only; public for the benchmark).
    public func matmulIntegerKernels(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                                     scratch: MatVecScratch, pool: ThreadPool) {
        guard let kernel = rowsKernel else { preconditionFailure("matmulIntegerKernels: \(type) has no integer kernel") }
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        let n = cols, m = rows, stride = rowBytes, base = data
        scratch.reserve(tokens: tokens)
        for t in 0..<tokens { scratch.quantize(x + t * n, count: n, format: activationFormat!, token: t) }
        let s = scratch
        // 32 rows of weights (≤ 45 KB at 8960 columns of Q4_K) stay in L1/L2 across the tokens.
        pool.parallelFor(rows, chunk: 32) { range in
            for t in 0..<tokens {
                var act = s.activations(token: t)
                withUnsafePointer(to: &act) { a in
                    kernel(Int32(n), base + range.lowerBound * stride, stride, Int32(range.count), a,
                           y + t * m + range.lowerBound)
                }
            }
        }
    }

    /// Tokens per tile-kernel call: each call unpacks its rows once, so the unpacking is paid
    /// once per `tileTokens` tokens while their activations (≤ 64 × 8960 bytes) stay in L2.
    static let tileTokens = 64

    /// Tokens per call of an interleaved kernel. These read a group's activations once per 16
    /// rows (the tile kernels once per row), so a group four times as large costs them ~6 GB/s
    /// of L3 reads at most, and halves the unpacking left (~5% of the kernel at 64). Measured
    /// on one Zen 3 core, 512 tokens, G multiply-adds/s at 64 → 256 tokens a call: Q4_K
    /// 1536 cols 85 → 97, 8960 cols 96 → 101; Q6_K 8960 cols 74 → 82 (harness on a busy host).
    static let interleavedTileTokens = 256

    /// The tile-kernel path of `matmul`: every chunk of rows is unpacked once per group of
    /// tokens and multiplied with each token by integer arithmetic, giving for every token
    /// exactly what `matvec` gives (types with a tile kernel only; public for the benchmark).
    public func matmulTiled(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                            scratch: MatVecScratch, pool: ThreadPool, arithmetic: PromptArithmetic = .standard) {
        guard let kernel = tileKernel(arithmetic) else { preconditionFailure("matmulTiled: \(type) has no tile kernel") }
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        let n = cols, m = rows, stride = rowBytes, base = data, format = activationFormat!
        scratch.reserve(tokens: tokens)
        let s = scratch
        pool.parallelFor(tokens, grain: 8) { range in
            for t in range { s.quantize(x + t * n, count: n, format: format, token: t) }
        }
        let views = UnsafePointer(scratch.views)
        let perThread = (strata_tile_scratch_bytes(Int32(n)) + 63) / 64 * 64
        let unpacked = scratch.unpackScratch(bytes: perThread * pool.threads)
        let group = usesInterleavedKernel(arithmetic) ? Self.interleavedTileTokens : Self.tileTokens
        pool.parallelFor(rows, chunk: 16) { range, slot in
            for t0 in Swift.stride(from: 0, to: tokens, by: group) {
                kernel(Int32(n), base + range.lowerBound * stride, stride, Int32(range.count), Int32(min(group, tokens - t0)),
                       views + t0, y + t0 * m + range.lowerBound, m, unpacked + slot * perThread)
            }
        }
    }

    /// From this many tokens on, `arithmetic` sends a prompt to dequantized tiles + sgemm.
    /// The switch points were measured on whole models with `bench-llm --blas-min-tokens`
    /// (SmolLM2-135M Q4_1 and Qwen2.5-1.5B Q4_K_M, prompt tokens/s, this host, other work paused):
    /// - interleaved: sgemm run from both pool threads went no faster than on one thread up to
    ///   320 tokens, then jumped (SmolLM2 pp320 94 t/s vs 158 on the tile kernels, pp384 213 vs
    ///   168; Qwen pp256 7.8 vs 21.7, pp512 22.3 vs 21.7): integer kernels below 384 tokens for
    ///   the types without tile kernels (Qwen's row kernels ran pp128 at 22.0). The types with
    ///   tile kernels never switch: on the interleaved kernels throughout against sgemm from 384
    ///   tokens, Qwen ran pp512 at 27.8 t/s against 22.2 and SmolLM2 at 237 against 205.
    /// - row-exact: 64 for the 32-blocks types, 192 for the K types, as measured on one thread
    ///   before the tile kernels existed; kept so that long evaluations recorded with it resume
    ///   with the same rounding.
    /// Switch points depend on the arithmetic only, never on the thread count: a thread count
    /// changes speed, not results.
    public func blasMinTokens(_ arithmetic: PromptArithmetic) -> Int {
        if let forced = Self.blasMinTokensOverride { return forced }
        switch arithmetic {
        case .interleaved where rowsKernel != nil: return tileKernel != nil ? Int.max : 384
        default: return activationBlock == 256 ? 192 : 64
        }
    }

    /// For benchmarks comparing the prompt paths on whole models (`bench-llm --blas-min-tokens`);
    /// nil in the product.
    nonisolated(unsafe) public static var blasMinTokensOverride: Int?

    /// Each pool thread claims strips of `MatVecScratch.tileRows` weight rows, dequantizes
    /// one into its own tile and multiplies it with all tokens by a single-threaded sgemm.
    /// Callers keep OpenBLAS at one thread (`BLAS.setThreads(1)`): OpenBLAS's own threads
    /// beside this pool would fight it for the same cores; one strip per thread keeps both
    /// cores busy through dequantization and the product alike.
    public func matmulBLAS(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                           scratch: MatVecScratch, pool: ThreadPool) {
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        let n = cols, m = rows, strip = MatVecScratch.tileRows
        let tiles = scratch.tile(elements: pool.threads * strip * n)
        pool.parallelFor(m, chunk: strip) { range, slot in
            let tile = tiles + slot * strip * n
            dequantizeRows(range, into: tile)
            // Y[:, range] = X[tokens × n] · tile[range.count × n]ᵀ, written with ldc = m.
            BLAS.gemm(m: tokens, n: range.count, k: n, a: x, lda: n, b: tile, ldb: n, transB: true,
                      c: y + range.lowerBound, ldc: m)
        }
    }
}
