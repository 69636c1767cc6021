import Foundation
import Tokenizers

/// How to pick tokens and when to stop, validated before any work is done.
public struct GenerationParameters: Sendable {
    public var maxTokens = 256
    /// 0 (or less) means greedy.
    public var temperature: Double = 0.8
    public var topK = 40
    public var topP: Double = 0.95
    public var minP: Double = 0.05
    public var repeatPenalty: Double = 1.0
    /// How many recent tokens the repeat penalty looks at (llama.cpp's default 64).
    public var repeatLastN = 64
    public var seed: UInt64 = 42
    /// Generation stops before any of these strings (they are not included in the text).
    public var stop: [String] = []

    public init() {}

    public func validate() throws {
        func bad(_ m: String) -> EngineError { .invalidParameter(m) }
        guard maxTokens >= 0 else { throw bad("-n must be ≥ 0 (got \(maxTokens))") }
        guard temperature.isFinite, temperature >= 0 else { throw bad("--temp must be a number ≥ 0 (got \(temperature)); 0 is greedy") }
        guard topK >= 0 else { throw bad("--top-k must be ≥ 0 (got \(topK)); 0 disables it") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw bad("--top-p must be in (0, 1] (got \(topP)); 1 disables it") }
        guard minP.isFinite, minP >= 0, minP < 1 else { throw bad("--min-p must be in [0, 1) (got \(minP)); 0 disables it") }
        guard repeatPenalty.isFinite, repeatPenalty > 0 else { throw bad("--repeat-penalty must be > 0 (got \(repeatPenalty)); 1 disables it") }
        guard repeatLastN >= 0 else { throw bad("the repeat-penalty window must be ≥ 0 (got \(repeatLastN))") }
    }
}

/// What a text generation produced.
public struct TextGenerationResult: Sendable {
    public var text: String
    public var stats: TokenGeneration
}

extension Engine {
    /// Renders `messages` (role, content) in the model's ChatML format with the assistant turn
    /// opened. Both supported models use ChatML; their templates add a default system message
    /// when none is given, and so do we (the model was trained with it).
    public func chatPrompt(_ messages: [(role: String, content: String)]) -> String {
        var text = ""
        if messages.first?.role != "system" {
            let fallback = config.architecture == "qwen2"
                ? "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."
                : "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
            text += "<|im_start|>system\n\(fallback)<|im_end|>\n"
        }
        for m in messages { text += "<|im_start|>\(m.role)\n\(m.content)<|im_end|>\n" }
        return text + "<|im_start|>assistant\n"
    }

    /// Generates a continuation of `prompt` (special tokens in it are parsed), streaming each
    /// complete piece of text to `onPiece` (returning false cancels).
    public func generate(prompt: String, parameters p: GenerationParameters,
                         onPiece: (String) -> Bool) throws -> TextGenerationResult {
        try p.validate()
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        let ids = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        guard !ids.isEmpty else { throw EngineError.emptyInput }
        guard ids.count < context else {
            throw EngineError.contextOverflow(tokens: ids.count + 1, context: context)
        }
        var sampler = EngineSampler(parameters: p, vocabulary: config.vocabularySize)
        var detok = StreamingDetokenizer(tokenizer: tokenizer)
        var text = "", emitted = 0
        var stoppedOnString = false, cancelled = false
        let holdBack = max(0, (p.stop.map(\.count).max() ?? 0) - 1)
        // Emits text up to `upTo` characters (stop strings may still complete in the rest).
        func emit(upTo end: Int) -> Bool {
            guard end > emitted else { return true }
            let start = text.index(text.startIndex, offsetBy: emitted), stop = text.index(text.startIndex, offsetBy: end)
            emitted = end
            return onPiece(String(text[start..<stop]))
        }
        var stats = try generate(prompt: ids, maxTokens: p.maxTokens, stopTokens: tokenizer.endOfGeneration,
                                 next: { logits, history in sampler.pick(logits, history: history) },
                                 onToken: { id in
            text += detok.push(id)
            if let r = p.stop.compactMap({ text.range(of: $0) }).min(by: { $0.lowerBound < $1.lowerBound }) {
                text = String(text[..<r.lowerBound]); stoppedOnString = true
                if !emit(upTo: text.count) { cancelled = true }
                return false
            }
            if !emit(upTo: text.count - holdBack) { cancelled = true; return false }
            return true
        })
        if !stoppedOnString && !cancelled {
            text += detok.flush()
            _ = emit(upTo: text.count)
        }
        if stoppedOnString { stats.stop = .stopString } else if cancelled { stats.stop = .cancelled }
        return TextGenerationResult(text: text, stats: stats)
    }
}

/// Picks the next token: repeat penalty, then greedy when temperature is 0, else top-k,
/// temperature, top-p, min-p and a seeded draw (llama.cpp's default chain order).
///
/// Why here: the shared sampler chain (`Sampling*.swift`, branch gguf) had not landed; this
/// keeps `generate` usable until it does. Allocates its candidate arrays once.
struct EngineSampler {
    let p: GenerationParameters
    var rng: UInt64
    var ids: [Int32] = []
    var probs: [Float] = []

    init(parameters: GenerationParameters, vocabulary: Int) {
        p = parameters; rng = parameters.seed
        ids.reserveCapacity(vocabulary); probs.reserveCapacity(vocabulary)
    }

    mutating func pick(_ logits: UnsafeMutableBufferPointer<Float>, history: [Int32]) -> Int32 {
        if p.repeatPenalty != 1, p.repeatLastN > 0 {
            let penalty = Float(p.repeatPenalty)
            for t in Set(history.suffix(p.repeatLastN)) where Int(t) < logits.count {
                let l = logits[Int(t)]
                logits[Int(t)] = l > 0 ? l / penalty : l * penalty
            }
        }
        if p.temperature <= 0 { return Engine.argmax(logits) }
        ids.removeAll(keepingCapacity: true)
        if p.topK > 0 && p.topK < logits.count {
            // Insertion into a short sorted list: a full sort of the vocabulary per token would
            // cost more than the forward pass of a small model.
            for i in 0..<logits.count {
                let l = logits[i]
                if ids.count == p.topK, l <= logits[Int(ids[ids.count - 1])] { continue }
                var j = ids.count
                while j > 0 && logits[Int(ids[j - 1])] < l { j -= 1 }
                if ids.count == p.topK { ids.removeLast() }
                ids.insert(Int32(i), at: j)
            }
        } else {
            for i in 0..<logits.count { ids.append(Int32(i)) }
            ids.sort { logits[Int($0)] > logits[Int($1)] }
        }
        let top = logits[Int(ids[0])], invT = Float(1 / p.temperature)
        probs.removeAll(keepingCapacity: true)
        var total: Float = 0
        for id in ids { let e = expf((logits[Int(id)] - top) * invT); probs.append(e); total += e }
        for i in probs.indices { probs[i] /= total }
        var keep = probs.count, cumulative: Float = 0
        for i in probs.indices {
            cumulative += probs[i]
            if Double(cumulative) >= p.topP { keep = i + 1; break }
        }
        let floor = Float(p.minP) * probs[0]
        while keep > 1 && probs[keep - 1] < floor { keep -= 1 }
        let mass = probs[0..<keep].reduce(0, +)
        var r = Float(nextRandom()) * mass
        for i in 0..<keep {
            r -= probs[i]
            if r <= 0 { return ids[i] }
        }
        return ids[keep - 1]
    }

    /// SplitMix64 → uniform [0, 1).
    mutating func nextRandom() -> Double {
        rng &+= 0x9E37_79B9_7F4A_7C15
        var z = rng
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
