// Module Tokenizers.
//
// Text to ids and back: byte-level BPE (from GGUF vocabularies) and WordPiece (from tokenizer.json).
