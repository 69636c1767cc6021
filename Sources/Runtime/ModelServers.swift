import Foundation
import Assistant
import Knowledge
import Prompts
import Remote

/// Model and encoder servers (OpenAI-compatible: vLLM, llama.cpp's server, llama-cpp-python,
/// TGI, Ollama) in place of the in-process engine and encoder.
///
/// The configuration decides which runs: a server answers when its URL was given at least as
/// directly as a model file (a flag beats the environment, which beats the config file) and, at
/// one level, the server wins: a config file may name both, the model file then being what
/// `eval perplexity` and `adapt train` run. `--llm-url` with `--model` is a usage error.
extension RuntimeConfiguration {
    /// A server as configured: where it is, which model to ask for, and how patiently.
    public struct ServerSettings: Sendable, Equatable {
        /// The API base as given (parsed by `RemoteEndpoint.parse` when used).
        public var url: String
        /// The model name to ask for; nil: the server's only one.
        public var model: String?
        public var source: Source
        /// From the environment only ($STRATA_LLM_API_KEY): a key on the command line would be in
        /// every `ps` listing and shell history, one in a config file in every copy of it. It is
        /// sent to the server and written nowhere (the audit log records the URL without user-info).
        var apiKey: String?
        /// Seconds without a byte from the server before a request fails ($STRATA_LLM_TIMEOUT).
        public var timeout: Double
        /// Further attempts after a 429, a 5xx or a refused connection ($STRATA_LLM_RETRIES).
        public var retries: Int
        /// Adapter name → the model name the server serves it under ($STRATA_LLM_ADAPTERS).
        public var adapterModels: [String: String]

        public var hasAPIKey: Bool { apiKey?.isEmpty == false }
    }

    /// The model server that answers instead of the in-process engine, or nil.
    public func llmServer() throws -> ServerSettings? {
        guard let url = llmURL, llmURLSource <= modelSource else { return nil }
        return try server(url, model: llmModel, source: llmURLSource, names: ("--llm-url", "STRATA_LLM_URL", "llm_url"),
                          key: serverEnvironment["STRATA_LLM_API_KEY"], adapters: try adapterModels())
    }

    /// The encoder server that encodes instead of the in-process encoder, or nil.
    public func embedderServer() throws -> ServerSettings? {
        guard let url = embedderURL, embedderURLSource <= embedderSource else { return nil }
        return try server(url, model: embedderModel, source: embedderURLSource,
                          names: ("--embedder-url", "STRATA_EMBEDDER_URL", "embedder_url"),
                          key: serverEnvironment["STRATA_EMBEDDER_API_KEY"] ?? serverEnvironment["STRATA_LLM_API_KEY"], adapters: [:])
    }

    private func server(_ url: String, model: String?, source: Source, names: (flag: String, variable: String, key: String),
                        key: String?, adapters: [String: String]) throws -> ServerSettings {
        guard !url.trimmingCharacters(in: .whitespaces).isEmpty else {
            let name = switch source {
            case .flag: names.flag
            case .file: "the config file's \(names.key)"
            case .environment, .defaultValue: "$\(names.variable)"
            }
            throw RuntimeError.failed("\(name) is set but empty — unset it to run in-process, or set it to the server's API base (http://HOST:PORT/v1)")
        }
        return ServerSettings(url: url, model: model, source: source, apiKey: key,
                              timeout: try number("STRATA_LLM_TIMEOUT", default: 120, range: 0.1...86_400),
                              retries: Int(try number("STRATA_LLM_RETRIES", default: 2, range: 0...10)), adapterModels: adapters)
    }

    private func number(_ name: String, default fallback: Double, range: ClosedRange<Double>) throws -> Double {
        guard let raw = serverEnvironment[name] else { return fallback }
        guard let v = Double(raw), range.contains(v) else {
            throw RuntimeError.failed("$\(name) must be a number from \(range.lowerBound) to \(range.upperBound), got '\(raw)'")
        }
        return v
    }

    /// `$STRATA_LLM_ADAPTERS="finance-en=finance-lora,legal=legal-v2"`: the model name each adapter
    /// is served under, where it differs from the adapter's own name.
    func adapterModels() throws -> [String: String] {
        guard let raw = serverEnvironment["STRATA_LLM_ADAPTERS"], !raw.isEmpty else { return [:] }
        var out: [String: String] = [:]
        for pair in raw.split(separator: ",") {
            let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw RuntimeError.failed("$STRATA_LLM_ADAPTERS takes ADAPTER=SERVED_MODEL pairs separated by commas, got '\(pair)'")
            }
            out[parts[0]] = parts[1]
        }
        return out
    }
}

extension RuntimeConfiguration.ServerSettings {
    /// The client's endpoint for these settings.
    func endpoint() throws -> RemoteEndpoint {
        RemoteEndpoint(baseURL: try RemoteEndpoint.parse(url), apiKey: apiKey, timeout: timeout, retries: retries)
    }
}

extension Runtime {
    /// The configured model server as a `TextGenerator` (nil: the in-process engine answers),
    /// made once per run. `generator(model:…)` returns it, so every generating command uses it.
    public func modelServer() throws -> RemoteGenerator? {
        guard let s = try configuration.llmServer() else { return nil }
        return try cached("model server") {
            let client = OpenAIClient(endpoint: try s.endpoint())
            let model = try Self.servedModel(s.model, client: client, option: "--llm-model", variable: "STRATA_LLM_MODEL")
            return RemoteGenerator(client: client, model: model, adapterModels: s.adapterModels)
        }
    }

    /// The configured encoder server as a `TextEmbedder` (nil: the in-process encoder), made once
    /// per run; making it asks the server for one vector, to learn its size.
    public func encoderServer() throws -> RemoteEmbedder? {
        guard let s = try configuration.embedderServer() else { return nil }
        return try cached("encoder server") {
            let client = OpenAIClient(endpoint: try s.endpoint())
            let model = try Self.servedModel(s.model, client: client, option: "--embedder-model", variable: "STRATA_EMBEDDER_MODEL")
            do { return try RemoteEmbedder(client: client, model: model) } catch {
                throw RuntimeError.failed("cannot use the encoder '\(model)' at \(client.endpoint.display): \(error.localizedDescription)")
            }
        }
    }

    /// The named model, or the server's only one; a server with several needs a name.
    static func servedModel(_ given: String?, client: OpenAIClient, option: String, variable: String) throws -> String {
        if let given { return given }
        let served = try client.models()
        guard served.count == 1 else {
            throw RuntimeError.failed(served.isEmpty
                ? "the server at \(client.endpoint.display) lists no model — pass \(option) NAME (or set $\(variable))"
                : "the server at \(client.endpoint.display) serves \(served.joined(separator: ", ")) — pick one with \(option) NAME (or $\(variable))")
        }
        return served[0]
    }

    /// A pack's default adapter on a server: kept when the server serves its model name (or
    /// cannot say: the request then meets the problem and names it), else the base model with a
    /// note, as `settlePackDefault` does for an adapter missing from the local folder.
    func settlePackDefault(_ pack: inout PromptPack, on server: RemoteGenerator) {
        guard let name = pack.adapter, let served = try? server.client.models() else { return }
        let model = (try? server.servedModel(for: [(name, 1)])) ?? name
        guard !served.contains(model) else { return }
        note("note: pack '\(pack.name)' names adapter '\(name)', which the server at \(server.backend) does not serve as model '\(model)' — using \(server.model) (serve it under that name, or map it in $STRATA_LLM_ADAPTERS)\n")
        pack.adapter = nil
    }

    /// Refuses to add `encoder`'s vectors to an index holding another encoder's: one index, one
    /// vector space (a cosine between two models' vectors means nothing). The fix is reindex.
    public func refuseMixing(_ store: KnowledgeStore, _ encoder: any TextEmbedder) throws {
        let others = try store.embeddingModels().filter { $0 != encoder.modelID }
        guard !others.isEmpty else { return }
        throw RuntimeError.failed("the index holds vectors made by \(others.joined(separator: ", ")), and this encoder is \(encoder.modelID): one index takes one encoder's vectors — run 'strata reindex --embeddings --replace' with this encoder to re-encode every chunk, or pass the encoder that made them")
    }
}
