import GGUF
import Tokenizers

extension BPETokenizer {
    /// The tokenizer stored in a llama.cpp GGUF file (`tokenizer.ggml.*`).
    ///
    /// Only byte-level BPE (`tokenizer.ggml.model` = "gpt2") is supported; a SentencePiece model
    /// (Llama 2, Gemma) is refused with an error naming the model type.
    public convenience init(gguf file: GGUFFile) throws {
        let model = file.string("tokenizer.ggml.model")
        guard let model else { throw TokenizerError.missingMetadata("tokenizer.ggml.model") }
        guard model == "gpt2" else { throw TokenizerError.unsupportedModel(model) }
        guard let tokens = file.stringArray("tokenizer.ggml.tokens") else {
            throw TokenizerError.missingMetadata("tokenizer.ggml.tokens (an array of strings)")
        }
        guard let merges = file.stringArray("tokenizer.ggml.merges") else {
            throw TokenizerError.missingMetadata("tokenizer.ggml.merges (an array of strings)")
        }
        let types: [Int]?
        if file.metadata["tokenizer.ggml.token_type"] != nil {
            guard let t = file.intArray("tokenizer.ggml.token_type") else {
                throw TokenizerError.missingMetadata("tokenizer.ggml.token_type as integers")
            }
            types = t
        } else {
            types = nil
        }
        try self.init(tokens: tokens, merges: merges, tokenTypes: types,
                      preTokenizer: file.string("tokenizer.ggml.pre"),
                      bos: file.int("tokenizer.ggml.bos_token_id"),
                      eos: file.int("tokenizer.ggml.eos_token_id"),
                      eot: file.int("tokenizer.ggml.eot_token_id"),
                      addBOS: file.bool("tokenizer.ggml.add_bos_token") ?? false,
                      addEOS: file.bool("tokenizer.ggml.add_eos_token") ?? false)
    }
}
