import Foundation
import LLM
import Runtime

/// `strata eval perplexity`: llama-perplexity's measure on a text, to check a model or engine.
struct EvalPerplexityCommand: CLICommand {
    static let name = "eval perplexity"
    static let summary = "perplexity of the model on a text (llama.cpp's method)"
    static let usage = """
    Usage: strata eval perplexity [--model PATH] [--adapter NAME[:S]]... (--text FILE | --jsonl FILE) [--ctx 512] [--max-tokens N]

    Splits the tokenized text into non-overlapping windows of --ctx tokens and scores the
    second half of each, as llama-perplexity does, so figures compare with llama.cpp's.
    --jsonl reads one JSON object per line and uses its "text" field (records joined by a
    blank line). Prints per-chunk and final perplexity. --adapter measures the model with a
    LoRA adapter applied (e.g. one from 'strata adapt train').
    """
    static let options: [OptionSpec] = [
        .value("model", "PATH", "GGUF model (default: $STRATA_MODEL, else \(ModelDefaults.path))"),
        .value("text", "FILE", "a UTF-8 text file"),
        .value("jsonl", "FILE", "a JSON-lines file with a \"text\" field per line"),
        .value("ctx", "N", "window size in tokens (default 512)"),
        .value("max-tokens", "N", "use only the first N tokens of the text"),
        .value("threads", "T", "compute threads (default 2)"),
        .value("adapter", "NAME[:S]", "apply LoRA adapter NAME scaled by S (default 1; repeatable)"),
        adaptersOption,
    ]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard (args.value("text") == nil) != (args.value("jsonl") == nil) else {
            throw CLIError.usage("give exactly one of --text FILE or --jsonl FILE", command: name)
        }
        let text = try readText(args)
        let window = try args.int("ctx", default: 512)
        guard window >= 8, window % 2 == 0, window <= 8192 else {
            throw CLIError.usage("--ctx must be an even number between 8 and 8192 (got \(window))", command: name)
        }
        let maxTokens = try args.optionalInt("max-tokens")
        if let m = maxTokens, m < window { throw CLIError.usage("--max-tokens (\(m)) must be at least one window (--ctx \(window))", command: name) }
        let model = try args.runtime.configuration.engineModel()
        let threads = try args.int("threads", default: 2)
        guard (1...256).contains(threads) else { throw CLIError.usage("--threads must be between 1 and 256", command: name) }
        let engine = try args.runtime.engine(model: model, context: window, threads: threads, batchSize: window)
        guard engine.context == window else {
            throw CLIError.failed("--ctx \(window) exceeds the model's context of \(engine.config.contextLength) tokens — use a smaller --ctx")
        }
        var tokens = engine.perplexityTokens(text)
        if let m = maxTokens { tokens = Array(tokens.prefix(m)) }
        var cache: [String: LoRAAdapter] = [:]
        let adapters = try Adapters.set(args.all("adapter").map { ($0, 1) }, engine: engine,
                                        library: args.runtime.adapterLibrary, cache: &cache)
        let t0 = Date()
        let r = try engine.withAdapters(adapters) { try engine.perplexity(tokens: tokens, window: window) }
        var cumulative = 0.0
        for (i, nll) in r.chunkNLL.enumerated() {
            cumulative += nll
            print(String(format: "chunk %3d: ppl %.4f (cumulative %.4f)", i + 1, exp(nll), exp(cumulative / Double(i + 1))))
        }
        print(String(format: "perplexity: %.4f over %d chunks of %d tokens (%d scored) in %.1f s",
                     r.perplexity, r.chunks, window, r.scoredTokens, Date().timeIntervalSince(t0)))
        return 0
    }

    static func readText(_ args: ParsedArguments) throws -> String {
        let path = args.value("text") ?? args.value("jsonl")!
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError.failed("cannot read \(path) — check the path")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIError.failed("\(path) is not UTF-8 text — convert it (e.g. iconv -t UTF-8)")
        }
        guard args.value("jsonl") != nil else { return text }
        var records: [String] = []
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CLIError.failed("\(path) line \(n + 1) is not a JSON object — each line must be {\"text\": ...}")
            }
            guard let t = obj["text"] as? String else {
                throw CLIError.failed("\(path) line \(n + 1) has no string \"text\" field")
            }
            records.append(t)
        }
        guard !records.isEmpty else { throw CLIError.failed("\(path) has no records") }
        return records.joined(separator: "\n\n")
    }
}
