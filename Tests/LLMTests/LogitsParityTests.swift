import XCTest
@testable import LLM

/// Last-position logits against llama.cpp's full vectors: same top-1, and no further apart than
/// the two implementations' own rounding allows. Each rounds activations (and llama.cpp its f16
/// KV cache) in its own places, so each sits some distance from the exact float model: ours is
/// measured in this run (RoundingFloor, 8-bit vs float activations), llama.cpp's is the distance
/// between its two recorded settings, computed here from its two vectors, and our f16 KV cache
/// adds its own distance from f32 (`KVCacheDistance`, measured in this run). Their sum bounds the
/// distance between the two (triangle inequality); a wrong RoPE, norm or weight layout is off by
/// tens of logits. All distances are taken with each vector's mean removed (softmax ignores it).
final class LogitsParityTests: XCTestCase {
    func check(model: String, dir: String) throws {
        try Reference.require(model)
        let engine = try Engine(path: model, context: 256, threads: 2)
        let prompts = try XCTUnwrap(try Reference.json(dir + "/logits.json")["prompts"] as? [[String: Any]])
        for p in prompts {
            let id = p["id"] as? String ?? "?"
            let ours = try engine.logits(for: Reference.ints(p["prompt_tokens"]))
            let floor = try RoundingFloor.of(model), kv = try KVCacheDistance.of(model)
            func vector(_ variant: String) throws -> [Float] {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(Reference.llamaCpp)/\(dir)/logits/\(id)__\(variant).f32"))
                return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            }
            let variants = ["default", "fa_off_kv_f32"]
            let refs = try variants.map(vector)
            let theirs = LogitDistance(refs[0], refs[1], vocabulary: refs[0].count)
            for (variant, ref) in zip(variants, refs) {
                XCTAssertEqual(ref.count, ours.count, "\(id): vocabulary size")
                guard ref.count == ours.count else { continue }
                let d = LogitDistance(ours, ref, vocabulary: ref.count)
                let top = { (v: [Float]) in v.indices.max { v[$0] < v[$1] }! }
                print("\(id) vs \(variant): \(d); llama.cpp's settings differ by \(theirs); our floor \(floor), f16 cache \(kv.interleaved)")
                XCTAssertEqual(top(ours), top(ref), "\(id) vs \(variant): top-1 token differs")
                XCTAssertLessThanOrEqual(d.maxAbs, floor.maxAbs + kv.interleaved.maxAbs + theirs.maxAbs,
                                         "\(id) vs \(variant): further from llama.cpp than the two implementations' rounding allows")
            }
        }
    }

    func testSmolLM2() throws { try check(model: Reference.smol, dir: "smollm2-135m-instruct-q4_1") }
    func testQwen() throws { try check(model: Reference.qwen, dir: "qwen2.5-coder-1.5b-instruct-q4_k_m") }
}
