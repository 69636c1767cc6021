/// All stored vectors of one model, in one contiguous row-major buffer ready for a matrix product.
public struct EmbeddingMatrix: Sendable, Equatable {
    public let modelID: String
    public let dimension: Int
    /// Row `i` of `vectors` belongs to `chunkIDs[i]`; ordered by chunk id.
    public let chunkIDs: [Int64]
    /// `chunkIDs.count * dimension` floats.
    public let vectors: [Float]

    public var count: Int { chunkIDs.count }
}

/// Vectors per (chunk, model), stored as little-endian Float32 BLOBs.
///
/// Lifecycle: after ingest, `chunksMissingEmbeddings(modelID:)` lists what to encode,
/// `putEmbeddings` stores the vectors, `loadEmbeddings` reads a model's whole matrix for search.
/// Re-chunking or deleting a document deletes its chunks and, by cascade, their vectors.
extension KnowledgeStore {
    /// Errors of the vector API.
    public enum EmbeddingError: Error, CustomStringConvertible {
        /// Vectors of one model must all have the same length.
        case dimensionMismatch(modelID: String, expected: Int, got: Int, chunkID: Int64)
        /// A vector for a chunk id that does not exist (deleted since it was listed?).
        case unknownChunk(Int64)
        /// A NaN or infinite component: storing it would poison every similarity computed with it.
        case nonFinite(chunkID: Int64)

        public var description: String {
            switch self {
            case .dimensionMismatch(let m, let e, let g, let c):
                "vector for chunk \(c) has \(g) dimensions but model '\(m)' has \(e) — was it produced by another model?"
            case .unknownChunk(let c): "chunk \(c) does not exist — it was deleted or re-chunked; list missing chunks again"
            case .nonFinite(let c): "vector for chunk \(c) has a NaN or infinite component — check the encoder output"
            }
        }
    }

    /// The dimension stored for `modelID`, nil when it has no vectors yet.
    public func embeddingDimension(modelID: String) throws -> Int? {
        try database.query("SELECT dimension FROM embeddings WHERE model_id = ? LIMIT 1", [.text(modelID)]) { Int($0.int(0)) }.first
    }

    /// Stores (or replaces) vectors for chunk ids in one transaction; all must share one dimension,
    /// the same as any vectors already stored for `modelID`.
    public func putEmbeddings(modelID: String, _ items: [(chunkID: Int64, vector: [Float])]) throws {
        guard let first = items.first else { return }
        let dim = try embeddingDimension(modelID: modelID) ?? first.vector.count
        for it in items {
            if it.vector.count != dim { throw EmbeddingError.dimensionMismatch(modelID: modelID, expected: dim, got: it.vector.count, chunkID: it.chunkID) }
            if !it.vector.allSatisfy(\.isFinite) { throw EmbeddingError.nonFinite(chunkID: it.chunkID) }
        }
        try database.transaction { try putEmbeddingsInTransaction(modelID: modelID, dimension: dim, items) }
    }

    /// Like `putEmbeddings` but inside the caller's transaction (ingest's `beforeCommit`).
    func putEmbeddingsInTransaction(modelID: String, dimension: Int, _ items: [(chunkID: Int64, vector: [Float])]) throws {
        let st = try database.prepare("""
            INSERT INTO embeddings(chunk_id, model_id, dimension, vector) VALUES (?, ?, ?, ?)
            ON CONFLICT(model_id, chunk_id) DO UPDATE SET dimension = excluded.dimension, vector = excluded.vector
            """)
        var le = [UInt32](repeating: 0, count: dimension)
        for it in items {
            for i in 0..<dimension { le[i] = it.vector[i].bitPattern.littleEndian }
            try st.bind([.integer(it.chunkID), .text(modelID), .integer(Int64(dimension))])
            try le.withUnsafeBytes { try st.bindBlob($0, at: 4) }
            do { try st.runToEnd() } catch let e as DatabaseError where e.code == 787 {   // SQLITE_CONSTRAINT_FOREIGNKEY
                throw EmbeddingError.unknownChunk(it.chunkID)
            }
        }
    }

    /// Chunks without a vector for `modelID` (id and text), oldest first; `limit` for batching.
    public func chunksMissingEmbeddings(modelID: String, limit: Int? = nil) throws -> [(id: Int64, text: String)] {
        try database.query("""
            SELECT c.id, c.text FROM chunks c
            WHERE NOT EXISTS (SELECT 1 FROM embeddings e WHERE e.model_id = ? AND e.chunk_id = c.id)
            ORDER BY c.id LIMIT ?
            """, [.text(modelID), .integer(Int64(limit ?? -1))]) { (id: $0.int(0), text: $0.text(1)) }
    }

    /// Every vector of `modelID` as one matrix (empty when there are none).
    public func loadEmbeddings(modelID: String) throws -> EmbeddingMatrix {
        let dim = try embeddingDimension(modelID: modelID) ?? 0
        var ids: [Int64] = [], vectors: [Float] = []
        let st = try database.prepare("SELECT chunk_id, vector FROM embeddings WHERE model_id = ? ORDER BY chunk_id")
        try st.bind([.text(modelID)])
        while let r = try st.step() {
            let id = r.int(0)
            try r.withBlob(1) { raw in
                guard raw.count == dim * 4 else {
                    throw EmbeddingError.dimensionMismatch(modelID: modelID, expected: dim, got: raw.count / 4, chunkID: id)
                }
                for i in 0..<dim {
                    vectors.append(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
                }
            }
            ids.append(id)
        }
        return EmbeddingMatrix(modelID: modelID, dimension: dim, chunkIDs: ids, vectors: vectors)
    }

    /// Removes every vector of `modelID` (e.g. before re-encoding with a new model version).
    public func deleteEmbeddings(modelID: String) throws {
        try database.run("DELETE FROM embeddings WHERE model_id = ?", [.text(modelID)])
    }
}
