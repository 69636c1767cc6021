import XCTest
@testable import LLM

/// Last-position logits against llama.cpp's full vectors: same top-1, and differences of the
/// same order as between two llama.cpp settings (its own numeric noise floor).
final class LogitsParityTests: XCTestCase {
    func check(model: String, dir: String) throws {
        try Reference.require(model)
        let engine = try Engine(path: model, context: 256, threads: 2)
        let prompts = try XCTUnwrap(try Reference.json(dir + "/logits.json")["prompts"] as? [[String: Any]])
        for p in prompts {
            let id = p["id"] as? String ?? "?"
            let ours = try engine.logits(for: Reference.ints(p["prompt_tokens"]))
            let noise = try XCTUnwrap((p["default_vs_fa_off_kv_f32"] as? [String: Any])?["max_abs_diff"] as? NSNumber).floatValue
            for variant in ["default", "fa_off_kv_f32"] {
                let data = try Data(contentsOf: URL(fileURLWithPath: "\(Reference.llamaCpp)/\(dir)/logits/\(id)__\(variant).f32"))
                let ref: [Float] = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                XCTAssertEqual(ref.count, ours.count, "\(id): vocabulary size")
                var maxAbs: Float = 0, sq: Double = 0
                for i in 0..<min(ref.count, ours.count) {
                    let d = abs(ref[i] - ours[i]); maxAbs = max(maxAbs, d); sq += Double(d * d)
                }
                let rms = (sq / Double(ref.count)).squareRoot()
                let top = { (v: [Float]) in v.indices.max { v[$0] < v[$1] }! }
                print("\(id) vs \(variant): max abs \(maxAbs), rms \(rms) (llama.cpp variants differ by max \(noise))")
                XCTAssertEqual(top(ours), top(ref), "\(id) vs \(variant): top-1 token differs")
                XCTAssertLessThanOrEqual(maxAbs, 1.5 * noise, "\(id) vs \(variant): logits further from llama.cpp than its own variants are from each other")
            }
        }
    }

    func testSmolLM2() throws { try check(model: Reference.smol, dir: "smollm2-135m-instruct-q4_1") }
    func testQwen() throws { try check(model: Reference.qwen, dir: "qwen2.5-coder-1.5b-instruct-q4_k_m") }
}
