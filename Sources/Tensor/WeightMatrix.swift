import CKernels

/// A [rows × cols] weight matrix as stored in GGUF (ggml shape [cols, rows]): each row is
/// contiguous, `type.rowBytes(cols)` bytes, rows back to back. The matrix does not own its
/// bytes: `data` usually points into a memory-mapped model file that must outlive it.
public struct WeightMatrix: @unchecked Sendable {
    /// The formats with both a reference dequantizer and a fast kernel.
    public static let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K]

    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    /// Bytes from one row to the next.
    public let rowBytes: Int

    /// Checks the type and shape; throws `TensorError` naming what is wrong (never traps).
    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws {
        guard Self.supportedTypes.contains(type) else { throw TensorError.unsupportedType(type) }
        guard rows > 0, cols > 0 else { throw TensorError.badShape(rows: rows, cols: cols) }
        guard cols % type.blockSize == 0 else { throw TensorError.rowNotWholeBlocks(type: type, cols: cols) }
        guard let rowBytes = type.rowBytes(cols), !rows.multipliedReportingOverflow(by: rowBytes).overflow else {
            throw TensorError.badShape(rows: rows, cols: cols)
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.rowBytes = rowBytes
    }

    /// Total bytes of weights (what a matvec streams from memory).
    public var byteCount: Int { rows * rowBytes }

    /// Pointer to the start of row `r`.
    @inline(__always)
    public func row(_ r: Int) -> UnsafeRawPointer { data + r * rowBytes }

    /// Dequantizes `rows` into `into` (rows.count × cols floats, row-major): embedding lookup,
    /// and tiles for BLAS in prefill.
    public func dequantizeRows(_ rows: Range<Int>, into: UnsafeMutablePointer<Float>) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= self.rows,
                     "dequantizeRows: rows \(rows) outside 0..<\(self.rows)")
        for (i, r) in rows.enumerated() {
            FastDequant.row(type, row(r), into + i * cols, count: cols)
        }
    }

    /// How activations are quantized for this type (nil: float activations).
    var activationFormat: ActivationFormat? {
        switch type {
        case .q4_0, .q5_0, .q8_0: return .q8_0
        case .q4_1: return .q8_1
        case .q4_K, .q5_K, .q6_K: return .q8_K
        default: return nil
        }
    }

    /// Block size the activations are quantized in for this type (0: float activations).
    var activationBlock: Int { activationFormat?.block ?? 0 }

    typealias RowsKernel = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32,
                                           UnsafePointer<strata_q8_act>?, UnsafeMutablePointer<Float>?) -> Void

    /// The C kernel for this type (run-time AVX2 dispatch happens inside it).
    var rowsKernel: RowsKernel? {
        switch type {
        case .q4_0: return strata_rows_q4_0
        case .q4_1: return strata_rows_q4_1
        case .q5_0: return strata_rows_q5_0
        case .q8_0: return strata_rows_q8_0
        case .q4_K: return strata_rows_q4_K
        case .q5_K: return strata_rows_q5_K
        case .q6_K: return strata_rows_q6_K
        default: return nil
        }
    }

    typealias TileKernel = @convention(c) (Int32, UnsafeRawPointer?, Int, Int32, Int32, UnsafePointer<strata_q8_act>?,
                                           UnsafeMutablePointer<Float>?, Int, UnsafeMutableRawPointer?) -> Void

    /// Whether `matmulTiled` can run for this type.
    public var hasTileKernel: Bool { tileKernel != nil }

    /// The prefill kernel of `arithmetic`: interleaved runs Q4_K, Q6_K and Q4_1 eight rows at a time
    /// (Q4_K 1.3-1.5x the tile kernel, `bench-kernels --matmul-only`), equal to the row kernels
    /// up to float rounding; row-exact keeps the tile kernels, bit for bit the row kernels.
    /// Which interleaved kernel runs is `CPUFeatures.kernelPath`'s choice; every path is bit for
    /// bit the eight-row AVX2 kernel.
    func tileKernel(_ arithmetic: PromptArithmetic) -> TileKernel? {
        if usesInterleavedKernel(arithmetic), let k = Self.interleavedKernel(type, CPUFeatures.kernelPath) {
            return k
        }
        return tileKernel
    }

    /// Whether `tileKernel(arithmetic)` is an interleaved kernel (16 or 8 rows a step).
    func usesInterleavedKernel(_ arithmetic: PromptArithmetic) -> Bool {
        arithmetic == .interleaved && CPUFeatures.hasAVX2 && Self.interleavedKernel(type, CPUFeatures.kernelPath) != nil
    }

    /// The interleaved prompt kernel for `type` on `path` (nil: the type has none).
    static func interleavedKernel(_ type: GGMLType, _ path: CPUFeatures.KernelPath) -> TileKernel? {
        typealias Family = (avx2: TileKernel, avx512: TileKernel, avx512vnni: TileKernel, avxvnni: TileKernel)
        let family: Family
        switch type {
        case .q4_K: family = (strata_gemm8_q4_K_avx2, strata_gemm16_q4_K_avx512, strata_gemm16_q4_K_avx512vnni, strata_gemm8_q4_K_avxvnni)
        case .q4_1: family = (strata_gemm8_q4_1_avx2, strata_gemm16_q4_1_avx512, strata_gemm16_q4_1_avx512vnni, strata_gemm8_q4_1_avxvnni)
        case .q6_K: family = (strata_gemm8_q6_K_avx2, strata_gemm16_q6_K_avx512, strata_gemm16_q6_K_avx512vnni, strata_gemm8_q6_K_avxvnni)
        default: return nil
        }
        switch path {
        case .avx2: return family.avx2
        case .avx512: return family.avx512
        case .vnni: return CPUFeatures.hasAVX512VNNI ? family.avx512vnni : family.avxvnni
        }
    }

    /// The prefill kernel that unpacks each row once for many tokens (nil: no such kernel).
    var tileKernel: TileKernel? {
        switch type {
        case .q4_1: return strata_tile_q4_1
        case .q4_K: return strata_tile_q4_K
        case .q6_K: return strata_tile_q6_K
        default: return nil
        }
    }
}
