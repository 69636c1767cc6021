import Foundation
import Assistant
import LLM
import Remote
import Runtime

/// `strata generate`: runs the L1 model on a prompt and streams the reply to standard output.
struct GenerateCommand: CLICommand {
    static let name = "generate"
    static let summary = "continue a prompt (or answer it with --chat) with the local model or a model server"
    static let usage = """
    Usage: strata generate [--model PATH | --llm-url URL] [--adapter NAME[:SCALE]]... [sampling options] [--chat [--system TEXT]] "prompt"

    Streams the generated text to standard output as it is produced. With --chat the prompt is
    sent as a user message in the model's chat format. --temp 0 is greedy (deterministic).
    --verbose prints prompt and generation speed to standard error. --adapter applies a LoRA
    adapter from the adapter folder (or a path) to this run; repeat it to combine adapters.
    With a model server (--llm-url, $STRATA_LLM_URL) the prompt goes to its /completions (with
    --chat, /chat/completions), an adapter to the model it is served as, and a reply that breaks
    off is printed as far as it came, followed by an error (exit status 1).
    """
    static let options: [OptionSpec] = [
        .value("model", "PATH", "GGUF model (default: $STRATA_MODEL, else \(ModelDefaults.path))"),
        .value("temp", "T", "temperature, 0 = greedy (default 0.8)"),
        .value("top-k", "K", "keep the K most likely tokens, 0 = off (default 40)"),
        .value("top-p", "P", "nucleus: keep tokens up to probability mass P (default 0.95)"),
        .value("min-p", "P", "drop tokens below P × the best one's probability (default 0.05)"),
        .value("repeat-penalty", "R", "penalise the last 64 tokens, 1 = off (default 1.0)"),
        .value("seed", "S", "random seed (default 42)"),
        .value("max-tokens", short: "n", "N", "tokens to generate at most (default 256)"),
        .value("ctx", "C", "context window in tokens (default 4096, capped by the model's)"),
        .value("threads", "T", "compute threads (default 2)"),
        .value("stop", "TEXT", "stop before this text (repeatable)"),
        .flag("chat", "format the prompt as a chat turn"),
        .value("system", "TEXT", "system message for --chat"),
        .flag("verbose", "print token counts and tokens/s to standard error"),
        .value("adapter", "NAME[:S]", "apply LoRA adapter NAME scaled by S (default 1; repeatable)"),
        adaptersOption,
    ] + ServerOptions.llm

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else {
            throw CLIError.usage(args.positionals.isEmpty ? "give the prompt to continue" : "give the prompt as one argument (quote it)", command: name)
        }
        let prompt = args.positionals[0]
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw CLIError.failed("the prompt is empty — give some text to continue")
        }
        if args.value("system") != nil && !args.has("chat") {
            throw CLIError.usage("--system only applies with --chat", command: name)
        }
        let p = try ModelDefaults.parameters(args)
        let specs = try args.all("adapter").map { spec in
            do { return try AdapterLibrary.parseSpec(spec) } catch { throw CLIError.usage(error.localizedDescription, command: name) }
        }
        if let server = try args.runtime.modelServer() {
            return try runRemote(server, prompt: prompt, parameters: p, adapters: specs, args)
        }
        let engine = try ModelDefaults.engine(args)
        var cache: [String: LoRAAdapter] = [:]
        let adapters = try Adapters.set(specs, engine: engine, library: args.runtime.adapterLibrary, cache: &cache)
        if let adapters, args.has("verbose") { printErr("adapters: \(adapters.summary)") }
        let out: (String) -> Bool = { piece in writeOut(piece); return true }
        let result: TextGenerationResult = try engine.withAdapters(adapters) {
            if args.has("chat") {
                var messages: [ChatMessage] = []
                if let s = args.value("system") { messages.append(ChatMessage(.system, s)) }
                messages.append(ChatMessage(.user, prompt))
                return try engine.generate(messages: messages, parameters: p, onPiece: out)
            }
            return try engine.generate(prompt: prompt, parameters: p, onPiece: out)
        }
        writeOut("\n")
        if args.has("verbose") {
            let s = result.stats
            printErr(String(format: "prompt: %d tokens, %.1f tokens/s; generation: %d tokens, %.1f tokens/s; stop: %@",
                            s.promptTokens, s.promptTokensPerSecond, s.tokens.count, s.generationTokensPerSecond, s.stop.rawValue))
        }
        return 0
    }

    /// The same run on a model server. The text is streamed as it comes, like the engine's; if
    /// the stream breaks, what was printed is followed by an error saying it is incomplete, and
    /// the exit status is non-zero (answers — ask, chat, support, report — print nothing until
    /// the whole reply has come and passed the checks, so they never show half of one).
    static func runRemote(_ server: RemoteGenerator, prompt: String, parameters p: GenerationParameters,
                          adapters: [(name: String, scale: Float)], _ args: ParsedArguments) throws -> Int32 {
        var messages: [ChatMessage] = []
        if let s = args.value("system") { messages.append(ChatMessage(.system, s)) }
        messages.append(ChatMessage(.user, prompt))
        let s = p.sampling
        let request = GenerationRequest(messages: messages, maxTokens: p.maxTokens, temperature: Double(s.temperature),
                                        topK: s.topK, topP: Double(s.topP), minP: Double(s.minP), seed: s.seed, stop: p.stop,
                                        repeatPenalty: Double(s.repeatPenalty), adapters: adapters)
        var printed = false
        let out: (String) -> Bool = { piece in printed = true; writeOut(piece); return true }
        let r: GenerationResult
        do {
            r = args.has("chat") ? try server.generate(request, onPiece: out) : try server.complete(prompt, request, onPiece: out)
        } catch {
            if printed { writeOut("\n") }
            throw CLIError.failed((printed ? "the text above is incomplete: " : "") + error.localizedDescription)
        }
        writeOut("\n")
        if args.has("verbose") {
            printErr(String(format: "prompt: %d tokens; generation: %d tokens, %.1f tokens/s; stop: ", r.promptTokens, r.generatedTokens,
                            Double(r.generatedTokens) / max(r.generationSeconds, 1e-9))
                     + r.stopReason.rawValue + "; backend: \(server.backend), model \(server.model)")
        }
        return 0
    }
}

/// Model options shared by the commands that run the engine; the model itself is resolved by
/// the runtime (`RuntimeConfiguration`): --model, $STRATA_MODEL, the config file, the default.
enum ModelDefaults {
    /// The small, fast, English-only model: the default of `generate`, `eval perplexity` and
    /// `adapt train`, and what the tests run.
    static let path = RuntimeConfiguration.smallModel
    /// The model that answers (`ask`, `chat`, `support`, `report`, `eval kb`).
    static let answering = RuntimeConfiguration.answeringModel

    /// The model an answering command uses; `noModel` is the command's word for answering
    /// without one ("extractive", "none"), returned as is.
    static func answeringModel(_ args: ParsedArguments, noModel: (word: String, meaning: String)) throws -> String {
        try args.runtime.configuration.answeringModel(noModel: noModel)
    }

    static func engine(_ args: ParsedArguments) throws -> Engine {
        let model = try args.runtime.configuration.engineModel(missingHint: "pass --model PATH to a .gguf file (the default is fetched by the set-up script)")
        let ctx = try args.int("ctx", default: 4096)
        guard ctx >= 16 else { throw CLIError.usage("--ctx must be at least 16 (got \(ctx))", command: args.command) }
        let threads = try args.int("threads", default: 2)
        guard (1...256).contains(threads) else { throw CLIError.usage("--threads must be between 1 and 256 (got \(threads))", command: args.command) }
        return try args.runtime.engine(model: model, context: ctx, threads: threads)
    }

    static func parameters(_ args: ParsedArguments) throws -> GenerationParameters {
        var p = GenerationParameters()
        var s = p.sampling
        s.temperature = Float(try args.double("temp", default: Double(s.temperature)))
        s.topK = try args.int("top-k", default: s.topK)
        s.topP = Float(try args.double("top-p", default: Double(s.topP)))
        s.minP = Float(try args.double("min-p", default: Double(s.minP)))
        s.repeatPenalty = Float(try args.double("repeat-penalty", default: Double(s.repeatPenalty)))
        let seed = try args.int("seed", default: 42)
        guard seed >= 0 else { throw CLIError.usage("--seed must be ≥ 0 (got \(seed))", command: args.command) }
        s.seed = UInt64(seed)
        p.sampling = s
        p.maxTokens = try args.int("max-tokens", default: p.maxTokens)
        guard p.maxTokens > 0 else { throw CLIError.usage("-n must be at least 1 (got \(p.maxTokens))", command: args.command) }
        p.stop = args.all("stop")
        // Build the chain once here so a bad value is reported before the model loads.
        do { _ = try s.makeChain() } catch { throw CLIError.usage(error.localizedDescription, command: args.command) }
        return p
    }
}
