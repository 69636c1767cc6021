import XCTest
import Foundation
@testable import Embeddings
import Tensor

/// The fast SIMD kernels against their plain libm references.
final class KernelTests: XCTestCase {
    func testBiasGELUMatchesReference() {
        let rows = 3, cols = 20   // 20: exercises the SIMD body and the scalar tail
        var x = (0..<(rows * cols)).map { Float($0 - 30) * 0.37 }
        let bias = (0..<cols).map { Float($0) * 0.01 - 0.1 }
        let expected = x.indices.map { Kernels.referenceGELU(x[$0] + bias[$0 % cols]) }
        Kernels.biasGELU(&x, rows: rows, cols: cols, bias: bias)
        for i in x.indices { XCTAssertEqual(x[i], expected[i], accuracy: 2e-6 * max(1, abs(expected[i]))) }
    }

    func testSoftmaxAndLayerNormMatchPlainFormulas() {
        var row: [Float] = (0..<13).map { Float($0) * 0.9 - 4 }
        let scale: Float = 0.125
        let m = row.map { $0 * scale }.max()!
        let e = row.map { exp(Double($0 * scale - m)) }
        let s = e.reduce(0, +)
        Kernels.scaledSoftmax(&row, row.count, scale: scale)
        for i in row.indices { XCTAssertEqual(Double(row[i]), e[i] / s, accuracy: 1e-6) }

        var x: [Float] = (0..<16).map { Float($0 * $0) * 0.1 }
        let g = [Float](repeating: 2, count: 16), b = [Float](repeating: 0.5, count: 16)
        let mean = x.reduce(0, +) / 16
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 16
        let expected = x.map { ($0 - mean) / (variance + 1e-12).squareRoot() * 2 + 0.5 }
        Kernels.layerNorm(&x, rows: 1, cols: 16, gamma: g, beta: b, eps: 1e-12)
        for i in x.indices { XCTAssertEqual(x[i], expected[i], accuracy: 1e-5) }
    }
}

/// The small-m projection kernel against BLAS (its reference).
final class SmallGEMMTests: XCTestCase {
    func testMatchesBLAS() {
        for (m, n, k) in [(1, 5, 8), (9, 1152, 384), (16, 258, 16), (3, 7, 24)] {
            let a = (0..<(m * k)).map { Float(($0 * 37) % 101) / 101 - 0.5 }
            let w = (0..<(n * k)).map { Float(($0 * 53) % 97) / 97 - 0.5 }
            var c = (0..<(m * n)).map { Float($0 % 7) }
            var ref = c
            BLAS.gemm(m: m, n: n, k: k, a: a, lda: k, b: w, ldb: k, transB: true, c: &ref, ldc: n, beta: 1)
            SmallGEMM.run(m: m, n: n, k: k, a: a, lda: k, w: w, c: &c, ldc: n)
            for i in c.indices { XCTAssertEqual(c[i], ref[i], accuracy: 1e-4, "m \(m) n \(n) k \(k) at \(i)") }
        }
    }
}
