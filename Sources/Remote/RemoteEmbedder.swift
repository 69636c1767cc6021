import Foundation
import Assistant

/// A sentence encoder served at `/v1/embeddings`, seen as a `TextEmbedder`.
///
/// Its `modelID` is `remote:` plus the served name, and every vector stored is keyed by it, so an
/// index knows which encoder made its vectors and refuses to mix two (see `EmbeddingStore`).
public final class RemoteEmbedder: TextEmbedder, @unchecked Sendable {
    public let client: OpenAIClient
    public let model: String
    public let modelID: String
    public private(set) var dimension: Int
    /// Texts per request: servers cap a batch, and one huge request times out as a whole.
    public var batchSize = 32

    /// Asks the server once, to learn the vector size (and that the model is served).
    public init(client: OpenAIClient, model: String) throws {
        self.client = client; self.model = model
        modelID = "remote:" + model
        dimension = 0
        let probe = try request(["dimension probe"])
        guard let v = probe.first, !v.isEmpty else {
            throw RemoteError.malformed(url: client.endpoint.display, detail: "the embeddings reply holds no vector")
        }
        dimension = v.count
    }

    public func embed(_ texts: [String]) throws -> [[Float]] {
        var out: [[Float]] = []
        out.reserveCapacity(texts.count)
        for start in stride(from: 0, to: texts.count, by: batchSize) {
            let batch = try request(Array(texts[start..<min(start + batchSize, texts.count)]))
            if dimension > 0, let bad = batch.first(where: { $0.count != dimension }) {
                throw RemoteError.malformed(url: client.endpoint.display, detail: "a vector of \(bad.count) numbers after \(dimension) — is the server serving another model now?")
            }
            out += batch
        }
        return out
    }

    /// One request; vectors put back in input order (the API gives each an `index`) and
    /// L2-normalised, as the protocol promises whatever the server does.
    private func request(_ texts: [String]) throws -> [[Float]] {
        let obj = try client.postJSON("embeddings", ["model": model, "input": texts])
        guard let data = obj["data"] as? [[String: Any]], data.count == texts.count else {
            throw RemoteError.malformed(url: client.endpoint.display, detail: "expected \(texts.count) vectors in 'data'")
        }
        var vectors = [[Float]](repeating: [], count: texts.count)
        for (i, item) in data.enumerated() {
            let index = item["index"] as? Int ?? i
            guard vectors.indices.contains(index), let numbers = item["embedding"] as? [Any] else {
                throw RemoteError.malformed(url: client.endpoint.display, detail: "item \(i) has no 'embedding' list of numbers")
            }
            var v = numbers.compactMap { ($0 as? NSNumber)?.floatValue }
            guard v.count == numbers.count else {
                throw RemoteError.malformed(url: client.endpoint.display, detail: "item \(i)'s embedding is not a flat list of numbers (a per-token output? serve the encoder with pooling)")
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { for j in v.indices { v[j] /= norm } }
            vectors[index] = v
        }
        return vectors
    }
}
