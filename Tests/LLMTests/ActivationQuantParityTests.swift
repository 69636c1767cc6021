import XCTest
import Tensor
@testable import LLM

/// The integer kernels on real SmolLM2 weight rows and a real activation vector must give what
/// llama.cpp computes: its activation quantizer (block_q8_0 / block_q8_1, AVX2 path) and its
/// block dot products, written out here independently from ggml's code.
///
/// Why this test exists: the first switch to the integer kernels kept the activation scale in
/// f32, while ggml stores `d` (and Q8_1's `s = d·Σq`) as f16. That ~1e-4 relative error per
/// block was enough to break greedy parity on SmolLM2 (5/32 tokens on raw_en_capital). Before
/// the fix, the Q4_1 rows here differed from the llama.cpp arithmetic by ~1e-4 of Σ|terms|;
/// after it, by float re-association only (< 1e-5).
final class ActivationQuantParityTests: XCTestCase {
    /// block_q8_0/q8_1 as `quantize_row_q8_0/1` on x86: d = amax/127 stored as f16,
    /// q = round-half-even(x · 127/amax), s = f16(d · Σq) with the f32 d.
    static func ggmlQ8(_ x: [Float]) -> (q: [Int8], d: [Float], s: [Float]) {
        var q = [Int8](repeating: 0, count: x.count), d: [Float] = [], s: [Float] = []
        for b in 0..<(x.count / 32) {
            let block = x[(32 * b)..<(32 * b + 32)]
            let amax = block.map(abs).max()!
            let df = amax / 127, id: Float = amax != 0 ? 127 / amax : 0
            var sum = 0
            for i in 0..<32 {
                let v = Int8((x[32 * b + i] * id).rounded(.toNearestOrEven))
                q[32 * b + i] = v; sum += Int(v)
            }
            d.append(Float(Float16(df))); s.append(Float(Float16(df * Float(sum))))
        }
        return (q, d, s)
    }

    /// `ggml_vec_dot_q4_1_q8_1`: Σ_b d_w·d_x·Σ(q_w·q_x) + m_w·s_x.
    static func ggmlDotQ4_1(_ row: UnsafeRawPointer, _ a: (q: [Int8], d: [Float], s: [Float])) -> (Double, Double) {
        var total = 0.0, magnitude = 0.0
        for b in 0..<a.d.count {
            let p = row + 20 * b
            let dw = Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
            let mw = Float(Float16(bitPattern: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            var isum = 0
            for j in 0..<16 {
                let byte = p.load(fromByteOffset: 4 + j, as: UInt8.self)
                isum += Int(byte & 0xF) * Int(a.q[32 * b + j]) + Int(byte >> 4) * Int(a.q[32 * b + j + 16])
            }
            let term = Double(dw * a.d[b]) * Double(isum), offset = Double(mw * a.s[b])
            total += term + offset; magnitude += abs(term) + abs(offset)
        }
        return (total, magnitude)
    }

    /// `ggml_vec_dot_q8_0_q8_0`: Σ_b d_w·d_x·Σ(q_w·q_x).
    static func ggmlDotQ8_0(_ row: UnsafeRawPointer, _ a: (q: [Int8], d: [Float], s: [Float])) -> (Double, Double) {
        var total = 0.0, magnitude = 0.0
        for b in 0..<a.d.count {
            let p = row + 34 * b
            let dw = Float(Float16(bitPattern: p.loadUnaligned(as: UInt16.self)))
            var isum = 0
            for j in 0..<32 { isum += Int(p.load(fromByteOffset: 2 + j, as: Int8.self)) * Int(a.q[32 * b + j]) }
            let term = Double(dw * a.d[b]) * Double(isum)
            total += term; magnitude += abs(term)
        }
        return (total, magnitude)
    }

    /// A real activation: token 504's embedding, RMS-normed with layer 0's attention norm.
    func activation(_ e: Engine) -> [Float] {
        let dim = e.config.embeddingLength
        var x = [Float](repeating: 0, count: dim)
        x.withUnsafeMutableBufferPointer { e.model.tokenEmbedding.dequantizeRows(504..<505, into: $0.baseAddress!) }
        let rms = (x.reduce(0) { $0 + $1 * $1 } / Float(dim) + e.config.rmsEpsilon).squareRoot()
        let w = e.model.layers[0].attentionNorm
        return (0..<dim).map { x[$0] / rms * w[$0] }
    }

    func testKernelsMatchLlamaCppArithmeticOnRealRows() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 16, threads: 2)
        let x = activation(e)
        let a = Self.ggmlQ8(x)
        let scratch = MatVecScratch(maxCols: x.count)
        let checks: [(String, WeightMatrix, (UnsafeRawPointer, (q: [Int8], d: [Float], s: [Float])) -> (Double, Double))] = [
            ("blk.0.attn_q (Q4_1)", e.model.layers[0].wq, Self.ggmlDotQ4_1),
            ("blk.0.ffn_gate (Q4_1)", e.model.layers[0].gate, Self.ggmlDotQ4_1),
            ("token_embd as output (Q8_0)", e.model.output, Self.ggmlDotQ8_0),
        ]
        for (name, w, reference) in checks {
            let rows = min(w.rows, 256)
            let part = try WeightMatrix(type: w.type, rows: rows, cols: w.cols, data: w.data)
            var y = [Float](repeating: .nan, count: rows)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { part.matvec(xp.baseAddress!, $0.baseAddress!, scratch: scratch, pool: e.pool) }
            }
            var worst = 0.0
            for r in 0..<rows {
                let (expected, magnitude) = reference(part.row(r), a)
                worst = max(worst, abs(Double(y[r]) - expected) / magnitude)
            }
            print("\(name): worst |ours − llama.cpp| / Σ|terms| = \(worst)")
            XCTAssertLessThan(worst, 1e-5, "\(name): the kernels do not reproduce llama.cpp's quantized arithmetic")
        }
    }

    /// block_q8_K as `quantize_row_q8_K_ref`: iscale = −127/max (max signed), nearest_int,
    /// d = 1/iscale; bsums per 16. Checked on the same real activation (576 is not a multiple
    /// of 256, so its first 512 values).
    func testQ8KMatchesGgml() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 16, threads: 1)
        let x = Array(activation(e).prefix(512))
        var q = [Int8](repeating: 0, count: 512), d = [Float](repeating: 0, count: 2)
        var s = [Float](repeating: 0, count: 2), bsums = [Int16](repeating: 0, count: 32)
        ActivationQuant.quantize(x, count: 512, format: .q8_K, q: &q, d: &d, s: &s, bsums: &bsums)
        for b in 0..<2 {
            let block = Array(x[(256 * b)..<(256 * b + 256)])
            let max = block.max { abs($0) < abs($1) }!
            let iscale = -127 / max
            for i in 0..<256 {
                // nearest_int: add 1.5·2^23 and read the mantissa — round half to even.
                let v = Float(iscale * block[i]) + 12_582_912
                let n = Int32(bitPattern: v.bitPattern & 0x007F_FFFF) - 0x0040_0000
                XCTAssertEqual(Int(q[256 * b + i]), min(127, Int(n)), "element \(256 * b + i)")
            }
            XCTAssertEqual(d[b], 1 / iscale)
            for g in 0..<16 {
                XCTAssertEqual(Int(bsums[16 * b + g]), (0..<16).reduce(0) { $0 + Int(q[256 * b + 16 * g + $1]) })
            }
        }
    }
}
