import XCTest
import Tensor
@testable import LLM

/// LoRA applied at run time against the merged float weights, on SmolLM2: the reference runs the
/// whole model forward but computes every adapted projection from dequantized W + s·B·A in
/// float (sgemm), replacing the engine's quantized product through the hook. Like the engine (and
/// llama.cpp) it first rounds the activations to Q8 blocks: without that, the rounding alone moves
/// the logits by ~0.7 on this small model, as much as the adapter does.
final class AdapterParityTests: XCTestCase {
    static let prompt: [Int32] = [504, 3575, 282, 4649, 314, 253, 2585, 28]

    /// Overwrites the adapted projections with (W + s·B·A)·x computed from float weights.
    final class MergedReference: ProjectionHook {
        var merged: [Int: [Float]] = [:]      // slot → (out × in)
        let roundActivations: Bool
        /// `deltaOnly`: s·B·A alone, applied to unrounded x (what the update itself must add).
        init(model: DecoderModel, lora: TestLoRA, scale: Float, includeUpdate: Bool, deltaOnly: Bool = false) {
            roundActivations = !deltaOnly
            for p in lora.pairs {
                let proj = LoRANames.peft[p.module]!
                let L = model.layers[p.layer]
                let w: WeightMatrix = switch proj { case .q: L.wq; case .k: L.wk; case .v: L.wv; case .o: L.wo
                                                       case .gate: L.gate; case .up: L.up; case .down: L.down }
                var m = [Float](repeating: 0, count: w.rows * w.cols)
                m.withUnsafeMutableBufferPointer { buf in
                    if !deltaOnly { w.dequantizeRows(0..<w.rows, into: buf.baseAddress!) }
                    if includeUpdate {
                        // W += s · B (out × r) · A (r × in)
                        BLAS.gemm(transA: false, transB: false, m: w.rows, n: w.cols, k: lora.rank, a: p.b, lda: lora.rank,
                                  b: p.a, ldb: w.cols, c: buf.baseAddress!, ldc: w.cols, alpha: scale, beta: 1)
                    }
                }
                merged[AdapterSet.slot(p.layer, proj)] = m
            }
        }
        /// x rounded to Q8_1 blocks and back, as the engine's activations are for Q4_1 weights.
        static func roundToQ8(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, count n: Int) -> UnsafePointer<Float> {
            let blocks = n / 32
            var q = [Int8](repeating: 0, count: n), d = [Float](repeating: 0, count: blocks)
            var sums = [Float](repeating: 0, count: blocks), bsums = [Int16](repeating: 0, count: max(1, n / 16))
            ActivationQuant.quantize(x, count: n, format: .q8_1, q: &q, d: &d, s: &sums, bsums: &bsums)
            for i in 0..<n { out[i] = d[i / 32] * Float(q[i]) }
            return UnsafePointer(out)
        }

        func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, inDim: Int,
                   y: UnsafeMutablePointer<Float>, outDim: Int, tokens: Int) {
            guard let w = merged[AdapterSet.slot(layer, projection)] else { return }
            var rounded = [Float](repeating: 0, count: tokens * inDim)
            rounded.withUnsafeMutableBufferPointer { r in
                let xr = roundActivations ? MergedReference.roundToQ8(x, r.baseAddress!, count: tokens * inDim) : x
                BLAS.gemm(m: tokens, n: outDim, k: inDim, a: xr, lda: inDim, b: w, ldb: inDim, transB: true, c: y, ldc: outDim)
            }
        }
    }

    static func maxAbs(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max()! }

    func testZeroBChangesNothing() throws {
        try Reference.require(Reference.smol)
        let tmp = try TempDir()
        try TestLoRA.random(layers: [0, 3, 29], modules: ["q_proj", "k_proj", "down_proj"], zeroB: true).writeGGUF(tmp.path("zero.gguf"))
        let e = try Engine(path: Reference.smol, context: 64, threads: 2)
        let base = try e.logits(for: Self.prompt)
        let set = try AdapterSet(model: e.model, adapters: [(try LoRAAdapter.load(path: tmp.path("zero.gguf")), 1)])
        let adapted = try e.withAdapters(set) { try e.logits(for: Self.prompt) }
        XCTAssertEqual(base, adapted, "B = 0 must leave every logit bit-identical")
        XCTAssertNil(e.model.hook, "the hook is removed after the request")
    }

    /// Wraps the adapter set and checks every adapted projection against the merged reference.
    final class ProjectionCheck: ProjectionHook {
        let set: AdapterSet, ref: MergedReference, delta: MergedReference
        var worst: Float = 0, largest: Float = 0, calls = 0
        var worstDelta: Float = 0, largestDelta: Float = 0
        init(_ set: AdapterSet, _ ref: MergedReference, _ delta: MergedReference) { self.set = set; self.ref = ref; self.delta = delta }
        func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, inDim: Int,
                   y: UnsafeMutablePointer<Float>, outDim: Int, tokens: Int) {
            let before = Array(UnsafeBufferPointer(start: y, count: tokens * outDim))
            set.apply(layer: layer, projection: projection, x: x, inDim: inDim, y: y, outDim: outDim, tokens: tokens)
            guard ref.merged[AdapterSet.slot(layer, projection)] != nil else { return }
            var expected = [Float](repeating: 0, count: tokens * outDim), dx = expected
            ref.apply(layer: layer, projection: projection, x: x, inDim: inDim, y: &expected, outDim: outDim, tokens: tokens)
            delta.apply(layer: layer, projection: projection, x: x, inDim: inDim, y: &dx, outDim: outDim, tokens: tokens)
            for i in 0..<tokens * outDim {
                worstDelta = max(worstDelta, abs((y[i] - before[i]) - dx[i])); largestDelta = max(largestDelta, abs(dx[i]))
            }
            var d: Float = 0, m: Float = 0
            for i in 0..<tokens * outDim { d = max(d, abs(y[i] - expected[i])); m = max(m, abs(expected[i])) }
            if d / m > worst / max(largest, 1e-30) { worst = d; largest = m }    // the worst call, relative to its scale
            calls += 1
        }
    }

    func testRuntimeLoRAMatchesMergedFloatWeights() throws {
        try Reference.require(Reference.smol)
        let tmp = try TempDir()
        let lora = TestLoRA.random(layers: [0, 7, 15, 29], modules: ["q_proj", "k_proj", "down_proj"], bScale: 1)
        try lora.writeGGUF(tmp.path("r4.gguf"))
        let adapter = try LoRAAdapter.load(path: tmp.path("r4.gguf"))
        XCTAssertEqual(adapter.ranks, [4]); XCTAssertEqual(adapter.alpha, 8)
        XCTAssertEqual(adapter.targets, ["attn_q", "attn_k", "ffn_down"]); XCTAssertEqual(adapter.layers, [0, 7, 15, 29])
        let s: Float = 8.0 / 4.0
        for batch in [512, 1] {    // one batched forward (sgemm path) and token by token (matvec path)
            let e = try Engine(path: Reference.smol, context: 64, threads: 2, batchSize: batch)
            let set = try AdapterSet(model: e.model, adapters: [(adapter, 1)])
            let merged = MergedReference(model: e.model, lora: lora, scale: s, includeUpdate: true)
            // 1. Per projection, on the engine's own activations: what the adapter adds against
            //    (s·B·A formed densely)·x, tightly; and the adapted output against (W + s·B·A)·round(x),
            //    which differ by ΔW·(x − round(x)) since the update sees unrounded x: under 1%.
            let check = ProjectionCheck(set, merged, MergedReference(model: e.model, lora: lora, scale: s, includeUpdate: true, deltaOnly: true))
            e.model.hook = check
            let ours = try e.logits(for: Self.prompt)
            e.model.hook = nil
            print("batch \(batch): \(check.calls) adapted projections, worst |Δ| \(check.worst) in a projection whose outputs reach \(check.largest)")
            XCTAssertEqual(check.calls, 12 * (batch == 1 ? Self.prompt.count : 1))
            print("batch \(batch): update vs dense s·B·A·x: worst |Δ| \(check.worstDelta) of updates up to \(check.largestDelta)")
            XCTAssertLessThan(check.worstDelta, 1e-4 * check.largestDelta)
            XCTAssertGreaterThan(check.largestDelta, 0.1)
            XCTAssertLessThan(check.worst, 1e-2 * check.largest)
            // 2. End to end: the whole forward with the merged float projections. Rounding
            //    activations to Q8 makes the model discontinuous (a 1e-6 change can flip a rounding
            //    step next to SmolLM2's outliers of ~5000), so logits agree only to that floor
            //    (engine base vs float base, ~0.5 here): the adapter's effect must dwarf it.
            let base = try e.logits(for: Self.prompt)
            e.model.hook = MergedReference(model: e.model, lora: lora, scale: s, includeUpdate: false)
            let refBase = try e.logits(for: Self.prompt)
            e.model.hook = merged
            let refMerged = try e.logits(for: Self.prompt)
            e.model.hook = nil
            let effect = Self.maxAbs(base, refMerged), floor = Self.maxAbs(base, refBase), gap = Self.maxAbs(ours, refMerged)
            print("batch \(batch): logits: adapter effect \(effect), adapted vs merged \(gap), rounding floor \(floor)")
            XCTAssertGreaterThan(effect, 3 * floor, "the test adapter must change the logits well beyond the noise")
            XCTAssertLessThan(gap, 2 * floor + 0.1 * effect)
            let top = { (v: [Float]) in v.indices.max { v[$0] < v[$1] }! }
            XCTAssertEqual(top(ours), top(refMerged), "adapted and merged models pick the same next token")
        }
    }

    func testPEFTFolderGivesTheSameLogitsAsGGUF() throws {
        try Reference.require(Reference.smol)
        let tmp = try TempDir()
        let lora = TestLoRA.random(layers: [1, 12], modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"], seed: 11)
        try lora.writeGGUF(tmp.path("g.gguf"))
        try lora.writePEFT(tmp.url.appendingPathComponent("peft"))
        try lora.writePEFT(tmp.url.appendingPathComponent("unpermuted"), permuteQK: false)
        let e = try Engine(path: Reference.smol, context: 64, threads: 2)
        func run(_ path: String) throws -> [Float] {
            let set = try AdapterSet(model: e.model, adapters: [(try LoRAAdapter.load(path: path), 1)])
            return try e.withAdapters(set) { try e.logits(for: Self.prompt) }
        }
        let gguf = try run(tmp.path("g.gguf")), peft = try run(tmp.path("peft")), wrong = try run(tmp.path("unpermuted"))
        let base = try e.logits(for: Self.prompt)
        print("PEFT vs GGUF \(Self.maxAbs(peft, gguf)); unpermuted Q/K vs GGUF \(Self.maxAbs(wrong, gguf)); effect \(Self.maxAbs(gguf, base))")
        XCTAssertEqual(peft, gguf, "the same floats in the same row order give bit-identical logits")
        // PEFT → GGUF conversion writes the llama row order: the converted file matches too.
        let converted = try LoRAAdapter.load(path: tmp.path("peft")).ggufWriter(architecture: "llama", headCount: 9, kvHeadCount: 3)
        try converted.write(to: tmp.path("converted.gguf"))
        XCTAssertEqual(try run(tmp.path("converted.gguf")), gguf)
        XCTAssertGreaterThan(Self.maxAbs(wrong, gguf), 0.01, "without the llama Q/K permutation the PEFT update lands on the wrong rows")
    }

    func testScalesAndSeveralAdaptersPerRequest() throws {
        try Reference.require(Reference.smol)
        let tmp = try TempDir()
        let lora = TestLoRA.random(layers: [2, 20], modules: ["q_proj", "down_proj"], seed: 3)
        try lora.writeGGUF(tmp.path("x.gguf"))
        var other = TestLoRA.random(layers: [5], modules: ["up_proj"], rank: 8, alpha: 16, seed: 5)
        other.architecture = "llama"
        try other.writeGGUF(tmp.path("y.gguf"))
        let x = try LoRAAdapter.load(path: tmp.path("x.gguf")), y = try LoRAAdapter.load(path: tmp.path("y.gguf"))
        let e = try Engine(path: Reference.smol, context: 64, threads: 2)
        func run(_ list: [(LoRAAdapter, Float)]) throws -> [Float] {
            try e.withAdapters(try AdapterSet(model: e.model, adapters: list.map { (adapter: $0.0, scale: $0.1) })) { try e.logits(for: Self.prompt) }
        }
        let base = try e.logits(for: Self.prompt)
        XCTAssertEqual(try run([(x, 0)]), base, "scale 0 is the base model")
        let full = try run([(x, 1)]), halves = try run([(x, 0.5), (x, 0.5)])
        // Exact in real arithmetic; in floats 0.5·Δ + 0.5·Δ and Δ differ in the last bit, and the
        // next layer's Q8 activation rounding (as llama.cpp's) can step on that: SmolLM2's logits
        // then move by up to the engine's own noise floor (BatchConsistencyTests: 1.5). The
        // adapter itself moves them by ~4, so a wrong sum would still fail here.
        XCTAssertLessThan(Self.maxAbs(full, halves), 1.0, "two halves of one adapter add up to the whole")
        // The greedy pick may differ only between tokens whose logits are closer than twice that
        // measured distance (a near-tie the rounding can flip: seen with the f16 KV cache).
        let drift = Self.maxAbs(full, halves)
        let pick = halves.indices.max { halves[$0] < halves[$1] }!
        XCTAssertGreaterThanOrEqual(full[pick], full.max()! - 2 * drift, "the halves' greedy token is a near-tie of the whole's, not another answer")
        let both = try run([(x, 1), (y, 1)]), onlyY = try run([(y, 1)])
        XCTAssertGreaterThan(Self.maxAbs(both, full), 0.01); XCTAssertGreaterThan(Self.maxAbs(both, onlyY), 0.01)
        XCTAssertEqual(try e.logits(for: Self.prompt), base, "the next request without adapters sees the base model")
    }

    func testFastKernelMatchesReference() {
        for (tokens, rank, inDim, outDim) in [(1, 4, 64, 96), (7, 8, 96, 40), (3, 1, 32, 32)] {
            var seed: UInt32 = 1
            func r() -> Float { seed = seed &* 1664525 &+ 1013904223; return Float(seed >> 8) / Float(1 << 24) - 0.5 }
            let a = (0..<rank * inDim).map { _ in r() }, b = (0..<outDim * rank).map { _ in r() }, x = (0..<tokens * inDim).map { _ in r() }
            let y0 = (0..<tokens * outDim).map { _ in r() }
            var fast = y0, ref = y0
            let tmp = UnsafeMutablePointer<Float>.allocate(capacity: tokens * rank); defer { tmp.deallocate() }
            LoRAKernel.apply(a: a, b: b, rank: rank, inDim: inDim, outDim: outDim, scale: 1.5, x: x, y: &fast, tokens: tokens, tmp: tmp)
            LoRAKernel.reference(a: a, b: b, rank: rank, inDim: inDim, outDim: outDim, scale: 1.5, x: x, y: &ref, tokens: tokens)
            XCTAssertLessThan(Self.maxAbs(fast, ref), 1e-4, "T=\(tokens) r=\(rank)")
            XCTAssertGreaterThan(Self.maxAbs(fast, y0), 0.01, "the update is not empty")
        }
    }
}
