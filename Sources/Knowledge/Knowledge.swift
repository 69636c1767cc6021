// Module Knowledge: the SQLite knowledge store, ingestion, chunking and keyword search.
//
// One SQLite file (WAL, foreign keys on, migrations in `Schema`) holds:
//   documents, document_groups   one row per source file; access groups (none = public)
//   chunks                       text + heading path + scalar offsets + 1-based lines + token estimate
//   chunks_fts                   contentless FTS5 (title, body), CJK rewritten as bigrams
//   embeddings                   (chunk, model) -> little-endian Float32 BLOB
//   business_tables              registry for CSV imports (customer-service scenario)
//
// Who calls what:
//   ingestion      Ingestor(store:).ingest(paths:options:progress:) -> IngestReport
//                  IngestOptions.embedding = EmbeddingHook(modelID:embed:) stores vectors in the
//                  same transaction as their document; or embed afterwards from
//                  store.chunksMissingEmbeddings(modelID:) / IngestReport.newChunkIDs.
//   keyword search store.keywordSearch(_:groups:k:combination:) -> [SearchHit]
//   dense search   store.loadEmbeddings(modelID:) -> EmbeddingMatrix (contiguous [Float] + chunk ids),
//                  filter with store.hiddenChunkIDs(groups:) / visibleChunkIDs(groups:) before
//                  ranking, then store.chunks(ids:) -> [ChunkRecord] for the winners.
//   SQL filters    AccessGroups.hiddenChunksSQL (`chunk_id NOT IN (...)`, bind AccessGroups.json(groups)).
//
// A SearchHit / ChunkRecord fills the Assistant's RetrievedPassage field for field:
//   RetrievedPassage(chunkID: h.chunkID, documentPath: h.documentPath, headingPath: h.headingPath,
//                    text: h.text, startLine: h.startLine, endLine: h.endLine, charStart: h.charStart,
//                    charEnd: h.charEnd, score: h.score, keywordRank: h.rank, keywordScore: h.score)
//
// Threading: a KnowledgeStore owns one connection; use one per thread (WAL lets readers and one
// writer work at the same time). Opening is cheap (~0.2 ms) when the schema is current.
