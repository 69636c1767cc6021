// Module GGUF.
//
// GGUF and safetensors readers: memory-mapped, bounds-checked, no copy of the weights.
