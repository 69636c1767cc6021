import Foundation
@testable import LLM
import Tensor

/// What rounding activations to 8 bits does to a model's logits on this host, measured in the
/// running test process: the engine's interleaved arithmetic (integer kernels on 8-bit
/// activations, the default) against its row-exact arithmetic on a prompt long enough that
/// row-exact multiplies in float (sgemm from 64 tokens for 32-weight blocks, 192 for K types).
///
/// Every bound between two paths that round differently (batch vs token by token, training vs
/// serving, ours vs llama.cpp) is stated in this unit rather than as a constant measured on one
/// CPU. The floor moves with the host: OpenBLAS picks its sgemm kernels by CPU, batch attention
/// runs through sgemm, and a last-bit change can flip one rounding step of the activation
/// quantizer, which SmolLM2 amplifies to about a logit (on one prompt: 1.58 with OpenBLAS's Zen
/// kernels, 1.80 with its SSE kernels — what a Zen 4 host got from Debian's OpenBLAS 0.3.21).
enum RoundingFloor {
    /// The prompt: the first 200 tokens of the reference text llama.cpp's perplexity was run on.
    static let tokenCount = 200

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [String: LogitDistance] = [:]

    /// The floor for the model at `path` (computed once per process).
    static func of(_ path: String) throws -> LogitDistance {
        if let d = lock.withLock({ cache[path] }) { return d }
        let engine = try Engine(path: path, context: tokenCount, threads: 2)
        let text = try String(contentsOfFile: Reference.llamaCpp + "/gpl3.txt", encoding: .utf8)
        let tokens = Array(engine.tokenizer.encode(text, addSpecial: true).prefix(tokenCount))
        precondition(tokens.count == tokenCount)
        let rounded = try allLogits(engine.model, tokens, arithmetic: .interleaved)
        let float = try allLogits(engine.model, tokens, arithmetic: .rowExact)
        // Position 0 is left out: with nothing to attend to but itself, Qwen2's first position
        // carries activations in the thousands (its attention sink), where one 8-bit step is
        // worth 13 logits; the tests measured against Qwen's floor compare later positions only.
        let V = engine.config.vocabularySize
        let d = LogitDistance(Array(float[V...]), Array(rounded[V...]), vocabulary: V)
        print("rounding floor of \((path as NSString).lastPathComponent) on this host (8-bit activations vs float, positions 1–\(tokenCount - 1)): \(d)")
        lock.withLock { cache[path] = d }
        return d
    }

    /// The logits of every position of `tokens`, `hook` (adapters) applied, with `arithmetic`.
    /// The KV cache is f32 unless asked: the floor is 8-bit rounding alone (the f16 cache's own
    /// distance is measured apart, `KVCacheDistance`).
    static func allLogits(_ model: DecoderModel, _ tokens: [Int32], hook: AdapterSet? = nil,
                          arithmetic: PromptArithmetic, kvCache: KVCacheType = .f32) throws -> [Float] {
        let s = DecoderState(config: model.config, context: tokens.count, maxBatch: tokens.count,
                             pool: ThreadPool.shared(threads: 2), arithmetic: arithmetic, kvCache: kvCache)
        model.hook = hook
        defer { model.hook = nil }
        let p = try tokens.withUnsafeBufferPointer { try model.forward($0, state: s, logitsFrom: 0) }
        return Array(UnsafeBufferPointer(start: p, count: tokens.count * model.config.vocabularySize))
    }
}
