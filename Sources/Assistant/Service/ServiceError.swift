import Foundation

/// Errors of the customer-service scenario; each says what is wrong and what to do.
public enum ServiceError: Error, LocalizedError, Equatable {
    /// The classifier was given no examples to learn from.
    case noExamples
    /// An example has the wrong dimension or label.
    case badExample(detail: String)
    /// intents.json or lookups.json is malformed.
    case invalidPack(file: String, detail: String)
    /// A lookup's SQL failed to prepare or is not a single read-only statement.
    case invalidLookup(name: String, detail: String)
    /// A lookup failed at question time.
    case lookupFailed(name: String, detail: String)
    /// A template needs a value that the rows or slots do not provide.
    case template(detail: String)
    /// A line of a support benchmark file is malformed.
    case badBenchmark(line: Int, detail: String)
    /// A customer message is longer than one turn may hold.
    case messageTooLong(characters: Int, limit: Int)

    /// About the customer's message rather than the pack or the data: the conversation can go on.
    public var isMessageError: Bool { if case .messageTooLong = self { true } else { false } }

    public var errorDescription: String? {
        switch self {
        case .noExamples:
            "the intent classifier has no examples — give every intent example utterances in intents.json"
        case .badExample(let d):
            "bad classifier example: \(d) — embed every example with the same encoder"
        case .invalidPack(let f, let d):
            "\(f): \(d) — fix the file (see Prompts/customer-service/README.md)"
        case .invalidLookup(let n, let d):
            "lookup '\(n)': \(d) — a lookup must be one read-only SELECT whose :parameters are slot names"
        case .lookupFailed(let n, let d):
            "lookup '\(n)' failed: \(d) — run 'strata data list' to check the business tables are imported"
        case .template(let d):
            "reply template: \(d) — fix the template in the pack's replies.json"
        case .messageTooLong(let n, let limit):
            "the message has \(n) characters; one turn holds at most \(limit) — ask one question at a time, or paste a document into the knowledge base ('strata ingest') instead"
        case .badBenchmark(let l, let d):
            "line \(l): \(d) — each line is {\"id\", \"lang\", \"question\", \"expect\", \"facts\", \"wrong\"} (see bench/support/README.md)"
        }
    }
}
