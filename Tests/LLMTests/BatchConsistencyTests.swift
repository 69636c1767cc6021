import XCTest
@testable import LLM

/// Prompt processing in one batch (integer tile kernels or sgemm on dequantized strips by
/// length and threads; batch attention through sgemm) and token by token (quantized
/// matvec) must agree.
final class BatchConsistencyTests: XCTestCase {
    let prompt: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]

    func compare(_ path: String, tokens: Int) throws -> (distance: LogitDistance, sameTop: Bool) {
        let prompt = Array(self.prompt.prefix(tokens))
        let engine = try Engine(path: path, context: 128, threads: 2)
        let batch = try engine.logits(for: prompt)
        let s = engine.sequence()
        s.reset()
        var last: UnsafeMutablePointer<Float>!
        for t in prompt { last = try engine.evaluate([t], state: s) }
        let single = Array(UnsafeBufferPointer(start: last, count: batch.count))
        let d = LogitDistance(batch, single, vocabulary: batch.count)
        let top = { (v: [Float]) in v.indices.max { v[$0] < v[$1] }! }
        print("\((path as NSString).lastPathComponent): batch vs token by token \(d)")
        return (d, top(batch) == top(single))
    }

    /// Both sides round activations to 8 bits, each at its own places: two draws of the rounding
    /// this host's floor measures, so at most twice the floor apart (triangle inequality through
    /// the float model), and the same top-1.
    func check(_ path: String, tokens: Int) throws {
        try Reference.require(path)
        let floor = try RoundingFloor.of(path)
        let r = try compare(path, tokens: tokens)
        XCTAssertLessThan(r.distance.maxAbs, 2 * floor.maxAbs)
        XCTAssertTrue(r.sameTop)
    }

    func testQwenBatchEqualsTokenByToken() throws {
        try check(Reference.qwen, tokens: 10)  // 1.5B: keep the token-by-token half short
    }

    /// A prompt batch gives the same logits bit for bit on one thread as on two: the products,
    /// attention and the row-wise ops (norms, SwiGLU, residual adds, split across the pool from
    /// 16 rows) divide the work, never the arithmetic.
    func testPromptBatchIsThreadCountIndependent() throws {
        try Reference.require(Reference.smol)
        let one = try Engine(path: Reference.smol, context: 128, threads: 1).logits(for: prompt)
        let two = try Engine(path: Reference.smol, context: 128, threads: 2).logits(for: prompt)
        XCTAssertEqual(one.map(\.bitPattern), two.map(\.bitPattern))
    }

    /// SmolLM2 turns a last-bit difference into about a logit where a flipped rounding step meets
    /// one of its large activations.
    func testSmolLM2BatchAgreesWithTokenByToken() throws {
        try check(Reference.smol, tokens: 37)
    }
}
