// Tests for GGUF.
