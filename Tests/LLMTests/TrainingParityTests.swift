import XCTest
@testable import LLM
import Tensor

/// The training forward must compute the logits the engine serves, with and without a LoRA,
/// so that training optimises the model we run (not a look-alike).
final class TrainingParityTests: XCTestCase {
    /// All rows of the engine's logits for `tokens`, with `hook` (an adapter set) applied.
    func engineLogits(_ model: DecoderModel, _ tokens: [Int32], hook: AdapterSet?, arithmetic: PromptArithmetic) throws -> [Float] {
        let s = DecoderState(config: model.config, context: tokens.count, maxBatch: tokens.count, pool: ThreadPool.shared(threads: 2),
                             arithmetic: arithmetic)
        model.hook = hook
        defer { model.hook = nil }
        let p = try tokens.withUnsafeBufferPointer { try model.forward($0, state: s, logitsFrom: 0) }
        return Array(UnsafeBufferPointer(start: p, count: tokens.count * model.config.vocabularySize))
    }

    func compare(_ model: DecoderModel, _ lora: LoRAParameters, _ tokens: [Int32], arithmetic: PromptArithmetic = .standard) throws -> (maxAbs: Float, maxLogit: Float) {
        let net = LoRATrainingModel(model: model, lora: lora, maxRows: tokens.count, maxLength: tokens.count,
                                    pool: ThreadPool.shared(threads: 2))
        let ours = net.logits(for: tokens)
        let adapter = lora.adapter(name: "t", architecture: model.file.architecture, baseModel: nil)
        let theirs = try engineLogits(model, tokens, hook: try AdapterSet(model: model, adapters: [(adapter, 1)]),
                                      arithmetic: arithmetic)
        var maxAbs: Float = 0, maxLogit: Float = 0
        for i in ours.indices { maxAbs = max(maxAbs, abs(ours[i] - theirs[i])); maxLogit = max(maxLogit, abs(theirs[i])) }
        return (maxAbs, maxLogit)
    }

    /// Float weights: the two forwards differ in summation order only.
    func testTinyModelWithLoRA() throws {
        let dir = try TempDir()
        for arch in ["llama", "qwen2"] {
            let model = try TinyModel.load(architecture: arch, in: dir)
            let r = try compare(model, TinyModel.lora(model), [3, 7, 1, 0, 19, 4, 4, 12, 8])
            print("training vs engine logits (tiny \(arch)): max abs diff \(r.maxAbs) of max |logit| \(r.maxLogit)")
            XCTAssertLessThan(r.maxAbs, 1e-4 * max(1, r.maxLogit), arch)
        }
    }

    /// SmolLM2 (Q4_1, Q8_0 head) on 96 tokens: with the row-exact arithmetic the engine runs a
    /// batch of ≥ 64 tokens through dequantized tiles and sgemm, as training does, so only
    /// summation order differs; with a random LoRA on every projection the adapter path is
    /// checked as the engine applies it. The interleaved arithmetic (the default) keeps Q4_1
    /// prompts in the integer kernels (activations rounded to 8 bits, as for a single token), so
    /// there the gap is that rounding: it is held to
    /// the bound LogitsParityTests puts on our distance from llama.cpp (1.5 × llama.cpp's own
    /// spread between two of its settings on this model, 1.24), not to summation order.
    func testSmolLM2WithLoRA() throws {
        try Reference.require(Reference.smol)
        let engine = try Engine(path: Reference.smol, context: 128, threads: 2)
        let tokens = engine.tokenizer.encode(String(repeating: "Shares of the company rose 3 pct to 41 dlrs after the profit report, traders said. ", count: 8),
                                             addSpecial: false)
        let prompt = Array(tokens.prefix(96))
        XCTAssertEqual(prompt.count, 96)
        let lora = LoRAParameters(config: engine.config, rank: 4, alpha: 8, targets: Projection.allCases, seed: 9)
        for zeroB in [true, false] {
            if !zeroB {
                var rng = SplitMix64(seed: 10)
                for s in lora.slots { for i in 0..<s.outDim * lora.rank { lora.values[s.b + i] = (rng.nextUnit() * 2 - 1) * 0.05 } }
            }
            let what = zeroB ? "B = 0" : "random LoRA"
            let exact = try compare(engine.model, lora, prompt, arithmetic: .rowExact)
            print("training vs engine logits (SmolLM2, \(what), row-exact): max abs diff \(exact.maxAbs) of max |logit| \(exact.maxLogit)")
            XCTAssertLessThan(exact.maxAbs, 2e-2, what)
            let rounded = try compare(engine.model, lora, prompt, arithmetic: .interleaved)
            print("training vs engine logits (SmolLM2, \(what), interleaved): max abs diff \(rounded.maxAbs) of max |logit| \(rounded.maxLogit)")
            XCTAssertLessThan(rounded.maxAbs, 1.5 * 1.24, what)
        }
    }
}
