import Tensor

/// A weight matrix `rows × cols` used in place from the mapped file (y = W·x, each row one
/// output). Decode runs quantized row·vector dot products; prompt processing dequantizes tiles
/// of rows to float and multiplies them with all prompt tokens at once through OpenBLAS.
///
/// Kept in LLM until the shared `WeightMatrix` (branch kernels) lands; the API mirrors it.
public struct QuantizedMatrix: @unchecked Sendable {
    public let name: String
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let rowBytes: Int
    public let data: UnsafeRawPointer

    /// Rows dequantized per tile in `matmul`: 64 rows × 8960 cols × 4 B = 2.3 MB at most.
    static let tileRows = 64

    public init(_ t: ModelFile.Tensor) throws {
        guard Dequantize.supported.contains(t.type) else {
            throw EngineError.unsupportedType(tensor: t.name, type: t.type.description)
        }
        guard t.shape.count <= 2 else {
            throw EngineError.badShape(tensor: t.name, expected: "2 dimensions", found: t.shape)
        }
        name = t.name; type = t.type
        cols = t.shape[0]; rows = t.shape.count == 2 ? t.shape[1] : 1
        rowBytes = t.type.rowBytes(cols)!
        data = t.data
    }

    /// Dequantizes row `i` into `out[0..<cols]` (embedding lookup).
    public func row(_ i: Int, into out: UnsafeMutablePointer<Float>) {
        Dequantize.row(type, data + i * rowBytes, out, count: cols)
    }

    /// y[rows] = W · x[cols]. `scratch` holds ≥ 2·cols + threads·cols + 16 floats.
    public func matvec(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                       scratch: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let xr = ActivationRounding.apply(for: type, x, scratch, count: cols)
        // Per-32 block sums of x: the min/offset term of Q4_0/Q4_1/Q4_K rows shares them.
        let xsum = scratch + cols
        for b in 0..<cols / 32 { xsum[b] = QuantDot.f32Sum(xr + b * 32) }
        let rowScratch = xsum + (cols / 32 + 15) / 16 * 16
        let chunk = max(8, rows / (pool.threads * 16)), chunks = (rows + chunk - 1) / chunk
        let type = type, cols = cols, rowBytes = rowBytes, data = data, rows = rows
        nonisolated(unsafe) let x = xr, y = y, xs = UnsafePointer(xsum), rs = rowScratch
        pool.parallelFor(chunks) { c, slot in
            let start = c * chunk, end = min(rows, start + chunk)
            let buf = rs + slot * cols
            for r in start..<end {
                y[r] = QuantizedMatrix.dot(type, data + r * rowBytes, x, xs, cols: cols, buffer: buf)
            }
        }
    }

    /// Dot product of one row with x, by the fastest path the type has.
    @inline(__always)
    static func dot(_ type: GGMLType, _ row: UnsafeRawPointer, _ x: UnsafePointer<Float>, _ xsum: UnsafePointer<Float>,
                    cols: Int, buffer: UnsafeMutablePointer<Float>) -> Float {
        switch type {
        case .q4_1: return QuantDot.q4_1(row, x, xsum, blocks: cols / 32)
        case .q4_0: return QuantDot.q4_0(row, x, xsum, blocks: cols / 32)
        case .q8_0: return QuantDot.q8_0(row, x, blocks: cols / 32)
        case .q4_K: return QuantDot.q4_K(row, x, xsum, blocks: cols / 256)
        case .f32: return QuantDot.f32(row.assumingMemoryBound(to: Float.self), x, cols)
        default:
            Dequantize.row(type, row, buffer, count: cols)
            return QuantDot.f32(buffer, x, cols)
        }
    }

    /// y[tokens × rows] = x[tokens × cols] · Wᵀ, by tiles of dequantized rows and sgemm.
    /// `scratch` holds ≥ threads · tileRows · cols floats, `rounded` ≥ tokens · cols. OpenBLAS
    /// must run single-threaded (our pool provides the parallelism; two pools on 2 cores lose).
    public func matmul(_ x: UnsafePointer<Float>, tokens: Int, _ y: UnsafeMutablePointer<Float>,
                       scratch: UnsafeMutablePointer<Float>, rounded: UnsafeMutablePointer<Float>, pool: WorkerPool) {
        let x = ActivationRounding.apply(for: type, x, rounded, count: tokens * cols)
        let tile = Self.tileRows, tiles = (rows + tile - 1) / tile
        let type = type, cols = cols, rowBytes = rowBytes, data = data, rows = rows
        nonisolated(unsafe) let y = y, s = scratch
        pool.parallelFor(tiles) { t, slot in
            let r0 = t * tile, n = min(tile, rows - r0)
            let w = s + slot * tile * cols
            for r in 0..<n { Dequantize.row(type, data + (r0 + r) * rowBytes, w + r * cols, count: cols) }
            BLAS.gemm(m: tokens, n: n, k: cols, a: x, lda: cols, b: w, ldb: cols, transB: true,
                      c: y + r0, ldc: rows)
        }
    }
}

extension QuantDot {
    @inline(__always) static func f32Sum(_ p: UnsafePointer<Float>) -> Float {
        (load8(p) + load8(p + 8) + load8(p + 16) + load8(p + 24)).sum()
    }
}

/// Rounds activations to Q8 blocks the way llama.cpp does before a quantized matrix product
/// (`vec_dot_type`: Q8_0 for Q4_0/Q8_0 weights, Q8_1 for Q4_1): 32 values share the scale
/// amax/127, stored as f16. We keep the arithmetic in float but reproduce this rounding,
/// because small models are sensitive to it: on SmolLM2 it halves the logit distance to
/// llama.cpp (rms 0.6 → 0.35 on a 37-token chat prompt) and fixes the first greedy token there.
/// K-quant weights (Q8_K activations, f32 scale over 256 values) already agree closely unrounded.
enum ActivationRounding {
    static func apply(for type: GGMLType, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                      count n: Int) -> UnsafePointer<Float> {
        switch type {
        case .q4_0, .q4_1, .q8_0: break
        default: return x
        }
        for b in 0..<n / 32 {
            let xb = x + b * 32, ob = out + b * 32
            var amax: Float = 0
            for i in 0..<32 { amax = max(amax, abs(xb[i])) }
            let d = amax / 127, id: Float = d != 0 ? 1 / d : 0
            let dh = Float(Float16(d))
            for i in 0..<32 { ob[i] = (xb[i] * id).rounded(.toNearestOrAwayFromZero) * dh }
        }
        return UnsafePointer(out)
    }
}
