// Tests for Embeddings.
