import Foundation

/// The result of a perplexity run, with the per-chunk figures llama-perplexity prints.
public struct PerplexityReport: Sendable {
    public var window: Int
    public var chunks: Int
    public var scoredTokens: Int
    /// Mean negative log-likelihood (nats) per chunk.
    public var chunkNLL: [Double]
    public var meanNLL: Double { chunkNLL.isEmpty ? .nan : chunkNLL.reduce(0, +) / Double(chunkNLL.count) }
    public var perplexity: Double { exp(meanNLL) }
}

extension Engine {
    /// Tokenizes a text the way llama-perplexity does: one trailing newline stripped, BOS iff
    /// the model asks for it, special-token text left as plain text.
    public func perplexityTokens(_ text: String) -> [Int32] {
        var t = text
        if t.hasSuffix("\n") { t.removeLast() }
        return tokenizer.encode(t, addSpecial: true, parseSpecial: false)
    }

    /// llama-perplexity's method: floor(n / window) non-overlapping chunks (the rest dropped),
    /// a fresh KV cache per chunk, the first token replaced by BOS when the model adds one, and
    /// only the second half scored (logits at window/2 ..< window-1 predict the next token).
    public func perplexity(tokens: [Int32], window: Int, maxChunks: Int? = nil) throws -> PerplexityReport {
        guard window >= 8, window % 2 == 0 else {
            throw EngineError.invalidParameter("the perplexity window must be an even number ≥ 8 (got \(window)) — pass e.g. --ctx 512")
        }
        guard window <= context, window <= batchSize else {
            throw EngineError.invalidParameter("the perplexity window \(window) exceeds the engine's context/batch (\(min(context, batchSize))) — load the engine with a larger context")
        }
        var chunks = tokens.count / window
        if let m = maxChunks { chunks = min(chunks, m) }
        guard chunks > 0 else {
            throw EngineError.invalidParameter("the text has \(tokens.count) tokens, fewer than one window of \(window) — give a longer text or a smaller --ctx")
        }
        let s = sequence(), vocab = config.vocabularySize, first = window / 2
        var report = PerplexityReport(window: window, chunks: chunks, scoredTokens: 0, chunkNLL: [])
        for c in 0..<chunks {
            var chunk = Array(tokens[c * window..<(c + 1) * window])
            if tokenizer.addBOS, let bos = tokenizer.bos { chunk[0] = bos }
            s.reset()
            let logits = try evaluate(chunk, state: s, logitsFrom: first)   // (window - first, vocab)
            var nll = 0.0
            for j in first..<window - 1 {
                let row = logits + (j - first) * vocab
                var m = -Float.infinity
                for i in 0..<vocab { m = max(m, row[i]) }
                var sum = 0.0
                for i in 0..<vocab { sum += Double(expf(row[i] - m)) }
                nll += log(sum) + Double(m) - Double(row[Int(chunk[j + 1])])
            }
            report.chunkNLL.append(nll / Double(window - 1 - first))
            report.scoredTokens += window - 1 - first
        }
        return report
    }
}
