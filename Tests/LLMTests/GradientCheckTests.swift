import XCTest
@testable import LLM
import Tensor

/// Every backward of the LoRA trainer against central finite differences of its forward, op by
/// op and for the whole model (tiny random model, GQA with 2 kv heads for 4 query heads).
///
/// Each op is checked through a scalar L = Σ w ⊙ op(x) with random w, so its backward receives
/// dL/dy = w. Float central differences with h = 1e-2 agree to ~1e-4 relative on these sizes;
/// the bound of 1e-2 is two orders above that and far below the ~1 of a wrong gradient (see
/// `testCheckCatchesAWrongBackward`).
final class GradientCheckTests: XCTestCase {
    let tolerance = 1e-2
    var rng = SplitMix64(seed: 11)
    func random(_ n: Int, _ scale: Float = 1) -> [Float] { (0..<n).map { _ in (rng.nextUnit() * 2 - 1) * scale } }
    let pool = ThreadPool(threads: 2)
    var owned: [UnsafeMutablePointer<Float>] = []
    override func tearDown() { for p in owned { p.deallocate() }; owned = [] }

    /// A buffer the finite differences perturb in place (an array would be borrowed twice).
    func buffer(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let p = UnsafeMutablePointer<Float>.allocate(capacity: values.count)
        p.initialize(from: values, count: values.count)
        owned.append(p)
        return p
    }
    func fd(_ x: UnsafeMutablePointer<Float>, _ n: Int, _ f: () -> Double) -> [Float] { FiniteDifference.gradient(x, count: n, f) }

    static func dot(_ w: [Float], _ y: UnsafePointer<Float>) -> Double {
        var s = 0.0
        for i in w.indices { s += Double(w[i]) * Double(y[i]) }
        return s
    }

    func assertClose(_ analytic: [Float], _ numeric: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let e = FiniteDifference.relativeError(analytic, numeric)
        print("gradient check \(what): relative error \(e)")
        XCTAssertLessThan(e, tolerance, "\(what): analytic gradient differs from finite differences", file: file, line: line)
        XCTAssertGreaterThan(numeric.map(abs).max() ?? 0, 1e-4, "\(what): the check saw no gradient at all", file: file, line: line)
    }

    func testRMSNorm() {
        let rows = 3, dim = 8
        let x = buffer(random(rows * dim, 2)), w = random(dim).map { 1 + $0 / 2 }
        let upstream = random(rows * dim)
        var y = [Float](repeating: 0, count: rows * dim), rstd = [Float](repeating: 0, count: rows)
        func loss() -> Double {
            TrainOps.rmsNorm(x: x, w: w, out: &y, rstd: &rstd, rows: rows, dim: dim, eps: 1e-5)
            return Self.dot(upstream, y)
        }
        _ = loss()
        var dx = [Float](repeating: 0, count: rows * dim)
        TrainOps.rmsNormBackward(dy: upstream, x: x, w: w, rstd: rstd, dx: &dx, rows: rows, dim: dim)
        assertClose(dx, fd(x, rows * dim, loss), "rmsnorm dx")
    }

    func ropeCheck(_ style: DecoderConfig.RopeStyle, sinForBackward: (Float) -> Float) throws -> Double {
        let dir = try TempDir()
        var c = try TinyModel.load(in: dir).config
        c.ropeStyle = style
        let T = 5, heads = 3, hd = c.headDim, half = hd / 2
        var cos = [Float](repeating: 0, count: T * half), sin = cos, sinBack = cos
        TrainOps.ropeTables(c, sequences: 1, length: T, cos: &cos, sin: &sin, sinBack: &sinBack)
        let n = T * heads * hd, x = buffer(random(n))
        let upstream = random(n)
        func loss() -> Double {
            var y = Array(UnsafeBufferPointer(start: x, count: n))
            Ops.rope(&y, rows: T, heads: heads, c, cos: cos, sin: sin)
            return Self.dot(upstream, y)
        }
        var dx = upstream
        let back = sin.map(sinForBackward)
        Ops.rope(&dx, rows: T, heads: heads, c, cos: cos, sin: back)
        return FiniteDifference.relativeError(dx, fd(x, n, loss))
    }

    func testRoPEBothStyles() throws {
        for style in [DecoderConfig.RopeStyle.adjacentPairs, .halves] {
            let e = try ropeCheck(style) { -$0 }   // the trainer's backward: rotate by −θ
            print("gradient check rope \(style): relative error \(e)")
            XCTAssertLessThan(e, tolerance, "rope \(style)")
        }
    }

    /// The check must be able to fail: rotating the gradient by +θ instead of −θ is caught.
    func testCheckCatchesAWrongBackward() throws {
        let e = try ropeCheck(.adjacentPairs) { $0 }
        print("gradient check of a deliberately wrong rope backward: relative error \(e)")
        XCTAssertGreaterThan(e, 0.1)
    }

    func testAttentionGroupedQuery() {
        let T = 5, heads = 4, kvHeads = 2, hd = 4, qDim = heads * hd, kvDim = kvHeads * hd
        let q = buffer(random(T * qDim, 1.5)), k = buffer(random(T * kvDim, 1.5)), v = buffer(random(T * kvDim))
        let upstream = random(T * qDim)
        var out = [Float](repeating: 0, count: T * qDim), probs = [Float](repeating: 0, count: heads * T * T)
        func loss() -> Double {
            TrainOps.attention(pool, q: q, k: k, v: v, out: &out, probs: &probs, T: T, heads: heads, kvHeads: kvHeads, headDim: hd)
            return Self.dot(upstream, out)
        }
        _ = loss()
        var dq = [Float](repeating: 0, count: T * qDim), dk = [Float](repeating: 0, count: T * kvDim), dv = dk
        var scratch = [Float](repeating: 0, count: pool.threads * T * T)
        TrainOps.attentionBackward(pool, dOut: upstream, q: q, k: k, v: v, probs: probs, dq: &dq, dk: &dk, dv: &dv,
                                   scratch: &scratch, T: T, heads: heads, kvHeads: kvHeads, headDim: hd)
        assertClose(dq, fd(q, T * qDim, loss), "attention dq")
        assertClose(dk, fd(k, T * kvDim, loss), "attention dk")
        assertClose(dv, fd(v, T * kvDim, loss), "attention dv")
    }

    func testSwiGLU() {
        let n = 40
        let g = buffer(random(n, 3)), u = buffer(random(n, 2))
        let upstream = random(n)
        var h = [Float](repeating: 0, count: n)
        func loss() -> Double { TrainOps.swiglu(g: g, u: u, h: &h, count: n); return Self.dot(upstream, h) }
        var dg = h, du = h
        TrainOps.swigluBackward(dh: upstream, g: g, u: u, dg: &dg, du: &du, count: n)
        assertClose(dg, fd(g, n, loss), "swiglu dg")
        assertClose(du, fd(u, n, loss), "swiglu du")
    }

    /// y = x·Wᵀ + s·(x·Aᵀ)·Bᵀ: gradients for x (through W and the LoRA path), A and B.
    func testLinearWithLoRA() {
        let rows = 4, inDim = 12, outDim = 10, rank = 3, scale: Float = 2
        let x = buffer(random(rows * inDim)), a = buffer(random(rank * inDim)), b = buffer(random(outDim * rank))
        let w = random(outDim * inDim), upstream = random(rows * outDim)
        var y = [Float](repeating: 0, count: rows * outDim), u = [Float](repeating: 0, count: rows * rank)
        func loss() -> Double {
            TrainOps.linear(pool, x: x, w: w, y: &y, rows: rows, inDim: inDim, outDim: outDim)
            TrainOps.loraForward(pool, x: x, a: a, b: b, u: &u, y: &y, rows: rows, inDim: inDim, outDim: outDim, rank: rank, scale: scale)
            return Self.dot(upstream, y)
        }
        _ = loss()
        var dx = [Float](repeating: 0, count: rows * inDim), da = [Float](repeating: 0, count: rank * inDim), db = [Float](repeating: 0, count: outDim * rank)
        var t = [Float](repeating: 0, count: rows * rank)
        TrainOps.linearBackward(pool, dy: upstream, w: w, dx: &dx, rows: rows, inDim: inDim, outDim: outDim)
        TrainOps.loraBackward(pool, dy: upstream, x: x, u: u, a: a, b: b, da: &da, db: &db, dx: &dx, t: &t,
                              rows: rows, inDim: inDim, outDim: outDim, rank: rank, scale: scale)
        assertClose(dx, fd(x, rows * inDim, loss), "linear+lora dx")
        assertClose(da, fd(a, rank * inDim, loss), "linear+lora dA")
        assertClose(db, fd(b, outDim * rank, loss), "linear+lora dB")
    }

    func testCrossEntropy() {
        let rows = 3, vocab = 7
        let logits = random(rows * vocab, 3), x = buffer(logits)
        let targets: [Int32] = [2, 0, 6]
        func loss() -> Double {
            var l = Array(UnsafeBufferPointer(start: x, count: rows * vocab))
            return TrainOps.crossEntropy(logits: &l, targets: targets, rows: rows, vocab: vocab, gradScale: 1)
        }
        var grad = logits
        let total = TrainOps.crossEntropy(logits: &grad, targets: targets, rows: rows, vocab: vocab, gradScale: 1)
        // The value itself, against a plain log-softmax in Double.
        var expected = 0.0
        for r in 0..<rows {
            let row = logits[r * vocab..<(r + 1) * vocab].map(Double.init)
            let m = row.max()!
            expected += log(row.map { exp($0 - m) }.reduce(0, +)) + m - row[Int(targets[r])]
        }
        XCTAssertEqual(total, expected, accuracy: 1e-4)
        assertClose(grad, fd(x, rows * vocab, loss), "cross-entropy dlogits")
    }

    /// The whole model: every LoRA parameter's gradient from the backward pass against finite
    /// differences of the loss, for both RoPE styles (llama; qwen2 with biases), two sequences.
    func testWholeModel() throws {
        let dir = try TempDir()
        for arch in ["llama", "qwen2"] {
            let model = try TinyModel.load(architecture: arch, in: dir)
            let lora = TinyModel.lora(model)
            let S = 2, T = 6
            let net = LoRATrainingModel(model: model, lora: lora, maxRows: S * T, maxLength: T, pool: pool)
            let tokens: [Int32] = (0..<S * (T + 1)).map { _ in Int32(rng.next() % UInt64(TinyModel.vocab)) }
            let scale = 1 / Float(S * T)
            lora.zeroGradients()
            let loss = net.run(tokens: tokens, sequences: S, length: T, backward: true, gradScale: scale) / Double(S * T)
            XCTAssertTrue(loss > 0.5 && loss < 20, "\(arch): loss \(loss)")
            let analytic = lora.gradientArray
            let numeric = FiniteDifference.gradient(lora.values, count: lora.count) {
                net.run(tokens: tokens, sequences: S, length: T, backward: false) / Double(S * T)
            }
            assertClose(analytic, numeric, "whole model (\(arch), \(lora.count) LoRA parameters)")
            // Per projection too, so a wrong path cannot hide behind the others' larger gradients.
            for p in Projection.allCases {
                var a: [Float] = [], n: [Float] = []
                for s in lora.slots where s.projection == p {
                    let r = s.a..<(s.b + s.outDim * lora.rank)
                    a += analytic[r]; n += numeric[r]
                }
                assertClose(a, n, "whole model (\(arch)) \(LoRANames.ggufName(p))")
            }
        }
    }
}
