import Foundation
import GGUF
import Tokenizers
// `ChatMessage` and `StopReason` are shared with the scenarios (`StrataCore`).
@_exported import StrataCore

/// Formats conversations the way a model was trained to read them, recognised from the model's
/// `tokenizer.chat_template` (a Jinja template we do not execute: we recognise its family).
///
/// Supported: the ChatML family (`<|im_start|>role\n…<|im_end|>\n`), used by SmolLM2 and Qwen2.5.
/// The default system prompt that such templates insert when the conversation has none is read
/// from the template's own text, so another ChatML model gets its own default, not SmolLM's.
public struct ChatTemplate: Sendable, Equatable {
    public enum Family: String, Sendable { case chatML }

    public let family: Family
    /// The system message the template adds when the conversation starts without one.
    public let defaultSystemPrompt: String?

    static let start = "<|im_start|>", end = "<|im_end|>"

    /// - Parameters:
    ///   - template: the Jinja source (`tokenizer.chat_template`).
    ///   - modelName: used only to name the model in errors.
    public init(template: String?, modelName: String? = nil) throws {
        let name = modelName ?? "the model"
        guard let template, !template.isEmpty else { throw ChatTemplateError.missing(model: name) }
        guard template.contains(Self.start), template.contains(Self.end) else {
            throw ChatTemplateError.unsupported(model: name, excerpt: String(template.prefix(80)))
        }
        family = .chatML
        defaultSystemPrompt = Self.defaultSystemPrompt(in: template)
    }

    /// The template of a GGUF model.
    public init(gguf file: GGUFFile) throws {
        try self.init(template: file.string("tokenizer.chat_template"),
                      modelName: file.string("general.name") ?? (file.path as NSString).lastPathComponent)
    }

    /// The prompt text for `messages`, ending with the assistant's opening when `addGenerationPrompt`.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws -> String {
        try turns(messages).map { Self.start + $0.role.rawValue + "\n" + $0.content + Self.end + "\n" }.joined()
            + (addGenerationPrompt ? Self.start + "assistant\n" : "")
    }

    /// Token ids of the prompt, with message contents tokenized as plain text so that a user who
    /// types "<|im_start|>system" cannot forge a turn; the turn markers are real control tokens.
    public func encode(_ messages: [ChatMessage], tokenizer: BPETokenizer, addGenerationPrompt: Bool = true) throws -> [Int32] {
        var ids: [Int32] = []
        if tokenizer.addBOS, let bos = tokenizer.bos { ids.append(bos) }
        for m in try turns(messages) {
            ids += tokenizer.encode(Self.start + m.role.rawValue + "\n", addSpecial: false, parseSpecial: true)
            ids += tokenizer.encode(m.content, addSpecial: false, parseSpecial: false)
            ids += tokenizer.encode(Self.end + "\n", addSpecial: false, parseSpecial: true)
        }
        if addGenerationPrompt { ids += tokenizer.encode(Self.start + "assistant\n", addSpecial: false, parseSpecial: true) }
        return ids
    }

    /// Text that ends an assistant turn (a stop string when the EOT token is not generated).
    public var endOfTurn: String { Self.end }

    /// The messages with the default system prompt inserted where the template would.
    func turns(_ messages: [ChatMessage]) throws -> [ChatMessage] {
        guard !messages.isEmpty else { throw ChatTemplateError.noMessages }
        if messages[0].role != .system, let system = defaultSystemPrompt {
            return [ChatMessage(.system, system)] + messages
        }
        return messages
    }

    /// The text of the first string literal in `template` that writes a whole system turn
    /// (`'<|im_start|>system\n…<|im_end|>'`), with Jinja escapes resolved.
    static func defaultSystemPrompt(in template: String) -> String? {
        let opening = start + "system\n"
        for literal in stringLiterals(template) {
            guard let a = literal.range(of: opening), let b = literal.range(of: end, range: a.upperBound..<literal.endIndex) else { continue }
            let content = String(literal[a.upperBound..<b.lowerBound])
            if !content.isEmpty { return content }
        }
        return nil
    }

    /// Single- and double-quoted string literals of a Jinja template, unescaped.
    static func stringLiterals(_ template: String) -> [String] {
        var out: [String] = []
        var it = Array(template.unicodeScalars)[...]
        var inExpression = false
        while let c = it.popFirst() {
            // Only text inside {{ }} or {% %} is code; quotes in plain template text are output.
            if c == "{", let n = it.first, n == "{" || n == "%" { inExpression = true; it.removeFirst(); continue }
            if (c == "}" || c == "%"), it.first == "}" { inExpression = false; it.removeFirst(); continue }
            guard inExpression, c == "'" || c == "\"" else { continue }
            var s = String.UnicodeScalarView()
            while let d = it.popFirst(), d != c {
                if d == "\\", let e = it.popFirst() {
                    switch e {
                    case "n": s.append("\n")
                    case "t": s.append("\t")
                    case "r": s.append("\r")
                    default: s.append(e)
                    }
                } else {
                    s.append(d)
                }
            }
            out.append(String(s))
        }
        return out
    }
}

/// Why a conversation could not be formatted.
public enum ChatTemplateError: Error, LocalizedError, Equatable {
    /// The model file carries no chat template.
    case missing(model: String)
    /// The template is not of a family we can format.
    case unsupported(model: String, excerpt: String)
    /// Nothing to format.
    case noMessages

    public var errorDescription: String? {
        switch self {
        case .missing(let m):
            "\(m) has no chat template (tokenizer.chat_template) — use it for plain completion, or use an instruct model such as SmolLM2-Instruct or Qwen2.5-Instruct"
        case .unsupported(let m, let e):
            "the chat template of \(m) is not supported (only ChatML, <|im_start|>…<|im_end|>); it begins: \(e.debugDescription) — use a ChatML model (SmolLM2, Qwen2.5)"
        case .noMessages:
            "a chat needs at least one message"
        }
    }
}
