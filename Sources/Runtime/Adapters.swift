import Foundation
import LLM
import Prompts
import Tensor

/// Finding adapters by name and binding them to a loaded engine, for `generate`, `ask` and the rest.
public enum Adapters {
    /// Loads each `NAME[:SCALE]` (the spec's scale multiplies `scale`) and binds them to `engine`'s
    /// model; nil for none. `cache` keeps adapters already read, keyed by path.
    public static func set(_ specs: [(name: String, scale: Float)], engine: Engine, library: AdapterLibrary,
                           cache: inout [String: LoRAAdapter]) throws -> AdapterSet? {
        guard !specs.isEmpty else { return nil }
        var list: [(adapter: LoRAAdapter, scale: Float)] = []
        for spec in specs {
            let (name, specScale) = try AdapterLibrary.parseSpec(spec.name)
            let path = try library.locate(name)
            let adapter = try cache[path] ?? library.load(path)
            cache[path] = adapter
            list.append((adapter, spec.scale * specScale))
        }
        return try AdapterSet(model: engine.model, adapters: list)
    }
}

extension Runtime {
    /// Settles a pack's default adapter when the pack is loaded: kept when this machine has it
    /// and it was trained on this model (or, with a model server, when the server serves it),
    /// else cleared (the base model) with a note.
    /// Packs are shared data while adapters are trained per site and per base model, so a pack
    /// naming one must not make a fresh clone, or a run on another model, fail. An adapter named
    /// with --adapter (`requested`) is not softened (it overrides the default, and loads or the
    /// command fails).
    public func settlePackDefault(_ pack: inout PromptPack, requested: String?) {
        guard let name = pack.adapter, requested == nil else { return }
        if (try? configuration.llmServer()) != nil {
            // A server that cannot be reached is reported when the generator is made, not here.
            if let server = try? modelServer() { settlePackDefault(&pack, on: server) }
            return
        }
        let model = configuration.answeringModelName
        if model == "extractive" || model == "none" { pack.adapter = nil; return }
        let lib = adapterLibrary
        guard let path = try? lib.locate(name) else {
            note("note: pack '\(pack.name)' names adapter '\(name)', which is not in \(lib.directory.path)/ — using the base model (make it with 'strata adapt train --name \(name) …', or pass --adapter)\n")
            pack.adapter = nil
            return
        }
        // Our training writes a manifest naming the base model; another base means other shapes.
        let modelName = URL(fileURLWithPath: model).lastPathComponent
        if let base = AdapterManifest.read(besideAdapterAt: path)?.baseModel, base != modelName {
            note("note: pack '\(pack.name)' names adapter '\(name)', trained on \(base), not on \(modelName) — using the base model\n")
            pack.adapter = nil
        }
    }
}

/// The manifest `ADAPTERS/NAME.json` that `adapt train` writes beside `NAME.gguf`: the base model
/// and data it was trained on (with checksums), its settings and its losses. Every field is
/// optional when read, so a manifest written by an older build (or by hand) still reads.
public struct AdapterManifest: Codable, Sendable, Equatable {
    public struct DataFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) { self.path = path; self.sha256 = sha256 }
    }

    public var name: String?
    /// "gguf-lora": llama.cpp's LoRA GGUF.
    public var format: String?
    /// The base model's file name, and the SHA-256 of the file.
    public var baseModel: String?
    public var baseModelSHA256: String?
    public var architecture: String?
    public var targets: [String]?
    public var rank: Int?
    public var alpha: Double?
    /// "f16" or "f32": how the GGUF file stores the LoRA tensors (absent before F16 existed: f32).
    public var tensorType: String?
    public var data: [DataFile]?
    public var evalData: [DataFile]?
    public var seq: Int?
    public var batch: Int?
    public var learningRate: Double?
    public var warmupSteps: Int?
    public var seed: Int?
    public var steps: Int?
    public var tokensSeen: Int?
    public var trainSeconds: Double?
    public var tokensPerSecond: Double?
    /// Mean training loss over the last `finalTrainLossSteps` steps.
    public var finalTrainLoss: Double?
    public var finalTrainLossSteps: Int?
    /// The held-out loss of the base model (the adapter's B = 0) and of the trained adapter.
    public var baseHeldOutLoss: Double?
    public var baseHeldOutPerplexity: Double?
    public var heldOutLoss: Double?
    public var heldOutPerplexity: Double?
    public var heldOutSequences: Int?

    enum CodingKeys: String, CodingKey {
        case name, format, architecture, targets, rank, alpha, data, seq, batch, seed, steps
        case tensorType = "tensor_type"
        case baseModel = "base_model", baseModelSHA256 = "base_model_sha256", evalData = "eval_data"
        case learningRate = "learning_rate", warmupSteps = "warmup_steps", tokensSeen = "tokens_seen"
        case trainSeconds = "train_seconds", tokensPerSecond = "tokens_per_second"
        case finalTrainLoss = "final_train_loss", finalTrainLossSteps = "final_train_loss_steps"
        case baseHeldOutLoss = "base_held_out_loss", baseHeldOutPerplexity = "base_held_out_perplexity"
        case heldOutLoss = "held_out_loss", heldOutPerplexity = "held_out_perplexity", heldOutSequences = "held_out_sequences"
    }

    public init() {}

    /// The manifest's word for a tensor type ("f16", "f32"), as `--tensor-type` takes it.
    public static func name(of type: GGMLType) -> String { type.description.lowercased() }

    /// The manifest of the adapter `name` in `library`, when there is a readable one.
    public static func read(_ library: AdapterLibrary, _ name: String) -> AdapterManifest? {
        read(at: library.directory.appendingPathComponent(name + ".json").path)
    }

    /// The manifest beside an adapter file (`X.gguf` → `X.json`).
    public static func read(besideAdapterAt path: String) -> AdapterManifest? {
        read(at: URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json").path)
    }

    static func read(at path: String) -> AdapterManifest? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(AdapterManifest.self, from: data)
    }

    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(self).write(to: URL(fileURLWithPath: path))
    }
}
