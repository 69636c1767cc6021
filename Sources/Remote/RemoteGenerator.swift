import Foundation
import Assistant

/// A model served by an OpenAI-compatible server (vLLM, llama.cpp's server, llama-cpp-python,
/// TGI, Ollama) seen through the `TextGenerator` protocol the scenarios are written against.
///
/// Unlike the in-process engine it holds no lock: the server batches concurrent requests, which
/// is what `eval kb --parallel` measures.
public final class RemoteGenerator: TextGenerator, @unchecked Sendable {
    public let client: OpenAIClient
    /// The served model name requests go to when no adapter is asked for.
    public let model: String
    /// Adapter name → the model name the server serves it under (vLLM's `--lora-modules NAME=…`,
    /// llama-cpp-python's `model_alias`). An adapter not listed is asked for under its own name.
    public let adapterModels: [String: String]

    /// Model names already found in the server's list (checked once per name and process).
    private var verified: Set<String> = []
    private let lock = NSLock()

    public var modelID: String { model }
    public var backend: String { client.endpoint.display }

    public init(client: OpenAIClient, model: String, adapterModels: [String: String] = [:]) {
        self.client = client; self.model = model; self.adapterModels = adapterModels
    }

    /// The model name a request with these adapters goes to. A server applies an adapter at the
    /// scale it was loaded with, and one adapter per model name, so those are all we can honour.
    public func servedModel(for adapters: [(name: String, scale: Float)]) throws -> String {
        guard let first = adapters.first else { return model }
        guard adapters.count == 1 else {
            throw RemoteError.configuration("a model server applies one adapter per model name; asked for \(adapters.map(\.name).joined(separator: " + ")) — serve the combination under one name and pass that")
        }
        guard first.scale == 1 else {
            throw RemoteError.configuration("a served adapter runs at the scale the server loaded it with; drop ':\(first.scale)' from --adapter \(first.name), or serve it scaled under another name")
        }
        return adapterModels[first.name] ?? first.name
    }

    public func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        guard !request.messages.isEmpty else {
            throw RemoteError.configuration("nothing to answer — the request has no messages")
        }
        var body = try parameters(request)
        body["messages"] = request.messages.map { ["role": $0.role.rawValue, "content": $0.content] }
        return result(try client.streamChat(body, onPiece: onPiece))
    }

    /// Continues `prompt` as plain text (`/completions`, no chat template): `strata generate`
    /// without --chat. `request.messages` is ignored.
    public func complete(_ prompt: String, _ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        var body = try parameters(request)
        body["prompt"] = prompt
        return result(try client.streamChat(body, path: "completions", onPiece: onPiece))
    }

    /// Checks once that the server lists `name`. Some servers answer a request for an unknown
    /// model with their default one (llama-cpp-python does), which would put another model's
    /// answer under this name in the audit log. A server without a model list is taken at its word.
    private func verify(_ name: String) throws {
        if lock.withLock({ verified.contains(name) }) { return }
        let served: [String]
        do { served = try client.models() } catch let e as RemoteError {
            switch e {
            case .unreachable, .unauthorized, .timedOut, .overloaded: throw e   // the request itself would meet it
            default: return
            }
        }
        guard served.isEmpty || served.contains(name) else {
            throw RemoteError.unknownModel(name: name, url: client.endpoint.display, served: served)
        }
        _ = lock.withLock { verified.insert(name) }
    }

    private func parameters(_ request: GenerationRequest) throws -> [String: Any] {
        let model = try servedModel(for: request.adapters)
        try verify(model)
        var body: [String: Any] = [
            "model": model,
            "max_tokens": request.maxTokens,
            "temperature": request.temperature,
            "top_p": request.topP,
            "min_p": request.minP,
            "seed": Int(truncatingIfNeeded: request.seed & 0x7fff_ffff),
            // Not in OpenAI's API but read by llama.cpp-based servers and vLLM; sent so that the
            // server decodes as the engine does (llama-cpp-python's default repeat penalty is 1.1).
            "top_k": request.topK,
            "repeat_penalty": request.repeatPenalty,
        ]
        if !request.stop.isEmpty { body["stop"] = request.stop }
        return body
    }

    private func result(_ out: OpenAIClient.ChatOutcome) -> GenerationResult {
        let reason: GenerationResult.StopReason = out.cancelled ? .cancelled : (out.finishReason == "length" ? .maxTokens : .endOfSequence)
        // Without a usage report (llama-cpp-python sends none while streaming) the prompt count is
        // unknown (0) and the pieces are counted instead: llama.cpp-based servers send one token
        // per piece, merging only the bytes of one character.
        return GenerationResult(text: out.text, promptTokens: out.promptTokens ?? 0,
                                generatedTokens: out.completionTokens ?? out.pieces,
                                promptSeconds: out.firstPieceSeconds,
                                generationSeconds: max(0, out.totalSeconds - out.firstPieceSeconds), stopReason: reason)
    }
}
