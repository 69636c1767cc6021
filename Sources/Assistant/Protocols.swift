import Foundation
// Messages, requests, results and stop reasons are shared with the engine (`StrataCore`).
@_exported import StrataCore

// The scenarios see the engine, the encoder and the index only through these protocols, so
// tests drive them with scripted implementations and the CLI wires the real ones in.

/// Text in, a stream of text pieces out (L1 with optional L2 adapters).
public protocol TextGenerator: Sendable {
    /// Identifies the model (file name and hash prefix), recorded in the audit log.
    var modelID: String { get }
    /// Where the model runs, recorded in the audit log: "local" for the in-process engine, the
    /// API base URL for a model server.
    var backend: String { get }
    /// The languages the model file says it was trained on (GGUF `general.languages`, e.g.
    /// SmolLM2's ["en"]); nil when it does not say. A question in another one is not put to it.
    var languages: [String]? { get }
    /// Generates a reply to `request.messages`. `onPiece` receives each printable piece as it is
    /// produced (never half a UTF-8 character); returning false cancels the generation.
    func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult
}

extension TextGenerator {
    public var backend: String { "local" }
    public var languages: [String]? { nil }

    /// Generates from a prompt holding the first `count` of a ranked list of passages, with fewer
    /// when the model's window cannot hold them all: each `contextExceeded` drops the
    /// lowest-ranked quarter (at least one, never below `minimum`) and asks again — a small
    /// model spends about three tokens per Chinese character, so k passages that fit an English
    /// question can overflow a Chinese one. `build(n)` makes the request from the first n.
    /// Returns the result and n.
    public func generate(fitting count: Int, minimum: Int = 1, build: (Int) throws -> GenerationRequest,
                         onPiece: (String) -> Bool) throws -> (result: GenerationResult, used: Int) {
        var n = count
        while true {
            do {
                return (try generate(try build(n), onPiece: onPiece), n)
            } catch GenerationError.contextExceeded where n > minimum {
                n = max(minimum, n - max(1, n / 4))
            }
        }
    }
}

/// Texts in, L2-normalised vectors out.
public protocol TextEmbedder: Sendable {
    var modelID: String { get }
    var dimension: Int { get }
    func embed(_ texts: [String]) throws -> [[Float]]
}

/// A passage found for a query, with where it came from so an answer can cite it exactly.
public struct RetrievedPassage: Sendable, Equatable, Codable {
    public var chunkID: Int64
    public var documentPath: String
    public var headingPath: String
    public var text: String
    /// 1-based line numbers in the source file.
    public var startLine: Int
    public var endLine: Int
    /// Character offsets in the source text.
    public var charStart: Int
    public var charEnd: Int
    /// The fused score used for ranking (higher is better).
    public var score: Double
    /// Per-retriever ranks (1-based) and scores, nil when that retriever did not return it.
    public var keywordRank: Int?
    public var keywordScore: Double?
    public var denseRank: Int?
    public var denseScore: Double?
    /// The access groups of the passage's document (empty: public); an audit entry built from
    /// it records them, so the log shows it only to callers who may read this passage.
    public var groups: [String]

    public init(chunkID: Int64, documentPath: String, headingPath: String, text: String, startLine: Int,
                endLine: Int, charStart: Int, charEnd: Int, score: Double, keywordRank: Int? = nil,
                keywordScore: Double? = nil, denseRank: Int? = nil, denseScore: Double? = nil, groups: [String] = []) {
        self.groups = groups
        self.chunkID = chunkID; self.documentPath = documentPath; self.headingPath = headingPath
        self.text = text; self.startLine = startLine; self.endLine = endLine; self.charStart = charStart
        self.charEnd = charEnd; self.score = score; self.keywordRank = keywordRank
        self.keywordScore = keywordScore; self.denseRank = denseRank; self.denseScore = denseScore
    }
}

/// Finds passages a caller in `groups` may see. Access groups are applied before ranking.
public protocol Retriever: Sendable {
    func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage]
}
