// Module Embeddings.
//
// BERT-family sentence encoders run in Swift (sentence-transformers layout).
