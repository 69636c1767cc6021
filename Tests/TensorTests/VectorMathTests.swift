import XCTest
import Foundation
@testable import Tensor

/// The vector exp against the exact value and its plain twin (libm's expf), over the whole
/// range softmax and SiLU feed it, tails included.
final class VectorMathTests: XCTestCase {
    func vexp(_ x: Float) -> Float { VectorMath.exp(SIMD8(repeating: x))[0] }

    func testExpIsWithinTwoUlpOfTheExactValueEverywhere() {
        var worst = 0.0, worstAgainstLibm = 0.0
        var x: Float = -87.3
        while x < 88.3 {
            let v = SIMD8<Float>((0..<8).map { x + Float($0) * 1.37e-3 })
            let e = VectorMath.exp(v)
            for l in 0..<8 {
                let exact = Foundation.exp(Double(v[l]))
                worst = max(worst, abs(Double(e[l]) - exact) / exact)
                let libm = Double(VectorMath.referenceExp(v[l]))
                worstAgainstLibm = max(worstAgainstLibm, abs(Double(e[l]) - libm) / libm)
            }
            x += 0.0111
        }
        print("vector exp: max relative error \(worst) against exact, \(worstAgainstLibm) against libm expf")
        XCTAssertLessThan(worst, 1.5e-7)          // measured 1.16e-7: about 1 ulp
        XCTAssertLessThan(worstAgainstLibm, 1.5e-7)
    }

    func testExpEdges() {
        XCTAssertEqual(vexp(0), 1)
        XCTAssertEqual(vexp(-.infinity), 0)
        XCTAssertEqual(vexp(-88), 0, "flushed below the normal range")
        XCTAssertEqual(vexp(-1000), 0)
        XCTAssertEqual(vexp(88.4), .infinity, "overflow from 127.5·ln2")
        XCTAssertEqual(vexp(89), .infinity)
        XCTAssertEqual(vexp(.infinity), .infinity)
        XCTAssertEqual(Double(vexp(1)), M_E, accuracy: 2.4e-7 * M_E)
        let small: Float = -87.3
        XCTAssertEqual(Double(vexp(small)) / Foundation.exp(Double(small)), 1, accuracy: 2.4e-7)
    }

    /// Softmax numerators of rows of every length 0…20 (full vectors and tails), as in attention.
    func testExpInPlaceMatchesTheScalarTwin() {
        var rng = SplitMix64(seed: 5)
        for count in 0...20 {
            var row = (0..<count).map { _ in Float(rng.nextUnit() * 20 - 10) }
            let shift = row.max() ?? 0
            let expected = row.map { VectorMath.referenceExp($0 - shift) }
            let sum = row.withUnsafeMutableBufferPointer { VectorMath.expInPlace($0.baseAddress!, count: count, minus: shift) }
            for i in 0..<count { XCTAssertEqual(row[i], expected[i], accuracy: 2.4e-7 * expected[i], "count \(count) i \(i)") }
            XCTAssertEqual(sum, expected.reduce(0, +), accuracy: 1e-6 * max(1, sum), "count \(count)")
        }
    }

    func testSwiGLUMatchesTheScalarTwin() {
        var rng = SplitMix64(seed: 6)
        let n = 27
        var g = (0..<n).map { _ in Float(rng.nextUnit() * 40 - 20) }
        g[0] = -100; g[1] = 100; g[2] = 0
        let u = (0..<n).map { _ in Float(rng.nextUnit() * 2 - 1) }
        let expected = (0..<n).map { g[$0] / (1 + VectorMath.referenceExp(-g[$0])) * u[$0] }
        g.withUnsafeMutableBufferPointer { gp in u.withUnsafeBufferPointer { VectorMath.swiglu(gp.baseAddress!, $0.baseAddress!, count: n) } }
        for i in 0..<n { XCTAssertEqual(g[i], expected[i], accuracy: 5e-7 * abs(expected[i]) + 1e-30, "i \(i)") }
    }

    func testErfMatchesLibm() {
        var worst: Double = 0
        var x: Float = -6
        while x <= 6 {
            let got = VectorMath.erf(SIMD8(repeating: x))[0]
            worst = max(worst, abs(Double(got) - Double(VectorMath.referenceErf(x))))
            x += 0.0007
        }
        print("vector erf: max abs error \(worst) against libm erf")
        XCTAssertLessThan(worst, 1e-6, "max |erf - libm erf| = \(worst)")
    }
}
