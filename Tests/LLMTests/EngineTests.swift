import XCTest
@testable import LLM
import Tensor

/// Engine behaviour around the forward pass: config from metadata, limits, hooks, cancellation.
final class EngineTests: XCTestCase {
    func testConfigComesFromMetadata() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 64, threads: 1)
        let c = e.config
        XCTAssertEqual([c.layerCount, c.embeddingLength, c.headCount, c.kvHeadCount, c.headDim, c.feedForwardLength, c.vocabularySize, c.contextLength],
                       [30, 576, 9, 3, 64, 1536, 49152, 8192])
        XCTAssertEqual(c.ropeBase, 100_000)
        XCTAssertEqual(c.ropeStyle, .adjacentPairs)
        XCTAssertEqual(e.context, 64, "capped by the caller")
        XCTAssertTrue(e.model.output.data == e.model.tokenEmbedding.data, "SmolLM2 ties its output head to the embedding")
    }

    func testPromptLongerThanContextSaysHowToRaiseIt() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 16, threads: 1)
        XCTAssertThrowsError(try e.logits(for: [Int32](repeating: 504, count: 17))) { error in
            XCTAssertTrue(error.localizedDescription.contains("--ctx"), error.localizedDescription)
        }
        XCTAssertThrowsError(try e.logits(for: [49152])) { error in
            XCTAssertEqual(error as? EngineError, .tokenOutOfRange(49152, vocabulary: 49152))
        }
    }

    final class CountingHook: ProjectionHook {
        var calls: [Projection: Int] = [:]
        var bump: Float = 0
        func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, inDim: Int,
                   y: UnsafeMutablePointer<Float>, outDim: Int, tokens: Int) {
            calls[projection, default: 0] += 1
            if projection == .down && bump != 0 { for i in 0..<outDim * tokens { y[i] += bump } }
        }
    }

    func testLoRAHookSeesEveryProjectionAndCanChangeTheOutput() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 32, threads: 2)
        let prompt: [Int32] = [504, 3575, 282, 4649, 314]
        let plain = try e.logits(for: prompt)
        let hook = CountingHook()
        e.model.hook = hook
        defer { e.model.hook = nil }
        let observed = try e.logits(for: prompt)
        XCTAssertEqual(plain, observed, "a hook that adds nothing changes nothing")
        for p in Projection.allCases { XCTAssertEqual(hook.calls[p], 30, "\(p) once per layer") }
        hook.bump = 0.05
        let changed = try e.logits(for: prompt)
        XCTAssertNotEqual(plain, changed)
    }

    func testGenerationCanBeCancelled() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 64, threads: 2)
        var seen = 0
        let g = try e.generate(prompt: [504, 3575], maxTokens: 20, stopTokens: [],
                               next: { l, _ in Engine.argmax(l) }, onToken: { _ in seen += 1; return seen < 3 })
        XCTAssertEqual(g.tokens.count, 3)
        XCTAssertEqual(g.stop, .cancelled)
    }
}

/// Engines loaded one after another with different thread counts share the process's pools
/// and must free their states cleanly (bench-llm does exactly this).
final class EngineTurnoverTests: XCTestCase {
    func testEnginesWithDifferentThreadCountsInTurn() throws {
        try Reference.require(Reference.smol)
        let prompt = (0..<100).map { Int32(100 + $0 * 37 % 4000) }
        var results: [[Float]] = []
        for threads in [2, 1, 2] {
            let e = try Engine(path: Reference.smol, context: 160, threads: threads, batchSize: 128)
            let gen = try e.generate(prompt: prompt, maxTokens: 4, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true })
            XCTAssertEqual(gen.tokens.count, 4)
            results.append(try e.logits(for: prompt))
        }
        // Same arithmetic whatever the thread count (rows are split in fixed chunks, never
        // re-associated).
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[0], results[2])
    }

    /// The two prompt arithmetics on a 100-token SmolLM2 prompt: row-exact sends it to sgemm on
    /// dequantized strips, interleaved keeps it in the integer kernels (activations rounded to
    /// 8 bits). They must differ, by rounding only: the same greedy tokens, and no further apart
    /// than twice the distance between llama.cpp's two recorded settings on this model (computed
    /// here from its vectors), its own rounding noise on the same weights.
    func testTheTwoArithmeticsDifferByRoundingOnly() throws {
        try Reference.require(Reference.smol)
        let prompt = (0..<100).map { Int32(100 + $0 * 37 % 4000) }
        var results: [[Float]] = [], tokens: [[Int32]] = []
        for arithmetic in PromptArithmetic.allCases {
            let e = try Engine(path: Reference.smol, context: 160, threads: 2, batchSize: 128, arithmetic: arithmetic)
            tokens.append(try e.generate(prompt: prompt, maxTokens: 4, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true }).tokens)
            results.append(try e.logits(for: prompt))
        }
        let d = LogitDistance(results[0], results[1], vocabulary: results[0].count)
        let dir = Reference.llamaCpp + "/smollm2-135m-instruct-q4_1/logits/"
        let vector = { (name: String) throws -> [Float] in
            try Data(contentsOf: URL(fileURLWithPath: dir + name)).withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        }
        let theirs = LogitDistance(try vector("raw_en_capital__default.f32"), try vector("raw_en_capital__fa_off_kv_f32.f32"), vocabulary: results[0].count)
        print("row-exact vs interleaved, 100-token prompt: \(d); llama.cpp's two settings: \(theirs)")
        XCTAssertNotEqual(results[0], results[1], "the two arithmetics should round differently on Q4_1")
        XCTAssertLessThan(d.maxAbs, 2 * theirs.maxAbs)
        XCTAssertEqual(tokens[0], tokens[1])
    }
}
