import Foundation
import Assistant
import Tensor
import LLM

/// The local engine seen through the `TextGenerator` protocol the scenarios are written against.
///
/// The engine runs one generation at a time (it reuses its KV cache and buffers), so calls are
/// serialised here; a server wanting parallel answers loads one generator per worker.
public final class LLMGenerator: TextGenerator, @unchecked Sendable {
    public let engine: Engine
    public let modelID: String
    public let languages: [String]?
    /// Where adapters named in requests are found; each is read once and kept.
    public let adapters: AdapterLibrary
    private var loaded: [String: LoRAAdapter] = [:]
    private let lock = NSLock()

    public init(engine: Engine, adapters: AdapterLibrary) {
        self.engine = engine
        self.adapters = adapters
        let name = URL(fileURLWithPath: engine.path).lastPathComponent
        modelID = name + "@" + LLMGenerator.hashPrefix(path: engine.path)
        languages = engine.file.gguf.stringArray("general.languages").flatMap { $0.isEmpty ? nil : $0.map { $0.lowercased() } }
    }

    public func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        guard !request.messages.isEmpty else { throw RuntimeError.failed("nothing to answer — the request has no messages") }
        var p = GenerationParameters()
        p.maxTokens = request.maxTokens
        p.sampling.temperature = Float(request.temperature)
        p.sampling.topK = request.topK
        p.sampling.topP = Float(request.topP)
        p.sampling.minP = Float(request.minP)
        p.sampling.seed = request.seed
        p.sampling.repeatPenalty = Float(request.repeatPenalty)
        p.stop = request.stop
        lock.lock(); defer { lock.unlock() }
        // The adapters apply to this request only: the same loaded model serves the next one bare.
        let set = try Adapters.set(request.adapters, engine: engine, library: adapters, cache: &loaded)
        let r: TextGenerationResult
        do {
            r = try engine.withAdapters(set) { try engine.generate(messages: request.messages, parameters: p, onPiece: onPiece) }
        } catch EngineError.contextOverflow(let n, let c) {
            throw GenerationError.contextExceeded(needed: n, context: c)   // a scenario may retry with less
        }
        return GenerationResult(text: r.text, promptTokens: r.stats.promptTokens, generatedTokens: r.stats.tokens.count,
                                promptSeconds: r.stats.promptSeconds, generationSeconds: r.stats.generationSeconds,
                                stopReason: r.stats.stop)
    }

    /// First 12 hex digits of an FNV-1a hash over the file's size and first and last MiB: cheap
    /// on a 1 GB model, and different for any two model files we ship.
    public static func hashPrefix(path: String) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "unknown" }
        defer { try? h.close() }
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ d: Data) { for b in d { hash = (hash ^ UInt64(b)) &* 0x100_0000_01b3 } }
        let size = (try? h.seekToEnd()) ?? 0
        mix(Data(String(size).utf8))
        try? h.seek(toOffset: 0)
        mix((try? h.read(upToCount: 1 << 20)) ?? Data())
        if size > 1 << 20 { try? h.seek(toOffset: size - (1 << 20)); mix((try? h.read(upToCount: 1 << 20)) ?? Data()) }
        return String(String(hash, radix: 16).suffix(12))
    }
}
