// Tests for Tokenizers.
