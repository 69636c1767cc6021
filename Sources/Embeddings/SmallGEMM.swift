import Foundation
import Tensor

/// C[m×n] += A[m×k] · W[n×k]ᵀ for few rows (one short query: m ≤ 16), the fast path beside
/// BLAS (`BLAS.gemm`, its reference in the tests).
///
/// Why: OpenBLAS packs the whole weight matrix for every call, which for m = 9 costs more than
/// the arithmetic; here each 4-row slice of W is read once from memory and reused from L1 for
/// every row of A. Two workers split the n range (a query's latency is memory-bound on the
/// 42 MB of weights, so both cores' bandwidth helps).
enum SmallGEMM {
    static let maxRows = 16

    static func run(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                    w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int) {
        precondition(k % 8 == 0 && m <= maxRows)
        // The pool hands out 64-column slices from one counter: when another process holds one
        // core, the other thread finishes the work instead of waiting for a fixed half.
        ThreadPool.shared(threads: n >= 256 ? 2 : 1).parallelFor(n, chunk: 64) { cols in
            block(m: m, n0: cols.lowerBound, n1: cols.upperBound, k: k, a: a, lda: lda, w: w, c: c, ldc: ldc)
        }
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    private static func block(m: Int, n0: Int, n1: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                              w: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int) {
        var j = n0
        while j + 4 <= n1 {
            let w0 = w + j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
            var i = 0
            // 3 rows × 4 columns: 12 independent accumulators cover the FMA latency, and 7 loads
            // feed 12 FMAs (the 2 × 4 tile did 6 for 8).
            while i + 3 <= m {
                let x0 = a + i * lda, x1 = x0 + lda, x2 = x1 + lda
                var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
                var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
                var s20 = SIMD8<Float>(), s21 = SIMD8<Float>(), s22 = SIMD8<Float>(), s23 = SIMD8<Float>()
                var t = 0
                while t < k {
                    let a0 = load(x0 + t), a1 = load(x1 + t), a2 = load(x2 + t)
                    let b0 = load(w0 + t)
                    s00.addProduct(a0, b0); s10.addProduct(a1, b0); s20.addProduct(a2, b0)
                    let b1 = load(w1 + t)
                    s01.addProduct(a0, b1); s11.addProduct(a1, b1); s21.addProduct(a2, b1)
                    let b2 = load(w2 + t)
                    s02.addProduct(a0, b2); s12.addProduct(a1, b2); s22.addProduct(a2, b2)
                    let b3 = load(w3 + t)
                    s03.addProduct(a0, b3); s13.addProduct(a1, b3); s23.addProduct(a2, b3)
                    t += 8
                }
                let r0 = c + i * ldc + j, r1 = r0 + ldc, r2 = r1 + ldc
                r0[0] += s00.sum(); r0[1] += s01.sum(); r0[2] += s02.sum(); r0[3] += s03.sum()
                r1[0] += s10.sum(); r1[1] += s11.sum(); r1[2] += s12.sum(); r1[3] += s13.sum()
                r2[0] += s20.sum(); r2[1] += s21.sum(); r2[2] += s22.sum(); r2[3] += s23.sum()
                i += 3
            }
            while i + 2 <= m {
                let x0 = a + i * lda, x1 = x0 + lda
                var s00 = SIMD8<Float>(), s01 = SIMD8<Float>(), s02 = SIMD8<Float>(), s03 = SIMD8<Float>()
                var s10 = SIMD8<Float>(), s11 = SIMD8<Float>(), s12 = SIMD8<Float>(), s13 = SIMD8<Float>()
                var t = 0
                while t < k {
                    let a0 = load(x0 + t), a1 = load(x1 + t)
                    let b0 = load(w0 + t), b1 = load(w1 + t), b2 = load(w2 + t), b3 = load(w3 + t)
                    s00.addProduct(a0, b0); s01.addProduct(a0, b1); s02.addProduct(a0, b2); s03.addProduct(a0, b3)
                    s10.addProduct(a1, b0); s11.addProduct(a1, b1); s12.addProduct(a1, b2); s13.addProduct(a1, b3)
                    t += 8
                }
                let r0 = c + i * ldc + j, r1 = r0 + ldc
                r0[0] += s00.sum(); r0[1] += s01.sum(); r0[2] += s02.sum(); r0[3] += s03.sum()
                r1[0] += s10.sum(); r1[1] += s11.sum(); r1[2] += s12.sum(); r1[3] += s13.sum()
                i += 2
            }
            if i < m {
                let x0 = a + i * lda
                var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
                var t = 0
                while t < k {
                    let a0 = load(x0 + t)
                    s0.addProduct(a0, load(w0 + t)); s1.addProduct(a0, load(w1 + t))
                    s2.addProduct(a0, load(w2 + t)); s3.addProduct(a0, load(w3 + t))
                    t += 8
                }
                let r0 = c + i * ldc + j
                r0[0] += s0.sum(); r0[1] += s1.sum(); r0[2] += s2.sum(); r0[3] += s3.sum()
            }
            j += 4
        }
        while j < n1 {   // n not a multiple of 4
            let wr = w + j * k
            for i in 0..<m {
                var s = SIMD8<Float>()
                var t = 0
                while t < k { s.addProduct(load(a + i * lda + t), load(wr + t)); t += 8 }
                c[i * ldc + j] += s.sum()
            }
            j += 1
        }
    }
}
