import Foundation
import XCTest
@testable import Knowledge

/// Hybrid search must never lose to its own keyword list where the encoder cannot read the
/// query (#19 item 11: CMRC 2018 hybrid 0.942 against keyword 0.986).
final class FusionWeightsTests: XCTestCase {
    let minilm = "all-MiniLM-L6-v2@1a3ec37b"

    func testTheDenseWeightFollowsTheQueryScriptAndTheEncoder() {
        XCTAssertEqual(ReciprocalRankFusion.denseWeight(for: "How long does a refund take?", encoder: minilm), 1)
        XCTAssertEqual(ReciprocalRankFusion.denseWeight(for: "退款需要几天", encoder: minilm), 0.001)
        // A mixed query: the encoder reads only its Latin half, so the Han weight holds.
        XCTAssertEqual(ReciprocalRankFusion.denseWeight(for: "NBA总决赛MVP是谁", encoder: minilm), 0.001)
        XCTAssertEqual(FusionWeights.weights(for: "some-other-encoder@12345678"), FusionWeights.Weights(latin: 1, han: 0.001))
    }

    /// At the Han weight, the keyword list's top 100 keep their order exactly, even against a
    /// dense list that ranks them in reverse, and dense-only hits come after them.
    func testTheHanWeightKeepsKeywordOrderAndFillsTheRestFromDense() {
        let keyword = (1...100).map { (chunkID: Int64($0), score: Double(200 - $0)) }
        let dense = (1...100).reversed().map { (chunkID: Int64($0), score: 0.5) } + [(chunkID: 500, score: 0.9), (chunkID: 501, score: 0.8)]
        let fused = ReciprocalRankFusion.fuse(keyword: keyword, dense: dense, denseWeight: 0.001, limit: 102)
        XCTAssertEqual(fused.prefix(100).map(\.chunkID), (1...100).map { Int64($0) })
        XCTAssertEqual(fused.suffix(2).map(\.chunkID), [500, 501])
        // Plain RRF (the Latin weight) lets the dense list reorder.
        XCTAssertNotEqual(ReciprocalRankFusion.fuse(keyword: keyword, dense: dense, denseWeight: 1, limit: 100).map(\.chunkID),
                          (1...100).map { Int64($0) })
    }
}
