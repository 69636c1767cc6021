import Foundation

/// Errors loading or running a sentence encoder. Each message says what is wrong and what to do.
public enum EmbeddingsError: Error, LocalizedError, Equatable {
    /// The model folder lacks a file the encoder needs (config.json, model.safetensors, tokenizer.json).
    case missingFile(path: String)
    /// A JSON file of the folder cannot be read or lacks a required field.
    case badConfig(path: String, detail: String)
    /// A weight's shape disagrees with config.json (e.g. hidden size ≠ weight width).
    case shapeMismatch(tensor: String, expected: [Int], actual: [Int])
    /// The folder describes something this encoder does not run (pooling mode, activation, …).
    case unsupported(path: String, detail: String)
    /// tokenizer.json could not be used.
    case tokenizer(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .missingFile(let p):
            "missing \(p) — point --embedder at a sentence-transformers folder (config.json, model.safetensors, tokenizer.json, 1_Pooling/config.json)"
        case .badConfig(let p, let d):
            "\(p): \(d) — the file is damaged or not from a sentence-transformers BERT model; re-download the folder"
        case .shapeMismatch(let t, let e, let a):
            "weight \(t) has shape \(a) but config.json implies \(e) — config.json and model.safetensors come from different models"
        case .unsupported(let p, let d):
            "\(p): \(d) — only BERT-family encoders with mean or CLS pooling are supported"
        case .tokenizer(let p, let d):
            "\(p): \(d)"
        }
    }
}
