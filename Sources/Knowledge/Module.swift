// Module Knowledge.
//
// The SQLite knowledge store: documents, chunks, FTS5 keyword search, vectors, business tables.
