import Foundation
import XCTest
@testable import LLM
import Tensor

/// What storing keys and values as f16 does to the logits, measured in the running process on
/// the 200-token text of `RoundingFloor`: the same model and arithmetic with an f16 and an f32
/// cache. `float`: row-exact arithmetic (float products at this length), so the distance is the
/// cache's rounding alone; `interleaved`: the engine's default 8-bit arithmetic, where a last-bit
/// change from the cache can flip an activation's rounding step and be amplified like any other.
struct KVCacheDistance {
    let float: LogitDistance
    let interleaved: LogitDistance

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: KVCacheDistance] = [:]

    static func of(_ path: String) throws -> KVCacheDistance {
        if let d = lock.withLock({ cache[path] }) { return d }
        let engine = try Engine(path: path, context: RoundingFloor.tokenCount, threads: 2)
        let text = try String(contentsOfFile: Reference.llamaCpp + "/gpl3.txt", encoding: .utf8)
        let tokens = Array(engine.tokenizer.encode(text, addSpecial: true).prefix(RoundingFloor.tokenCount))
        let V = engine.config.vocabularySize
        func distance(_ arithmetic: PromptArithmetic) throws -> LogitDistance {
            let f32 = try RoundingFloor.allLogits(engine.model, tokens, arithmetic: arithmetic, kvCache: .f32)
            let f16 = try RoundingFloor.allLogits(engine.model, tokens, arithmetic: arithmetic, kvCache: .f16)
            return LogitDistance(Array(f32[V...]), Array(f16[V...]), vocabulary: V)   // position 0 left out as for the floor
        }
        let d = KVCacheDistance(float: try distance(.rowExact), interleaved: try distance(.interleaved))
        print("f16 vs f32 KV cache, \((path as NSString).lastPathComponent), positions 1–\(RoundingFloor.tokenCount - 1): float arithmetic \(d.float); 8-bit arithmetic \(d.interleaved)")
        lock.withLock { cache[path] = d }
        return d
    }
}

/// The f16 cache (the default, as llama.cpp's) against the f32 one, in units measured in this run.
final class KVCacheParityTests: XCTestCase {
    /// On float arithmetic the cache's rounding (11 significant bits of keys and values) must move
    /// the logits less than the engine's own 8-bit activation rounding does (the floor): then the
    /// f16 cache adds nothing a parity bound stated in floors did not already allow for.
    func check(_ path: String) throws {
        try Reference.require(path)
        let floor = try RoundingFloor.of(path), kv = try KVCacheDistance.of(path)
        print("\((path as NSString).lastPathComponent): f16 cache \(kv.float) (float), \(kv.interleaved) (8-bit); floor \(floor)")
        XCTAssertLessThan(kv.float.maxAbs, floor.maxAbs, "the f16 cache moves the logits further than 8-bit activations do")
        XCTAssertLessThan(kv.float.rms, floor.rms)
        // On the 8-bit path its effect can be amplified by flipped rounding steps, like any last-bit
        // change upstream; the tests comparing two such paths allow twice the floor.
        XCTAssertLessThanOrEqual(kv.interleaved.maxAbs, 2 * floor.maxAbs)
    }

    func testSmolLM2() throws { try check(Reference.smol) }
    func testQwen() throws { try check(Reference.qwen) }

    /// Greedy decoding through the f16 cache reads back what was stored: a prompt evaluated as a
    /// batch and then continued token by token gives the logits of the same tokens decoded one at
    /// a time from the start within the floor's bound (both read the same f16 values).
    func testDecodeReadsWhatBatchStored() throws {
        try Reference.require(Reference.smol)
        let floor = try RoundingFloor.of(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 64, threads: 2, kvCache: .f16)
        let tokens: [Int32] = Array(e.tokenizer.encode("The quick brown fox jumps over the lazy dog because", addSpecial: true).prefix(12))
        let V = e.config.vocabularySize
        let s = e.sequence(); s.reset()
        let batch = try tokens.withUnsafeBufferPointer { try e.model.forward($0, state: s, logitsFrom: tokens.count - 1) }
        let last = Array(UnsafeBufferPointer(start: batch, count: V))
        s.reset()
        var one: [Float] = []
        for t in tokens {
            let p = try [t].withUnsafeBufferPointer { try e.model.forward($0, state: s, logitsFrom: 0) }
            one = Array(UnsafeBufferPointer(start: p, count: V))
        }
        let d = LogitDistance(last, one, vocabulary: V)
        print("f16 cache, batch vs token by token, last of \(tokens.count) tokens: \(d) (floor \(floor))")
        XCTAssertLessThanOrEqual(d.maxAbs, 2 * floor.maxAbs)
    }
}
