import Foundation
import Assistant
import Knowledge
import Remote

/// The one place where a model server replaces the in-process engine or encoder.
///
/// `generator(_:)` and `embedder(_:)` return nil when no server is named, and every command
/// that generates or encodes asks them first; everything else (the scenarios, the audit log,
/// retrieval) is the same for both backends.
///
/// Command line beats environment: `--llm-url` with `--model` is a usage error, and an explicit
/// `--model` (a GGUF file, `extractive`, `none`) beats `$STRATA_LLM_URL`. The API key is read from
/// `$STRATA_LLM_API_KEY` only: a key on the command line would be in every `ps` listing and shell
/// history. It is sent to the server and never written anywhere else (the audit log records the
/// URL without user-info).
enum RemoteWiring {
    static let llmOptions: [OptionSpec] = [
        .value("llm-url", "URL", "answer with an OpenAI-compatible server at this API base, e.g. http://127.0.0.1:8080/v1 (default: $STRATA_LLM_URL; key: $STRATA_LLM_API_KEY)"),
        .value("llm-model", "NAME", "the model name to ask that server for (default: $STRATA_LLM_MODEL, else the one it serves)"),
    ]
    static let embedderOptions: [OptionSpec] = [
        .value("embedder-url", "URL", "encode with an OpenAI-compatible /v1/embeddings server (default: $STRATA_EMBEDDER_URL)"),
        .value("embedder-model", "NAME", "the encoder's name on that server (default: $STRATA_EMBEDDER_MODEL, else the one it serves)"),
    ]

    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The model server's URL text, or nil for the in-process engine.
    static func llmURL(_ args: ParsedArguments) throws -> String? {
        if let u = args.value("llm-url") {
            if args.value("model") != nil {
                throw CLIError.usage("--llm-url and --model both name a model: pass one (--model is a local GGUF file)", command: args.command)
            }
            return u
        }
        if args.value("model") != nil { return nil }
        guard let u = environment["STRATA_LLM_URL"] else { return nil }
        guard !u.isEmpty else { throw CLIError.failed("$STRATA_LLM_URL is set but empty — unset it to run the model in-process, or set it to the server's API base (http://HOST:PORT/v1)") }
        return u
    }

    static func isRemote(_ args: ParsedArguments) -> Bool { ((try? llmURL(args)) ?? nil) != nil }

    /// The endpoint for `url`, with the key, time-out and retries from the environment.
    static func endpoint(_ url: String, keyVariable: String) throws -> RemoteEndpoint {
        let base: URL
        do { base = try RemoteEndpoint.parse(url) } catch { throw CLIError.failed(error.localizedDescription) }
        let timeout = try number("STRATA_LLM_TIMEOUT", default: 120, range: 0.1...86_400)
        let retries = Int(try number("STRATA_LLM_RETRIES", default: 2, range: 0...10))
        let key = environment[keyVariable] ?? environment["STRATA_LLM_API_KEY"]
        return RemoteEndpoint(baseURL: base, apiKey: key, timeout: timeout, retries: retries)
    }

    private static func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
        guard let raw = environment[name] else { return fallback }
        guard let v = Double(raw), range.contains(v) else {
            throw CLIError.failed("$\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(raw)'")
        }
        return v
    }

    /// The model server behind --llm-url / $STRATA_LLM_URL, or nil.
    static func generator(_ args: ParsedArguments) throws -> RemoteGenerator? {
        guard let url = try llmURL(args) else { return nil }
        let client = OpenAIClient(endpoint: try endpoint(url, keyVariable: "STRATA_LLM_API_KEY"))
        let model = try modelName(args.value("llm-model") ?? environment["STRATA_LLM_MODEL"], client: client, flag: "--llm-model")
        return RemoteGenerator(client: client, model: model, adapterModels: try adapterModels())
    }

    /// `$STRATA_LLM_ADAPTERS="finance-en=finance-lora,legal=legal-v2"`: the model name each adapter
    /// is served under, where it differs from the adapter's own name.
    static func adapterModels() throws -> [String: String] {
        guard let raw = environment["STRATA_LLM_ADAPTERS"], !raw.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in raw.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw CLIError.failed("$STRATA_LLM_ADAPTERS takes ADAPTER=SERVED_MODEL pairs separated by commas, got '\(pair)'")
            }
            out[parts[0]] = parts[1]
        }
        return out
    }

    /// The named model, or the server's only one; a server with several needs a name.
    static func modelName(_ given: String?, client: OpenAIClient, flag: String) throws -> String {
        if let given, !given.isEmpty { return given }
        let served: [String]
        do { served = try client.models() } catch { throw CLIError.failed(error.localizedDescription) }
        guard served.count == 1 else {
            throw CLIError.failed(served.isEmpty
                ? "the server at \(client.endpoint.display) lists no models — pass \(flag) NAME"
                : "the server at \(client.endpoint.display) serves \(served.joined(separator: ", ")) — pick one with \(flag) NAME")
        }
        return served[0]
    }

    /// A pack's default adapter on a server: kept when the server serves its model name, else the
    /// base model with a note (as a pack's adapter missing locally is). Mirrors
    /// `AdapterWiring.settlePackDefault`, which checks the adapter folder instead.
    static func settlePackAdapter(_ name: String, pack: String, args: ParsedArguments) -> Bool {
        guard let g = try? generator(args), let served = try? g.client.models() else { return true }
        let model = (try? g.servedModel(for: [(name, 1)])) ?? name
        if served.contains(model) { return true }
        writeErr("note: pack '\(pack)' names adapter '\(name)', which the server at \(g.backend) does not serve as model '\(model)' — using \(g.model) (serve it under that name, or map it in $STRATA_LLM_ADAPTERS)\n")
        return false
    }

    /// The encoder server behind --embedder-url / $STRATA_EMBEDDER_URL, or nil.
    static func embedder(_ args: ParsedArguments) throws -> RemoteEmbedder? {
        var url = args.value("embedder-url")
        if url != nil, args.value("embedder") != nil {
            throw CLIError.usage("--embedder-url and --embedder both name an encoder: pass one", command: args.command)
        }
        if url == nil, args.value("embedder") == nil { url = environment["STRATA_EMBEDDER_URL"].flatMap { $0.isEmpty ? nil : $0 } }
        guard let url else { return nil }
        let client = OpenAIClient(endpoint: try endpoint(url, keyVariable: "STRATA_EMBEDDER_API_KEY"))
        let model = try modelName(args.value("embedder-model") ?? environment["STRATA_EMBEDDER_MODEL"], client: client, flag: "--embedder-model")
        do { return try RemoteEmbedder(client: client, model: model) } catch {
            throw CLIError.failed("cannot use the encoder '\(model)' at \(client.endpoint.display): \(error.localizedDescription)")
        }
    }
}
