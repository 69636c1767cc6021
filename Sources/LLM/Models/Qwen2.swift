/// Qwen2 (and Qwen2.5-Coder): the llama block with Q/K/V biases and NEOX-style RoPE.
///
/// RoPE: llama.cpp maps LLM_ARCH_QWEN2 to LLAMA_ROPE_TYPE_NEOX, which rotates
/// (x[i], x[i + d/2]); Qwen2's weights are converted without the llama permutation.
/// The large vocabulary (151,936) makes the output head the biggest single matrix.
public enum Qwen2 {
    public static func config(_ file: ModelFile) throws -> DecoderConfig {
        try DecoderConfig(file: file, ropeStyle: .halves)
    }

    /// Block: as llama, plus q/k/v biases added after the projections (before RoPE).
    public static func load(_ file: ModelFile) throws -> DecoderModel {
        try DecoderModel(file: file, config: config(file), biases: true)
    }
}
