// Module Prompts.
//
// L3 prompt packs: strict decoding, a small template renderer.
