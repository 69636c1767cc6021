// Module LLM.
//
// L1 + L2: decoder models (one file per architecture), KV cache, sampling, chat formats, LoRA adapters.
