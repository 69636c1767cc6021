import XCTest
@testable import LLM

/// Prompt processing in one batch (sgemm on dequantized tiles) and token by token (quantized
/// matvec) must give the same logits up to float rounding.
final class BatchConsistencyTests: XCTestCase {
    func testBatchEqualsTokenByToken() throws {
        try Reference.require(Reference.smol)
        let engine = try Engine(path: Reference.smol, context: 128, threads: 2)
        let prompt: [Int32] = [1, 9690, 198, 2683, 359, 253, 5356, 5646, 11173, 3365, 3511, 308, 34519, 28, 7018, 411, 407, 19712, 8182, 2, 198, 1, 4093, 198, 1780, 314, 260, 3575, 282, 4649, 47, 2, 198, 1, 520, 9531, 198]
        let batch = try engine.logits(for: prompt)
        let s = engine.sequence()
        s.reset()
        var last: UnsafeMutablePointer<Float>!
        for t in prompt { last = try engine.evaluate([t], state: s) }
        var maxDiff: Float = 0
        for i in 0..<batch.count { maxDiff = max(maxDiff, abs(batch[i] - last[i])) }
        print("batch vs token-by-token: max abs diff \(maxDiff)")
        XCTAssertLessThan(maxDiff, 0.02)
    }
}
