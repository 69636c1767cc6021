import Foundation
import GGUF
import Tensor

/// One low-rank update ΔW = B·A of a base weight W (outDim × inDim), stored row-major in float.
public struct LoRAPair: Sendable {
    /// The base tensor it updates, in llama.cpp naming: "blk.3.attn_q.weight".
    public let tensor: String
    public let layer: Int
    public let projection: Projection
    public let rank: Int
    public let inDim: Int
    public let outDim: Int
    public var a: [Float]          // (rank, inDim)
    public var b: [Float]          // (outDim, rank)
    /// This pair's alpha when it differs from the adapter's (PEFT `alpha_pattern`).
    public var alpha: Float?

    public init(tensor: String, layer: Int, projection: Projection, rank: Int, inDim: Int, outDim: Int,
                a: [Float], b: [Float], alpha: Float? = nil) {
        self.tensor = tensor; self.layer = layer; self.projection = projection
        self.rank = rank; self.inDim = inDim; self.outDim = outDim; self.a = a; self.b = b; self.alpha = alpha
    }
}

/// A LoRA adapter read from disk, independent of any loaded model: the lifecycle is
/// load (this type) → bind to a model (`AdapterSet`, which checks every shape) → apply per request.
public final class LoRAAdapter: @unchecked Sendable {
    public enum Format: String, Sendable { case gguf, peft }

    public let name: String
    public let path: String
    public let format: Format
    /// nil when the file has none: the update is then applied with scale 1, as llama.cpp does.
    public let alpha: Float?
    /// rsLoRA scales by alpha/√r instead of alpha/r.
    public let rsLoRA: Bool
    /// `general.architecture` of a GGUF adapter (PEFT folders do not record it).
    public let architecture: String?
    /// The base model it was trained on, as recorded by the exporter (informational).
    public let baseModel: String?
    /// PEFT weights keep Hugging Face's row order; a llama GGUF has its Q/K rows permuted for
    /// RoPE on adjacent pairs, so binding to a llama model permutes the Q/K B matrices too.
    public let huggingFaceRowOrder: Bool
    /// Sorted by layer, then projection.
    public let pairs: [LoRAPair]

    public init(name: String, path: String, format: Format, alpha: Float?, rsLoRA: Bool, architecture: String?,
                baseModel: String?, huggingFaceRowOrder: Bool, pairs: [LoRAPair]) {
        self.name = name; self.path = path; self.format = format; self.alpha = alpha; self.rsLoRA = rsLoRA
        self.architecture = architecture; self.baseModel = baseModel; self.huggingFaceRowOrder = huggingFaceRowOrder
        self.pairs = pairs.sorted { ($0.layer, Projection.allCases.firstIndex(of: $0.projection)!) < ($1.layer, Projection.allCases.firstIndex(of: $1.projection)!) }
    }

    /// s in y += s·B·(A·x), before the user's scale: alpha/r (alpha/√r for rsLoRA), 1 without alpha.
    public func scale(of pair: LoRAPair) -> Float {
        guard let alpha = pair.alpha ?? alpha, alpha != 0 else { return 1 }
        return rsLoRA ? alpha / Float(pair.rank).squareRoot() : alpha / Float(pair.rank)
    }

    /// The distinct ranks (usually one).
    public var ranks: [Int] { Array(Set(pairs.map(\.rank))).sorted() }
    /// The projections it updates, in llama.cpp naming ("attn_q", "ffn_down").
    public var targets: [String] {
        Projection.allCases.filter { p in pairs.contains { $0.projection == p } }.map(LoRANames.ggufName)
    }
    public var layers: [Int] { Array(Set(pairs.map(\.layer))).sorted() }
    public var parameterCount: Int { pairs.reduce(0) { $0 + $1.a.count + $1.b.count } }

    /// Reads a llama.cpp LoRA `.gguf` file or a PEFT folder, telling them apart by what is on disk.
    public static func load(path: String, name: String? = nil) throws -> LoRAAdapter {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
            throw AdapterError.notFound(name: name ?? path, searched: [path])
        }
        let url = URL(fileURLWithPath: path)
        if isDir.boolValue {
            return try PEFTLoader.load(folder: path, name: name ?? url.lastPathComponent)
        }
        if url.lastPathComponent == "adapter_config.json" || url.pathExtension == "safetensors" {
            let folder = url.deletingLastPathComponent()
            return try PEFTLoader.load(folder: folder.path, name: name ?? folder.lastPathComponent)
        }
        return try loadGGUF(path: path, name: name ?? url.deletingPathExtension().lastPathComponent)
    }

    /// llama.cpp's format (`convert_lora_to_gguf.py`): `general.type` = adapter, `adapter.type` = lora,
    /// `adapter.lora.alpha`, and per base tensor `<name>.lora_a` with ne [n_in, r] and
    /// `<name>.lora_b` with ne [r, n_out] — i.e. row-major A (r × in) and B (out × r), as PEFT.
    static func loadGGUF(path: String, name: String) throws -> LoRAAdapter {
        let file: GGUFFile
        do { file = try GGUFFile(path: path) } catch {
            throw AdapterError.unrecognised(path: path, detail: error.localizedDescription)
        }
        guard let type = file.string("general.type"), type == "adapter" else {
            throw AdapterError.notAnAdapter(path: path, detail: "general.type is \(file.string("general.type").map { "'\($0)'" } ?? "absent"), not 'adapter'")
        }
        guard let kind = file.string("adapter.type"), kind == "lora" else {
            throw AdapterError.notAnAdapter(path: path, detail: "adapter.type is \(file.string("adapter.type").map { "'\($0)'" } ?? "absent"), not 'lora' (control vectors are not LoRA adapters)")
        }
        var halves: [String: (a: GGUFTensorInfo?, b: GGUFTensorInfo?)] = [:]
        for t in file.tensors {
            if t.name.hasSuffix(".lora_a") { halves[String(t.name.dropLast(7)), default: (nil, nil)].a = t }
            else if t.name.hasSuffix(".lora_b") { halves[String(t.name.dropLast(7)), default: (nil, nil)].b = t }
            else { throw AdapterError.unknownTensor(adapter: name, tensor: t.name, hint: "LoRA GGUF tensors end in .lora_a or .lora_b") }
        }
        var pairs: [LoRAPair] = []
        for (base, h) in halves.sorted(by: { $0.key < $1.key }) {
            guard let a = h.a else { throw AdapterError.unpaired(adapter: name, tensor: base + ".lora_b", missing: base + ".lora_a") }
            guard let b = h.b else { throw AdapterError.unpaired(adapter: name, tensor: base + ".lora_a", missing: base + ".lora_b") }
            guard let (layer, projection) = LoRANames.parse(base) else {
                throw AdapterError.unknownTensor(adapter: name, tensor: base, hint: "only blk.N.attn_q/k/v/output and ffn_gate/up/down are adapted at run time (not embeddings or the output head)")
            }
            guard a.shape.count == 2, b.shape.count == 2 else {
                throw AdapterError.badRank(adapter: name, tensor: base, detail: "lora_a \(a.shape) and lora_b \(b.shape) must be 2-D")
            }
            let rank = a.shape[1]
            guard rank > 0 else { throw AdapterError.badRank(adapter: name, tensor: base, detail: "rank 0") }
            guard b.shape[0] == rank else {
                throw AdapterError.badRank(adapter: name, tensor: base, detail: "lora_a is [\(a.shape[0]), \(rank)] but lora_b is \(b.shape): the ranks differ (lora_a must be stored transposed, as llama.cpp's converter writes it)")
            }
            pairs.append(LoRAPair(tensor: base, layer: layer, projection: projection, rank: rank, inDim: a.shape[0], outDim: b.shape[1],
                                  a: try floats(file, a, adapter: name), b: try floats(file, b, adapter: name)))
        }
        guard !pairs.isEmpty else { throw AdapterError.notAnAdapter(path: path, detail: "it holds no lora_a/lora_b tensors") }
        let baseModel = file.string("general.base_model.0.name") ?? file.string("general.base_model.0.repo_url")
        return LoRAAdapter(name: name, path: path, format: .gguf, alpha: file.float("adapter.lora.alpha"), rsLoRA: false,
                           architecture: file.architecture, baseModel: baseModel, huggingFaceRowOrder: false, pairs: pairs)
    }

    private static func floats(_ file: GGUFFile, _ t: GGUFTensorInfo, adapter: String) throws -> [Float] {
        let n = t.elementCount, p = file.data(for: t)
        switch t.type {
        case .f32:
            return (0..<n).map { Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        case .f16:
            return (0..<n).map { Float(Float16(bitPattern: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self)))) }
        case .bf16:
            return (0..<n).map { Float(bitPattern: UInt32(UInt16(littleEndian: p.loadUnaligned(fromByteOffset: 2 * $0, as: UInt16.self))) << 16) }
        case .q8_0 where t.shape[0] % 32 == 0:
            var out = [Float](repeating: 0, count: n)
            let rowBytes = t.type.rowBytes(t.shape[0])!
            out.withUnsafeMutableBufferPointer { o in
                for r in 0..<t.rowCount { ReferenceDequant.row(.q8_0, p + r * rowBytes, o.baseAddress! + r * t.shape[0], count: t.shape[0]) }
            }
            return out
        default:
            throw AdapterError.unsupportedType(adapter: adapter, tensor: t.name, type: t.type.description)
        }
    }

    /// The adapter in llama.cpp's GGUF LoRA layout, e.g. to convert a PEFT folder once.
    /// Q/K rows are written in the order of `architecture`'s GGUF base model.
    ///
    /// - Parameter tensorType: `.f16` (what llama.cpp's `convert_lora_to_gguf.py` wrote by
    ///   default, and half the size: a rank-8 SmolLM2 adapter is 3.9 MB instead of 7.8 MB) or
    ///   `.f32`. LoRA weights are small numbers trained in float; rounding them to F16 moves
    ///   perplexity by far less than the adapter does (see the README's table).
    public func ggufWriter(architecture: String, headCount: Int, kvHeadCount: Int, tensorType: GGMLType = .f16) throws -> GGUFWriter {
        var w = try GGUFWriter()
        try w.set("general.architecture", .string(architecture))
        try w.set("general.type", .string("adapter"))
        try w.set("adapter.type", .string("lora"))
        if let alpha { try w.set("adapter.lora.alpha", .float32(alpha)) }
        if let baseModel { try w.set("general.base_model.count", .uint32(1)); try w.set("general.base_model.0.name", .string(baseModel)) }
        for p in pairs {
            if p.alpha != nil, p.alpha != alpha {
                throw AdapterError.badSpec("adapter '\(name)': \(p.tensor) has its own alpha, which the GGUF format cannot record — keep the PEFT folder")
            }
            if rsLoRA { throw AdapterError.badSpec("adapter '\(name)' uses rsLoRA, which the GGUF format cannot record — keep the PEFT folder") }
            let b = huggingFaceRowOrder && architecture == "llama"
                ? LoRANames.permuteForLlama(p.b, projection: p.projection, rank: p.rank, heads: headCount, kvHeads: kvHeadCount) : p.b
            try w.addTensor(p.tensor + ".lora_a", shape: [p.inDim, p.rank], floats: p.a, as: tensorType)
            try w.addTensor(p.tensor + ".lora_b", shape: [p.rank, p.outDim], floats: b, as: tensorType)
        }
        return w
    }
}

/// Tensor and module names: llama.cpp's `blk.N.attn_q.weight` ↔ our `Projection` ↔ PEFT's `q_proj`.
public enum LoRANames {
    static let gguf: [Projection: String] = [.q: "attn_q", .k: "attn_k", .v: "attn_v", .o: "attn_output",
                                             .gate: "ffn_gate", .up: "ffn_up", .down: "ffn_down"]
    static let peft: [String: Projection] = ["q_proj": .q, "k_proj": .k, "v_proj": .v, "o_proj": .o,
                                             "gate_proj": .gate, "up_proj": .up, "down_proj": .down]

    public static func ggufName(_ p: Projection) -> String { gguf[p]! }

    public static func tensor(layer: Int, _ p: Projection) -> String { "blk.\(layer).\(gguf[p]!).weight" }

    /// "blk.3.attn_q.weight" → (3, .q); nil for anything else.
    public static func parse(_ tensor: String) -> (layer: Int, projection: Projection)? {
        let parts = tensor.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "blk", parts[3] == "weight", let layer = Int(parts[1]), layer >= 0,
              let p = gguf.first(where: { $0.value == parts[2] })?.key else { return nil }
        return (layer, p)
    }

    /// Reorders the rows of B (outDim × rank) for Q or K as llama.cpp's converter reorders the
    /// base weight (`LlamaModel.permute`: per head, view rows as (2, d/2), swap to (d/2, 2)), so
    /// that an adapter from Hugging Face fits a GGUF llama model. Other projections are unchanged.
    public static func permuteForLlama(_ b: [Float], projection: Projection, rank: Int, heads: Int, kvHeads: Int) -> [Float] {
        let groups: Int
        switch projection {
        case .q: groups = heads
        case .k: groups = kvHeads
        default: return b
        }
        let rows = b.count / rank, headDim = rows / groups, half = headDim / 2
        var out = b
        for g in 0..<groups {
            for i in 0..<half {
                for j in 0..<2 {
                    let dst = g * headDim + i * 2 + j, src = g * headDim + j * half + i
                    for c in 0..<rank { out[dst * rank + c] = b[src * rank + c] }
                }
            }
        }
        return out
    }
}
