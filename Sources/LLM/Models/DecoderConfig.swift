import Tensor

/// Hyper-parameters of a llama-style decoder, all read from GGUF metadata under `<arch>.`.
public struct DecoderConfig: Sendable, Equatable {
    /// How RoPE pairs dimensions. llama.cpp's `LLAMA_ROPE_TYPE_NORM` rotates adjacent pairs
    /// (x[2i], x[2i+1]) — llama's GGUF converter permutes Q/K rows so this matches HF's halves;
    /// `LLAMA_ROPE_TYPE_NEOX` (qwen2) rotates (x[i], x[i + d/2]) on unpermuted weights.
    public enum RopeStyle: Sendable { case adjacentPairs, halves }

    public var architecture: String
    public var layerCount: Int
    public var embeddingLength: Int
    public var headCount: Int
    public var kvHeadCount: Int
    public var headDim: Int
    public var feedForwardLength: Int
    public var ropeBase: Float
    public var rmsEpsilon: Float
    public var contextLength: Int
    public var vocabularySize: Int
    public var ropeStyle: RopeStyle

    /// Reads every hyper-parameter; nothing is assumed per model.
    public init(file: ModelFile, ropeStyle: RopeStyle) throws {
        guard let arch = file.architecture else { throw EngineError.missingMetadata(key: "general.architecture") }
        func int(_ k: String) throws -> Int {
            guard let v = file.int("\(arch).\(k)"), v > 0 else { throw EngineError.missingMetadata(key: "\(arch).\(k)") }
            return v
        }
        architecture = arch
        layerCount = try int("block_count")
        embeddingLength = try int("embedding_length")
        headCount = try int("attention.head_count")
        kvHeadCount = file.int("\(arch).attention.head_count_kv") ?? headCount
        feedForwardLength = try int("feed_forward_length")
        contextLength = try int("context_length")
        headDim = file.int("\(arch).attention.key_length") ?? embeddingLength / headCount
        ropeBase = Float(file.float("\(arch).rope.freq_base") ?? 10_000)
        guard let eps = file.float("\(arch).attention.layer_norm_rms_epsilon") else {
            throw EngineError.missingMetadata(key: "\(arch).attention.layer_norm_rms_epsilon")
        }
        rmsEpsilon = Float(eps)
        if let n = file.arrayCount("tokenizer.ggml.tokens") { vocabularySize = n }
        else if let t = file.tensors["token_embd.weight"], t.shape.count == 2 { vocabularySize = t.shape[1] }
        else { throw EngineError.missingMetadata(key: "tokenizer.ggml.tokens") }
        self.ropeStyle = ropeStyle
        guard headCount % kvHeadCount == 0, headDim % 2 == 0 else {
            throw EngineError.invalidParameter("head_count \(headCount) is not a multiple of head_count_kv \(kvHeadCount) — the model file is inconsistent")
        }
    }

    public var qDim: Int { headCount * headDim }
    public var kvDim: Int { kvHeadCount * headDim }
}
