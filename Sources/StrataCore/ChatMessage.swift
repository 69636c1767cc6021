import Foundation

// The value types at the seam between the engine (L1/L2, `LLM`) and the scenarios (L3,
// `Assistant`): both import this module, so a message, a request and a stop reason have one
// definition (as MLXLMCommon is shared by mlx-swift-lm's LLM and VLM libraries).

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable, Codable {
    public enum Role: String, Sendable, Codable { case system, user, assistant }
    public var role: Role
    public var content: String
    public init(_ role: Role, _ content: String) { self.role = role; self.content = content }
}

/// Why a generation ended.
public enum StopReason: String, Sendable, Codable {
    /// The model wrote its end-of-generation token.
    case endOfSequence
    /// One of the request's stop strings appeared (it is not part of the text).
    case stopString
    /// The token budget was spent.
    case maxTokens
    /// The caller's piece callback returned false (Ctrl-C, a closed connection).
    case cancelled
}
