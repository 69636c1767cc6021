import Foundation

/// How token vectors become one sentence vector (`1_Pooling/config.json`).
public enum Pooling: String, Sendable {
    /// Mean over the tokens of the sentence, [CLS] and [SEP] included.
    case mean
    /// The vector of the first token, [CLS].
    case cls
}

/// The hyper-parameters of a BERT encoder and of its sentence-transformers wrapper.
public struct BertConfig: Sendable, Equatable {
    public var hiddenSize: Int
    public var layers: Int
    public var heads: Int
    public var intermediateSize: Int
    public var vocabSize: Int
    public var maxPositions: Int
    public var typeVocabSize: Int
    public var layerNormEps: Float
    public var pooling: Pooling
    /// Longest input in tokens, [CLS] and [SEP] included (sentence_bert_config.json).
    public var maxSequenceLength: Int

    public var headDim: Int { hiddenSize / heads }

    /// Reads config.json, 1_Pooling/config.json and sentence_bert_config.json from `directory`.
    public static func load(directory: String) throws -> BertConfig {
        let configPath = directory + "/config.json"
        let c = try readJSON(configPath)
        func int(_ key: String) throws -> Int {
            guard let v = c[key] as? Int, v > 0 else { throw EmbeddingsError.badConfig(path: configPath, detail: "\(key) is missing or not a positive integer") }
            return v
        }
        if let type = c["model_type"] as? String, type != "bert" {
            // RoBERTa-style models offset their positions; only plain BERT positions are implemented.
            throw EmbeddingsError.unsupported(path: configPath, detail: "model_type \(type) is not bert")
        }
        if let act = c["hidden_act"] as? String, act != "gelu" {
            throw EmbeddingsError.unsupported(path: configPath, detail: "hidden_act \(act) is not gelu (exact erf)")
        }
        if let pet = c["position_embedding_type"] as? String, pet != "absolute" {
            throw EmbeddingsError.unsupported(path: configPath, detail: "position_embedding_type \(pet) is not absolute")
        }
        var cfg = BertConfig(hiddenSize: try int("hidden_size"), layers: try int("num_hidden_layers"),
                             heads: try int("num_attention_heads"), intermediateSize: try int("intermediate_size"),
                             vocabSize: try int("vocab_size"), maxPositions: try int("max_position_embeddings"),
                             typeVocabSize: (c["type_vocab_size"] as? Int) ?? 2,
                             layerNormEps: Float((c["layer_norm_eps"] as? Double) ?? 1e-12),
                             pooling: .mean, maxSequenceLength: 512)
        guard cfg.hiddenSize % cfg.heads == 0 else {
            throw EmbeddingsError.badConfig(path: configPath, detail: "hidden_size \(cfg.hiddenSize) is not a multiple of num_attention_heads \(cfg.heads)")
        }
        cfg.maxSequenceLength = cfg.maxPositions

        let poolPath = directory + "/1_Pooling/config.json"
        let p = try readJSON(poolPath)
        let flags = ["pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
                     "pooling_mode_mean_sqrt_len_tokens", "pooling_mode_weightedmean_tokens", "pooling_mode_lasttoken"]
            .filter { (p[$0] as? Bool) == true }
        switch flags {
        case ["pooling_mode_mean_tokens"]: cfg.pooling = .mean
        case ["pooling_mode_cls_token"]: cfg.pooling = .cls
        default: throw EmbeddingsError.unsupported(path: poolPath, detail: "pooling \(flags) is not exactly one of mean or cls")
        }
        if let d = p["word_embedding_dimension"] as? Int, d != cfg.hiddenSize {
            throw EmbeddingsError.badConfig(path: poolPath, detail: "word_embedding_dimension \(d) ≠ hidden_size \(cfg.hiddenSize) of config.json")
        }

        // Optional: without it the model's position limit applies, as in sentence-transformers.
        let sbPath = directory + "/sentence_bert_config.json"
        if FileManager.default.fileExists(atPath: sbPath) {
            let s = try readJSON(sbPath)
            if let m = s["max_seq_length"] as? Int {
                guard m >= 2, m <= cfg.maxPositions else {
                    throw EmbeddingsError.badConfig(path: sbPath, detail: "max_seq_length \(m) is not in 2...\(cfg.maxPositions) (max_position_embeddings)")
                }
                cfg.maxSequenceLength = m
            }
        }
        return cfg
    }

    static func readJSON(_ path: String) throws -> [String: Any] {
        guard FileManager.default.fileExists(atPath: path) else { throw EmbeddingsError.missingFile(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EmbeddingsError.badConfig(path: path, detail: "cannot be read")
        }
        guard let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw EmbeddingsError.badConfig(path: path, detail: "is not a JSON object")
        }
        return obj
    }
}
