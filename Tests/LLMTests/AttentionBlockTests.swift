import XCTest
import Tensor
@testable import LLM

/// Batch attention runs in blocks of `Ops.attentionBlock` rows, each looking only as far as its
/// last row may; it must compute what the plain per-row attention (the decode path, dot
/// products in order) computes, across block boundaries, after a cached prefix, on any thread
/// count. Both are float arithmetic, so the bound is summation order only. The decode step's
/// attention (one token, one job per KV head group) is held to the same reference.
final class AttentionBlockTests: XCTestCase {
    func testBlockedBatchAttentionEqualsPerRowAttention() throws {
        try Reference.require(Reference.smol)
        let c = try Engine(path: Reference.smol, context: 64, threads: 1).config   // 9 heads, 3 kv heads, d 64
        let rows = 2 * Ops.attentionBlock + 37, pos0 = 21, context = pos0 + rows
        var g = SystemRandomNumberGenerator()
        for threads in [1, 2] {
            let s = DecoderState(config: c, context: context, maxBatch: rows, pool: ThreadPool(threads: threads),
                                 arithmetic: .standard, kvCache: .f32)
            let layer = 1
            for i in 0..<(rows * c.qDim) { s.q[i] = Float.random(in: -3...3, using: &g) }
            fillCache(s, layer: layer, positions: context, kvDim: c.kvDim, using: &g)
            Ops.attentionBatch(c, layer: layer, state: s, rows: rows, pos0: pos0)
            let blocked = Array(UnsafeBufferPointer(start: s.att, count: rows * c.qDim))
            Ops.attentionPlain(c, layer: layer, state: s, rows: rows, pos0: pos0)
            var maxDiff: Float = 0
            for i in 0..<blocked.count { maxDiff = max(maxDiff, abs(blocked[i] - s.att[i])) }
            print("blocked batch attention vs per row, \(rows) rows after \(pos0), \(threads) threads: max abs diff \(maxDiff)")
            XCTAssertLessThan(maxDiff, 1e-5)
        }
    }

    func testDecodeAttentionEqualsPlainAttention() throws {
        try Reference.require(Reference.smol)
        let c = try Engine(path: Reference.smol, context: 64, threads: 1).config
        let context = 3000
        var g = SystemRandomNumberGenerator()
        for threads in [1, 2] {
          for kv in KVCacheType.allCases {   // f16: the decode step reads half; the plain loop, the same values widened
            let s = DecoderState(config: c, context: context, maxBatch: 1, pool: ThreadPool(threads: threads), arithmetic: .standard, kvCache: kv)
            let layer = 2
            fillCache(s, layer: layer, positions: context, kvDim: c.kvDim, using: &g)
            for pos0 in [0, 1, 130, context - 1] {   // the first token sees only itself; the last, the whole cache
                for i in 0..<c.qDim { s.q[i] = Float.random(in: -3...3, using: &g) }
                Ops.attentionDecode(c, layer: layer, state: s, pos0: pos0)
                let fast = Array(UnsafeBufferPointer(start: s.att, count: c.qDim))
                for i in 0..<c.qDim { s.att[i] = .nan }
                Ops.attentionPlain(c, layer: layer, state: s, rows: 1, pos0: pos0)
                let maxDiff = zip(fast, UnsafeBufferPointer(start: s.att, count: c.qDim)).map { abs($0 - $1) }.max()!
                XCTAssertLessThan(maxDiff, 1e-5, "position \(pos0), \(threads) threads, \(kv) cache")
            }
          }
        }
    }

    /// Random keys in [-3, 3] and values in [-1, 1] for `positions` of `layer`, in the cache's type.
    private func fillCache(_ s: DecoderState, layer: Int, positions: Int, kvDim: Int, using g: inout SystemRandomNumberGenerator) {
        let cache = layer * s.context * kvDim
        for i in 0..<(positions * kvDim) {
            let k = Float.random(in: -3...3, using: &g), v = Float.random(in: -1...1, using: &g)
            switch s.kvType {
            case .f32:
                s.kCache.assumingMemoryBound(to: Float.self)[cache + i] = k
                s.vCache.assumingMemoryBound(to: Float.self)[cache + i] = v
            case .f16:
                s.kCache.assumingMemoryBound(to: Float16.self)[cache + i] = Float16(k)
                s.vCache.assumingMemoryBound(to: Float16.self)[cache + i] = Float16(v)
            }
        }
    }
}
