/// Llama (and SmolLM2, which is llama-architecture): RMSNorm, RoPE on adjacent pairs, GQA,
/// SwiGLU, no biases, output head tied to the embedding when `output.weight` is absent.
///
/// RoPE: llama.cpp maps LLM_ARCH_LLAMA to LLAMA_ROPE_TYPE_NORM, which rotates (x[2i], x[2i+1]).
/// HF llama rotates halves; the GGUF converter permutes the Q/K weight rows so that adjacent
/// pairs in the file are HF's (i, i + d/2) pairs — so we must rotate adjacent pairs here.
public enum Llama {
    public static func config(_ file: ModelFile) throws -> DecoderConfig {
        try DecoderConfig(file: file, ropeStyle: .adjacentPairs)
    }

    /// Block: x += Wo·attn(rope(Wq·n(x)), rope(Wk·n(x)), Wv·n(x)); x += Wd·(silu(Wg·n(x)) ⊙ Wu·n(x)).
    public static func load(_ file: ModelFile) throws -> DecoderModel {
        try DecoderModel(file: file, config: config(file), biases: false)
    }
}
