import Foundation
import XCTest
@testable import Tensor

/// The kernels on real model weights (real scale distributions, not random ones): a few rows
/// of actual tensors from the fetched models, matvec vs reference dequantization.
final class RealWeightsTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testSmolLM2Q4_1AndQ8_0() throws {
        try check(model: "models/SmolLM2-135M-Instruct.Q4_1.gguf",
                  tensors: ["blk.0.attn_q.weight", "blk.3.ffn_down.weight", "token_embd.weight"])
    }

    func testQwenQ4_KAndQ6_K() throws {
        try check(model: "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
                  tensors: ["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "output.weight"])
    }

    private func check(model: String, tensors: [String]) throws {
        let url = Self.root.appendingPathComponent(model)
        guard FileManager.default.fileExists(atPath: url.path) else {
            print("skipping: \(model) is absent (fetch the models to run this test)")
            throw XCTSkip("\(model) absent")
        }
        let data = try Data(contentsOf: url, options: .alwaysMapped)
        let index = try MiniGGUF(data)
        let pool = ThreadPool(threads: 2)
        try data.withUnsafeBytes { raw in
            for name in tensors {
                guard let t = index.tensors[name] else { XCTFail("\(name) not in \(model)"); continue }
                // 16 rows cover hundreds of blocks and their scales; more only slows the (debug) test.
                let rows = min(16, t.rows)
                let w = try WeightMatrix(type: t.type, rows: rows, cols: t.cols, data: raw.baseAddress! + index.dataOffset + t.offset)
                let x = randomVector(t.cols, seed: 11)
                var y = [Float](repeating: .nan, count: rows), dense = [Float](repeating: 0, count: t.cols)
                let scratch = MatVecScratch(maxCols: t.cols)
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { w.matvec(xp.baseAddress!, $0.baseAddress!, scratch: scratch, pool: pool) } }
                let block = w.activationBlock
                // Half a quantization step of each activation: max|x| of its block / 254.
                let blockHalfStep: [Double] = (0..<(t.cols / block)).map { b in
                    Double(x[(b * block)..<((b + 1) * block)].map(abs).max()! / 254)
                }
                let halfStep = (0..<t.cols).map { blockHalfStep[$0 / block] }
                for r in 0..<rows {
                    dense.withUnsafeMutableBufferPointer { ReferenceDequant.row(t.type, w.row(r), $0.baseAddress!, count: t.cols) }
                    var exact = 0.0, bound = 0.0
                    for i in 0..<t.cols {
                        exact += Double(dense[i]) * Double(x[i])
                        bound += Double(abs(dense[i])) * halfStep[i] + 1e-5 * Double(abs(dense[i] * x[i]))
                    }
                    XCTAssertEqual(Double(y[r]), exact, accuracy: bound, "\(name) (\(t.type)) row \(r)")
                }
            }
        }
    }
}

/// Just enough GGUF to find a tensor's type, shape and offset (the GGUF module is another
/// layer; the kernel tests must not depend on it).
struct MiniGGUF {
    struct Tensor { let type: GGMLType; let rows: Int; let cols: Int; let offset: Int }
    var tensors: [String: Tensor] = [:]
    var dataOffset = 0

    init(_ data: Data) throws {
        var p = 0
        func u32() -> UInt32 { defer { p += 4 }; return data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: p, as: UInt32.self) } }
        func u64() -> UInt64 { defer { p += 8 }; return data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: p, as: UInt64.self) } }
        func string() -> String { let n = Int(u64()); defer { p += n }; return String(decoding: data[p..<(p + n)], as: UTF8.self) }
        func skip(_ t: UInt32) {
            switch t {
            case 0, 1, 7: p += 1
            case 2, 3: p += 2
            case 4, 5, 6: p += 4
            case 10, 11, 12: p += 8
            case 8: p += Int(u64())  // skipped without decoding: the vocabularies hold ~300k strings
            case 9: let at = u32(); let n = u64(); for _ in 0..<n { skip(at) }
            default: p = data.count
            }
        }
        guard data.count > 24, u32() == 0x4655_4747 else { throw XCTSkip("not a GGUF file") }
        _ = u32()
        let nt = u64(), nkv = u64()
        var alignment = 32
        for _ in 0..<nkv {
            let key = string(); let t = u32()
            if key == "general.alignment", t == 4 { alignment = Int(u32()) } else { skip(t) }
        }
        for _ in 0..<nt {
            let name = string(); let nd = Int(u32())
            var dims: [Int] = []
            for _ in 0..<nd { dims.append(Int(u64())) }
            let type = u32(); let offset = Int(u64())
            if let t = GGMLType(rawValue: type), dims.count == 2 {
                tensors[name] = Tensor(type: t, rows: dims[1], cols: dims[0], offset: offset)
            }
        }
        dataOffset = (p + alignment - 1) / alignment * alignment
    }
}
