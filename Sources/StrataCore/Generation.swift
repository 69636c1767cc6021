import Foundation

/// The sampling defaults every backend starts from: `GenerationRequest` and the engine's
/// `SamplingParameters` both read them, so the two cannot drift apart.
public enum SamplingDefaults {
    public static let temperature = 0.8
    public static let topK = 40
    public static let topP = 0.95
    public static let minP = 0.05
    public static let repeatPenalty = 1.0
}

/// What to generate and how.
public struct GenerationRequest: Sendable {
    public var messages: [ChatMessage]
    public var maxTokens: Int
    public var temperature: Double
    public var topK: Int
    public var topP: Double
    /// Drop tokens below minP × the most likely token's probability (0 = off).
    public var minP: Double
    public var seed: UInt64
    public var stop: [String]
    /// Penalty on tokens seen in the recent window (1 = off); small models loop without it.
    public var repeatPenalty: Double
    /// L2 adapters to apply for this request only, each with its user scale.
    public var adapters: [(name: String, scale: Float)]

    public init(messages: [ChatMessage], maxTokens: Int = 256, temperature: Double = SamplingDefaults.temperature,
                topK: Int = SamplingDefaults.topK, topP: Double = SamplingDefaults.topP, minP: Double = SamplingDefaults.minP,
                seed: UInt64 = 42, stop: [String] = [], repeatPenalty: Double = SamplingDefaults.repeatPenalty,
                adapters: [(name: String, scale: Float)] = []) {
        self.messages = messages; self.maxTokens = maxTokens; self.temperature = temperature
        self.topK = topK; self.topP = topP; self.minP = minP; self.seed = seed; self.stop = stop
        self.repeatPenalty = repeatPenalty; self.adapters = adapters
    }
}

/// Errors a text generator reports in terms a scenario can act on.
public enum GenerationError: Error, LocalizedError, Equatable {
    /// The prompt plus the reply's token budget do not fit the model's context window.
    case contextExceeded(needed: Int, context: Int)

    public var errorDescription: String? {
        switch self {
        case .contextExceeded(let n, let c) where n == 0 || c == 0:
            // A model server may refuse without saying by how much.
            "the question, its sources and the reply do not fit the model's context window — ask a shorter question"
        case .contextExceeded(let n, let c):
            "the question, its sources and the reply need \(n) tokens but the model's window holds \(c) — ask a shorter question"
        }
    }
}

/// What a generation produced, with counts and timings.
public struct GenerationResult: Sendable {
    public typealias StopReason = StrataCore.StopReason
    public var text: String
    public var promptTokens: Int
    public var generatedTokens: Int
    public var promptSeconds: Double
    public var generationSeconds: Double
    public var stopReason: StopReason
    public init(text: String, promptTokens: Int, generatedTokens: Int, promptSeconds: Double,
                generationSeconds: Double, stopReason: StopReason) {
        self.text = text; self.promptTokens = promptTokens; self.generatedTokens = generatedTokens
        self.promptSeconds = promptSeconds; self.generationSeconds = generationSeconds; self.stopReason = stopReason
    }
}
