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
        scratch.quantize(x, count: n, block: activationBlock, token: 0)
        var act = scratch.activations(token: 0)
        withUnsafePointer(to: &act) { a in
            pool.parallelFor(rows, grain: Self.rowGrain) { range in
                kernel(Int32(n), base + range.lowerBound * stride, stride, Int32(range.count), a, y + range.lowerBound)
            }
        }
    }

    /// Y[t] = W · X[t] for `tokens` rows of X ([tokens × cols] → [tokens × rows], row-major):
    /// the prompt (prefill) path.
    ///
    /// Quantized types use the integer kernels with the rows outermost, so each chunk of
    /// weight rows is read from memory once and reused from cache for every token; float
    /// types and large batches go to OpenBLAS (see `blasMinTokens`).
    public func matmul(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                       scratch: MatVecScratch, pool: ThreadPool) {
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        guard tokens > 0 else { return }
        if tokens == 1 { return matvec(x, y, scratch: scratch, pool: pool) }
        if rowsKernel != nil && tokens < Self.blasMinTokens {
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
        for t in 0..<tokens { scratch.quantize(x + t * n, count: n, block: activationBlock, token: t) }
        let s = scratch
        pool.parallelFor(rows, grain: Self.rowGrain) { range in
            for t in 0..<tokens {
                var act = s.activations(token: t)
                withUnsafePointer(to: &act) { a in
                    kernel(Int32(n), base + range.lowerBound * stride, stride, Int32(range.count), a,
                           y + t * m + range.lowerBound)
                }
            }
        }
    }

    /// From this many tokens on, dequantized tiles + sgemm beat the integer kernels
    /// (measured with bench-kernels; see the commit that set it).
    public static let blasMinTokens = 32

    /// Dequantizes strips of rows into the scratch tile (in parallel on `pool`) and multiplies
    /// each with OpenBLAS (which runs its own threads; the pool is idle meanwhile).
    public func matmulBLAS(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                           scratch: MatVecScratch, pool: ThreadPool) {
        precondition(cols <= scratch.maxCols, TensorError.scratchTooSmall(needed: cols, capacity: scratch.maxCols).description)
        let n = cols, m = rows
        let tile = scratch.tile(elements: MatVecScratch.tileRows * n)
        for r0 in stride(from: 0, to: m, by: MatVecScratch.tileRows) {
            let r1 = min(m, r0 + MatVecScratch.tileRows)
            pool.parallelFor(r1 - r0, grain: 8) { range in
                dequantizeRows((r0 + range.lowerBound)..<(r0 + range.upperBound), into: tile + range.lowerBound * n)
            }
            // Y[:, r0..<r1] = X[tokens × n] · tile[(r1-r0) × n]ᵀ, written with ldc = m.
            BLAS.gemm(m: tokens, n: r1 - r0, k: n, a: x, lda: n, b: tile, ldb: n, transB: true,
                      c: y + r0, ldc: m)
        }
    }
}
