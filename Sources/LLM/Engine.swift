import Foundation
import Tensor
import Tokenizers
import StrataCore

/// Token-level statistics of one generation.
public struct TokenGeneration: Sendable {
    public typealias Stop = StopReason
    public var tokens: [Int32]
    public var promptTokens: Int
    /// Leading prompt tokens whose keys and values were still cached from the previous call.
    public var reusedPromptTokens = 0
    public var promptSeconds: Double
    public var generationSeconds: Double
    public var stop: Stop
    /// Over the prompt tokens actually evaluated.
    public var promptTokensPerSecond: Double { promptSeconds > 0 ? Double(promptTokens - reusedPromptTokens) / promptSeconds : 0 }
    public var generationTokensPerSecond: Double { generationSeconds > 0 ? Double(tokens.count) / generationSeconds : 0 }
}

/// The L1 engine: a model file loaded for inference, with a context window and a thread pool.
///
/// Not reentrant: one generation at a time per engine (the decode state is reused so the decode
/// loop allocates nothing); callers serialise or load one engine per worker.
public final class Engine: @unchecked Sendable {
    public let path: String
    public let file: ModelFile
    public let model: DecoderModel
    /// The model's own tokenizer (`tokenizer.ggml.*`).
    public let tokenizer: BPETokenizer
    public var config: DecoderConfig { model.config }
    /// The context window: the model's `context_length` capped by the caller's request.
    public let context: Int
    public let pool: ThreadPool
    /// Prompt tokens evaluated per forward call (bounds the activation buffers).
    public let batchSize: Int
    /// How prompt batches are multiplied; results depend on it, speed on the thread count.
    public let arithmetic: PromptArithmetic
    /// How the KV cache stores keys and values (f16 by default, as llama.cpp; f32 for parity checks).
    public let kvCache: KVCacheType
    private var state: DecoderState?
    /// The tokens whose keys and values `state` holds, when `generate` left it (empty once anyone
    /// else touched the state), and the adapter set they were computed under. A prompt that
    /// starts the same way — the pack's system prompt, a chat's earlier turns, the next section
    /// of a report — evaluates only what differs.
    private var cachedTokens: [Int32] = []
    private var cachedHook: AdapterSet?
    /// Off: every prompt is evaluated from its first token (for parity checks and benchmarks).
    public var reusesPromptPrefix = true

    /// Loads `path`, validating architecture, hyper-parameters, tensor shapes and types.
    public init(path: String, context requested: Int = 4096, threads: Int = 2, batchSize: Int = 512,
                arithmetic: PromptArithmetic = .standard, kvCache: KVCacheType = .f16) throws {
        guard requested > 0 else { throw EngineError.invalidParameter("context size must be positive (got \(requested)) — pass e.g. --ctx 2048") }
        guard threads > 0 else { throw EngineError.invalidParameter("thread count must be positive (got \(threads))") }
        self.path = path
        file = try ModelFile(path: path)
        model = try ModelRegistry.load(file)
        tokenizer = try BPETokenizer(gguf: file.gguf)
        context = min(requested, model.config.contextLength)
        self.batchSize = max(1, min(batchSize, context))
        pool = ThreadPool.shared(threads: threads)
        self.arithmetic = arithmetic
        self.kvCache = kvCache
        // Our pool parallelises the BLAS strips (WeightMatrix.matmulBLAS, batch attention);
        // OpenBLAS threads on top would fight it for the cores.
        BLAS.setThreads(1)
    }

    /// The reusable sequence state (KV cache and buffers), created on first use. The caller may
    /// rewrite it, so `generate` forgets what it had cached there.
    public func sequence() -> DecoderState {
        cachedTokens = []
        return sharedState()
    }

    private func sharedState() -> DecoderState {
        if let s = state { return s }
        let s = DecoderState(config: config, context: context, maxBatch: batchSize, pool: pool, arithmetic: arithmetic, kvCache: kvCache)
        state = s
        return s
    }

    /// How many leading tokens of `prompt` the state already holds under the current adapters;
    /// always leaves the last prompt token to evaluate, since its logits pick the first reply token.
    /// Only an `AdapterSet` (immutable once bound, and kept alive here so its identity cannot be
    /// reused) or no hook at all qualifies: another hook, such as training's, may change weights.
    private func reusablePrefix(_ prompt: [Int32], state s: DecoderState) -> Int {
        let sameAdapters = switch model.hook {
        case nil: cachedHook == nil
        case let set as AdapterSet: set === cachedHook
        default: false
        }
        guard reusesPromptPrefix, sameAdapters, s.position == cachedTokens.count else { return 0 }
        var n = 0
        let limit = min(cachedTokens.count, prompt.count - 1)
        while n < limit && cachedTokens[n] == prompt[n] { n += 1 }
        return n
    }

    /// Appends `tokens` to `state` in batches; returns the logits of the rows from `logitsFrom`
    /// (relative to `tokens`) of the final batch only when they all lie in it, else of its last row.
    @discardableResult
    public func evaluate(_ tokens: [Int32], state s: DecoderState, logitsFrom: Int? = nil) throws -> UnsafeMutablePointer<Float> {
        guard !tokens.isEmpty else { throw EngineError.emptyInput }
        guard s.position + tokens.count <= s.context else {
            throw EngineError.contextOverflow(tokens: s.position + tokens.count, context: s.context)
        }
        var start = 0
        var out: UnsafeMutablePointer<Float>!
        try tokens.withUnsafeBufferPointer { all in
            while start < all.count {
                let n = min(s.maxBatch, all.count - start)
                let from = max(0, min(n - 1, (logitsFrom ?? (all.count - 1)) - start))
                out = try model.forward(UnsafeBufferPointer(rebasing: all[start..<start + n]), state: s, logitsFrom: from)
                start += n
            }
        }
        return out
    }

    /// Logits (vocab) after `tokens`, evaluated as a fresh sequence: the parity entry point.
    public func logits(for tokens: [Int32]) throws -> [Float] {
        let s = sequence()
        s.reset()
        let p = try evaluate(tokens, state: s)
        return Array(UnsafeBufferPointer(start: p, count: config.vocabularySize))
    }

    /// Generates after `prompt`: `next` picks a token from the logits, `onToken` sees each token
    /// (returning false cancels). Stops on `stopTokens` (EOS/EOT, not included) or `maxTokens`.
    public func generate(prompt: [Int32], maxTokens: Int, stopTokens: Set<Int32>,
                         next: (UnsafeMutableBufferPointer<Float>, _ history: [Int32]) -> Int32,
                         onToken: (Int32) -> Bool) throws -> TokenGeneration {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        guard maxTokens >= 0 else { throw EngineError.invalidParameter("the number of tokens to generate must be ≥ 0 (got \(maxTokens))") }
        guard prompt.count <= context else { throw EngineError.contextOverflow(tokens: prompt.count, context: context) }
        let s = sharedState()
        let reused = reusablePrefix(prompt, state: s)
        s.truncate(to: reused)
        // Until this call finishes, the state matches no token list (an error leaves it half-written).
        cachedTokens = []
        cachedHook = model.hook as? AdapterSet
        let t0 = DispatchTime.now().uptimeNanoseconds
        var logits = try evaluate(Array(prompt[reused...]), state: s)
        let t1 = DispatchTime.now().uptimeNanoseconds
        var history = prompt
        history.reserveCapacity(prompt.count + maxTokens)
        var out: [Int32] = []
        out.reserveCapacity(maxTokens)
        var stop = TokenGeneration.Stop.maxTokens
        var token: [Int32] = [0]
        while out.count < maxTokens {
            let t = next(UnsafeMutableBufferPointer(start: logits, count: config.vocabularySize), history)
            if stopTokens.contains(t) { stop = .endOfSequence; break }
            out.append(t); history.append(t)
            if !onToken(t) { stop = .cancelled; break }
            if out.count == maxTokens { break }
            if s.position >= s.context { stop = .maxTokens; break }
            token[0] = t
            logits = try token.withUnsafeBufferPointer { try model.forward($0, state: s, logitsFrom: 0) }
        }
        let t2 = DispatchTime.now().uptimeNanoseconds
        // The state holds the prompt and every generated token fed back (all but the last); not
        // reusable after a hook other than an adapter set changed the computation.
        cachedTokens = model.hook == nil || model.hook is AdapterSet ? Array(history.prefix(s.position)) : []
        return TokenGeneration(tokens: out, promptTokens: prompt.count, reusedPromptTokens: reused,
                               promptSeconds: Double(t1 - t0) / 1e9, generationSeconds: Double(t2 - t1) / 1e9, stop: stop)
    }

    /// The index of the largest logit (greedy decoding; ties go to the lowest id, as llama.cpp).
    public static func argmax(_ logits: UnsafeMutableBufferPointer<Float>) -> Int32 {
        var best = 0, bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue { best = i; bestValue = logits[i] }
        return Int32(best)
    }
}
