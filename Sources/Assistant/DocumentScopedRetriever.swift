import Foundation

/// A retriever that only returns passages of some documents: a customer-service intent whose
/// action is `answer` answers from, say, the refund policy and nothing else, so a question about
/// refunds can never be answered from a research note that happens to mention one.
///
/// The store ranks before it knows the restriction, so this asks it for `overfetch` times more
/// passages than wanted and keeps the first `k` allowed ones. A document outside the scope that
/// crowds out every allowed passage leaves the answer without evidence, and the pipeline refuses:
/// the failure is a refusal, never an answer from the wrong document.
public struct DocumentScopedRetriever: Retriever {
    public var base: any Retriever
    /// Document path fragments: `policies/refunds` allows `Knowledge/policies/refunds.en.md` and
    /// `Knowledge/policies/refunds.zh.md`.
    public var documents: [String]
    public var overfetch: Int

    public init(base: any Retriever, documents: [String], overfetch: Int = 10) {
        self.base = base; self.documents = documents; self.overfetch = max(1, overfetch)
    }

    public func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] {
        guard !documents.isEmpty else { return [] }
        let hits = try base.retrieve(query, groups: groups, k: k * overfetch)
        return Array(hits.filter { Self.allows($0.documentPath, documents) }.prefix(k))
    }

    /// True when `path` is one of `documents`: equal, starting with one, or containing it after
    /// a folder separator (paths are shown relative to where Strata runs, scopes to the corpus).
    public static func allows(_ path: String, _ documents: [String]) -> Bool {
        documents.contains { d in path == d || path.hasPrefix(d) || path.contains("/" + d) }
    }
}
