import XCTest
@testable import LLM
import Tensor

/// The training forward must compute the logits the engine serves, with and without a LoRA,
/// so that training optimises the model we run (not a look-alike).
final class TrainingParityTests: XCTestCase {
    /// The training forward's logits and the engine's, with the LoRA applied as the engine serves it.
    func logits(_ model: DecoderModel, _ lora: LoRAParameters, _ tokens: [Int32],
                arithmetic: PromptArithmetic) throws -> (training: [Float], engine: [Float]) {
        let net = LoRATrainingModel(model: model, lora: lora, maxRows: tokens.count, maxLength: tokens.count,
                                    pool: ThreadPool.shared(threads: 2))
        let adapter = lora.adapter(name: "t", architecture: model.file.architecture, baseModel: nil)
        let served = try RoundingFloor.allLogits(model, tokens, hook: try AdapterSet(model: model, adapters: [(adapter, 1)]),
                                                 arithmetic: arithmetic)
        return (net.logits(for: tokens), served)
    }

    func compare(_ model: DecoderModel, _ lora: LoRAParameters, _ tokens: [Int32], arithmetic: PromptArithmetic = .standard) throws -> (maxAbs: Float, maxLogit: Float) {
        let (ours, theirs) = try logits(model, lora, tokens, arithmetic: arithmetic)
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

    /// SmolLM2 (Q4_1, Q8_0 head) on 96 tokens, with a LoRA on every projection (B = 0, where
    /// training starts, and a random B large enough to move the logits well beyond rounding).
    ///
    /// Row-exact: the engine runs a batch of ≥ 64 tokens through dequantized strips and sgemm,
    /// as training does, so only summation order differs: held to float32's own reach, 1e-4 of
    /// the largest logit (ε·√K·depth ≈ 1.2e-7 · √1536 · 30 ≈ 1.4e-4; measured 2–3e-6 relative).
    ///
    /// Interleaved (what `ask` serves): activations are rounded to 8 bits, so the two forwards
    /// differ by that rounding, whose size depends on the host (RoundingFloor). Stated in that
    /// unit, as AdapterParityTests does: the gap is at most twice the base model's floor (the
    /// adapted model rounds at other places than the base one) plus a tenth of the adapter's
    /// effect, and the effect must dwarf the floor, or an adapter the serving path dropped or
    /// scaled wrongly would pass unnoticed.
    func testSmolLM2WithLoRA() throws {
        try Reference.require(Reference.smol)
        let engine = try Engine(path: Reference.smol, context: 128, threads: 2)
        let V = engine.config.vocabularySize
        let tokens = engine.tokenizer.encode(String(repeating: "Shares of the company rose 3 pct to 41 dlrs after the profit report, traders said. ", count: 8),
                                             addSpecial: false)
        let prompt = Array(tokens.prefix(96))
        XCTAssertEqual(prompt.count, 96)
        let floor = try RoundingFloor.of(Reference.smol)
        let base = try RoundingFloor.allLogits(engine.model, prompt, arithmetic: .rowExact)
        let lora = LoRAParameters(config: engine.config, rank: 4, alpha: 8, targets: Projection.allCases, seed: 9)
        for bScale: Float in [0, 0.4] {
            var rng = SplitMix64(seed: 10)
            for s in lora.slots { for i in 0..<s.outDim * lora.rank { lora.values[s.b + i] = (rng.nextUnit() * 2 - 1) * bScale } }
            let what = bScale == 0 ? "B = 0" : "random B (±\(bScale))"
            let exact = try logits(engine.model, lora, prompt, arithmetic: .rowExact)
            let e = LogitDistance(exact.training, exact.engine, vocabulary: V)
            print("training vs engine logits (SmolLM2, \(what), row-exact): \(e)")
            XCTAssertLessThan(e.maxAbs, 1e-4 * e.scale, what)

            let served = try logits(engine.model, lora, prompt, arithmetic: .interleaved)
            let gap = LogitDistance(served.training, served.engine, vocabulary: V)
            let effect = LogitDistance(served.training, base, vocabulary: V)
            print("training vs engine logits (SmolLM2, \(what), interleaved): \(gap); adapter effect \(effect); floor \(floor)")
            XCTAssertLessThan(gap.maxAbs, 2 * floor.maxAbs + 0.1 * effect.maxAbs, what)
            XCTAssertLessThan(gap.rms, 2 * floor.rms + 0.1 * effect.rms, what)
            if bScale > 0 {
                XCTAssertGreaterThan(effect.rms, 3 * floor.rms, "the test adapter must move the logits well beyond rounding")
            }
        }
    }
}
