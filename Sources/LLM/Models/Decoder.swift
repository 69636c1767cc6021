import Foundation
import Tensor

/// The projections an adapter can update (`y += s·B·(A·x)`), named as in PEFT's target modules.
public enum Projection: String, CaseIterable, Sendable {
    case q, k, v, o, gate, up, down
}

/// The LoRA hook point: called after every projection with its input and output rows, so an
/// adapter can add its low-rank update per request. The engine applies nothing when no hook is set.
public protocol ProjectionHook: AnyObject {
    /// Adds the update to `y[tokens × outDim]` for input `x[tokens × inDim]` of `projection` in `layer`.
    func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, inDim: Int,
               y: UnsafeMutablePointer<Float>, outDim: Int, tokens: Int)
}

/// One transformer block's weights (shapes as rows × cols; ggml stores them cols-first).
public struct DecoderLayer: @unchecked Sendable {
    public var attentionNorm: UnsafePointer<Float>   // (dim)
    public var wq: WeightMatrix                       // (n_heads·head_dim, dim)
    public var wk: WeightMatrix                       // (n_kv_heads·head_dim, dim)
    public var wv: WeightMatrix                       // (n_kv_heads·head_dim, dim)
    public var bq, bk, bv: UnsafePointer<Float>?      // (q_dim), (kv_dim), (kv_dim): qwen2 only
    public var wo: WeightMatrix                       // (dim, n_heads·head_dim)
    public var ffnNorm: UnsafePointer<Float>          // (dim)
    public var gate: WeightMatrix                     // (ffn, dim)
    public var up: WeightMatrix                       // (ffn, dim)
    public var down: WeightMatrix                     // (dim, ffn)
}

/// A llama-family decoder: the weights, used in place from the mapping, and its config.
public final class DecoderModel: @unchecked Sendable {
    public let config: DecoderConfig
    public let file: ModelFile
    public let tokenEmbedding: WeightMatrix           // (vocab, dim)
    public let layers: [DecoderLayer]
    public let outputNorm: UnsafePointer<Float>       // (dim)
    public let output: WeightMatrix                   // (vocab, dim); token_embd when tied
    /// Set per request to apply adapters; nil applies nothing.
    public var hook: ProjectionHook?

    /// Loads the standard llama.cpp tensor names; `biases` requires Q/K/V biases (qwen2).
    init(file: ModelFile, config c: DecoderConfig, biases: Bool) throws {
        self.config = c; self.file = file
        func tensor(_ name: String) throws -> ModelFile.Tensor {
            guard let t = file.tensors[name] else { throw EngineError.missingTensor(name) }
            return t
        }
        func matrix(_ name: String, rows: Int, cols: Int) throws -> WeightMatrix {
            let t = try tensor(name)
            guard t.shape == [cols, rows] else { throw EngineError.badShape(tensor: name, expected: "[\(cols), \(rows)]", found: t.shape) }
            guard WeightMatrix.supportedTypes.contains(t.type) else {
                throw EngineError.unsupportedType(tensor: name, type: t.type.description)
            }
            do { return try WeightMatrix(type: t.type, rows: rows, cols: cols, data: t.data) }
            catch { throw EngineError.badShape(tensor: name, expected: "[\(cols), \(rows)] in whole \(t.type) blocks", found: t.shape) }
        }
        func vector(_ name: String, _ n: Int) throws -> UnsafePointer<Float> {
            let t = try tensor(name)
            guard t.type == .f32 else { throw EngineError.unsupportedType(tensor: name, type: t.type.description + " (norms and biases must be F32)") }
            guard t.elementCount == n else { throw EngineError.badShape(tensor: name, expected: "[\(n)]", found: t.shape) }
            return t.data.assumingMemoryBound(to: Float.self)
        }
        tokenEmbedding = try matrix("token_embd.weight", rows: c.vocabularySize, cols: c.embeddingLength)
        outputNorm = try vector("output_norm.weight", c.embeddingLength)
        output = file.tensors["output.weight"] == nil ? tokenEmbedding
            : try matrix("output.weight", rows: c.vocabularySize, cols: c.embeddingLength)
        layers = try (0..<c.layerCount).map { i in
            let p = "blk.\(i)."
            return DecoderLayer(
                attentionNorm: try vector(p + "attn_norm.weight", c.embeddingLength),
                wq: try matrix(p + "attn_q.weight", rows: c.qDim, cols: c.embeddingLength),
                wk: try matrix(p + "attn_k.weight", rows: c.kvDim, cols: c.embeddingLength),
                wv: try matrix(p + "attn_v.weight", rows: c.kvDim, cols: c.embeddingLength),
                bq: biases ? try vector(p + "attn_q.bias", c.qDim) : nil,
                bk: biases ? try vector(p + "attn_k.bias", c.kvDim) : nil,
                bv: biases ? try vector(p + "attn_v.bias", c.kvDim) : nil,
                wo: try matrix(p + "attn_output.weight", rows: c.embeddingLength, cols: c.qDim),
                ffnNorm: try vector(p + "ffn_norm.weight", c.embeddingLength),
                gate: try matrix(p + "ffn_gate.weight", rows: c.feedForwardLength, cols: c.embeddingLength),
                up: try matrix(p + "ffn_up.weight", rows: c.feedForwardLength, cols: c.embeddingLength),
                down: try matrix(p + "ffn_down.weight", rows: c.embeddingLength, cols: c.feedForwardLength))
        }
    }
}

/// The architectures the engine runs, keyed by `general.architecture`.
public enum ModelRegistry {
    public static let loaders: [String: @Sendable (ModelFile) throws -> DecoderModel] = ["llama": Llama.load, "qwen2": Qwen2.load]

    public static func load(_ file: ModelFile) throws -> DecoderModel {
        guard let arch = file.architecture else { throw EngineError.missingMetadata(key: "general.architecture") }
        guard let loader = loaders[arch] else {
            throw EngineError.unsupportedArchitecture(arch, supported: loaders.keys.sorted())
        }
        return try loader(file)
    }
}
