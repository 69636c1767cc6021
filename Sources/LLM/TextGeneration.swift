import Foundation
import Tokenizers

/// How to pick tokens and when to stop (the sampler chain and stop rules are the shared ones
/// in `Sampling*.swift`; they validate the values and say which one is wrong).
public struct GenerationParameters: Sendable {
    public var sampling = SamplingParameters()
    public var maxTokens = 256
    /// Generation stops before any of these strings (they are not included in the text).
    public var stop: [String] = []
    public init() {}
}

/// What a text generation produced.
public struct TextGenerationResult: Sendable {
    public var text: String
    public var stats: TokenGeneration
}

extension Engine {
    /// Token ids of a chat in the model's own template (default system prompt as the template
    /// adds it; message text can never forge a turn marker).
    public func chatTokens(_ messages: [ChatMessage]) throws -> [Int32] {
        try ChatTemplate(gguf: file.gguf).encode(messages, tokenizer: tokenizer)
    }

    /// Continues `prompt` text (special-token text in it is parsed, BOS added as the model asks).
    public func generate(prompt: String, parameters p: GenerationParameters,
                         onPiece: (String) -> Bool) throws -> TextGenerationResult {
        guard !prompt.isEmpty else { throw EngineError.emptyInput }
        return try generate(tokens: tokenizer.encode(prompt, addSpecial: true, parseSpecial: true), parameters: p, onPiece: onPiece)
    }

    /// Answers `messages` in the model's chat format.
    public func generate(messages: [ChatMessage], parameters p: GenerationParameters,
                         onPiece: (String) -> Bool) throws -> TextGenerationResult {
        try generate(tokens: chatTokens(messages), parameters: p, onPiece: onPiece)
    }

    /// Generates after `ids`, streaming each complete piece of text to `onPiece` (returning
    /// false cancels). Stops on end-of-generation tokens, stop strings or `maxTokens`.
    public func generate(tokens ids: [Int32], parameters p: GenerationParameters,
                         onPiece: (String) -> Bool) throws -> TextGenerationResult {
        var chain = try p.sampling.makeChain(vocabularySize: config.vocabularySize)
        var stopper = try StopCondition(maxTokens: p.maxTokens, stopStrings: p.stop, endOfGeneration: tokenizer.endOfGeneration)
        guard !ids.isEmpty else { throw EngineError.emptyInput }
        guard ids.count < context else { throw EngineError.contextOverflow(tokens: ids.count + 1, context: context) }
        // Penalties look back over the prompt too, as llama.cpp's common sampler does.
        for t in ids.suffix(max(0, p.sampling.penaltyLastN)) { chain.accept(t) }
        var detok = StreamingDetokenizer(tokenizer: tokenizer)
        var text = ""
        var reason: TokenGeneration.Stop?
        var stats = try generate(prompt: ids, maxTokens: p.maxTokens, stopTokens: [],
                                 next: { logits, _ in chain.sample(UnsafeBufferPointer(logits)) },
                                 onToken: { id in
            let step = stopper.push(token: id, text: tokenizer.isEndOfGeneration(id) ? "" : detok.push(id))
            text += step.text
            if !step.text.isEmpty && !onPiece(step.text) { reason = .cancelled; return false }
            switch step.stop {
            case .endOfGeneration?: reason = .endOfSequence; return false
            case .stopString?: reason = .stopString; return false
            case .maxTokens?: reason = .maxTokens; return false
            case nil: return true
            }
        })
        if reason == nil || reason == .maxTokens || reason == .endOfSequence {
            let rest = stopper.finish() + detok.finish()
            if !rest.isEmpty { text += rest; _ = onPiece(rest) }
        }
        if let reason { stats.stop = reason }
        // The end-of-generation token is not part of the reply.
        if reason == .endOfSequence, let last = stats.tokens.last, tokenizer.isEndOfGeneration(last) { stats.tokens.removeLast() }
        return TextGenerationResult(text: text, stats: stats)
    }
}
