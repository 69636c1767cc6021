import Foundation
import Tensor

/// Why a model could not be loaded or run, each with what to do about it.
public enum EngineError: Error, LocalizedError, Equatable {
    /// `general.architecture` names a model family the engine has no forward pass for.
    case unsupportedArchitecture(String, supported: [String])
    /// A tensor uses a ggml type the engine has no kernel for.
    case unsupportedType(tensor: String, type: String)
    /// A required hyper-parameter is missing from the GGUF metadata.
    case missingMetadata(key: String)
    /// A required tensor is missing (incomplete conversion, or another architecture).
    case missingTensor(String)
    /// A tensor's shape does not match the hyper-parameters.
    case badShape(tensor: String, expected: String, found: [Int])
    /// The prompt does not fit the context window.
    case contextOverflow(tokens: Int, context: Int)
    /// Nothing to evaluate.
    case emptyInput
    /// A token id outside the vocabulary.
    case tokenOutOfRange(Int, vocabulary: Int)
    /// A generation or sampling parameter out of range.
    case invalidParameter(String)

    public var errorDescription: String? {
        switch self {
        case .unsupportedArchitecture(let a, let s):
            "model architecture '\(a)' is not supported (supported: \(s.joined(separator: ", "))) — use a llama or qwen2 GGUF"
        case .unsupportedType(let t, let ty):
            "tensor \(t) is \(ty), which the engine cannot run (supported: \(WeightMatrix.supportedTypes.map(\.description).joined(separator: ", "))) — use a model quantized to one of these"
        case .missingMetadata(let k): "the model file has no '\(k)' metadata — it was converted for another loader; re-convert with a current llama.cpp"
        case .missingTensor(let t): "the model file has no tensor '\(t)' — incomplete or foreign conversion; re-convert the model"
        case .badShape(let t, let e, let f): "tensor \(t) has shape \(f), expected \(e) — the file does not match its own metadata"
        case .contextOverflow(let n, let c): "the prompt and reply need \(n) tokens but the context holds \(c) — shorten the prompt or raise --ctx (up to the model's context length)"
        case .emptyInput: "the prompt is empty — give some text to continue"
        case .tokenOutOfRange(let t, let v): "token id \(t) is outside the vocabulary of \(v) — the ids come from another model's tokenizer"
        case .invalidParameter(let m): m
        }
    }
}
