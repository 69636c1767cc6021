/// How a prompt of several tokens is multiplied with the quantized weights. The two ways round
/// differently (a last bit here and there, which SmolLM2 can amplify to about one logit), so a
/// long evaluation names the one it was recorded with and is resumed with the same one. The
/// thread count never changes the arithmetic, only its speed.
public enum PromptArithmetic: String, Sendable, CaseIterable, Codable {
    /// The tile kernels, bit for bit what decoding token by token gives, and dequantized tiles
    /// + sgemm from 64 tokens (32-weight blocks) or 192 (K types). What every prompt used
    /// before the interleaved kernels; the grounded-Q&A records begun then keep it.
    case rowExact = "row-exact"
    /// Q4_K and Q4_1 eight rows interleaved (their eight integer products add up before one
    /// widening multiply), never switching to sgemm; other quantized types on the integer
    /// kernels below 384 tokens. Faster on one thread as on two: `bench-llm --threads 1
    /// --arithmetic A`, this host, other work paused, row-exact → interleaved prompt tokens/s:
    /// Qwen2.5-1.5B Q4_K_M pp64 11.8 → 15.2, pp512 11.2 → 14.3, pp1024 11.2 → 13.9;
    /// SmolLM2-135M Q4_1 pp512 116.6 → 133.9, pp2048 86.7 → 91.5.
    case interleaved

    /// What the engine uses unless told otherwise.
    public static let standard: PromptArithmetic = .interleaved
}
