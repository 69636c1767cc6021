import Foundation
import GGUF
@testable import LLM
import Tensor

/// A tiny random decoder written as a real F32 GGUF file (2 layers, dim 16, 4 query heads
/// sharing 2 kv heads, ffn 24, vocabulary 20), loaded through the engine's own loader.
enum TinyModel {
    static let dim = 16, heads = 4, kvHeads = 2, headDim = 4, ffn = 24, vocab = 20, layers = 2

    /// `qwen2` adds Q/K/V biases and rotates halves; `llama` rotates adjacent pairs.
    static func load(architecture: String = "llama", seed: UInt64 = 3, in dir: TempDir) throws -> DecoderModel {
        var rng = SplitMix64(seed: seed)
        func random(_ n: Int, _ scale: Float) -> [Float] { (0..<n).map { _ in (rng.nextUnit() * 2 - 1) * scale } }
        var w = try GGUFWriter()
        let a = architecture
        try w.set("general.architecture", .string(a))
        try w.set("\(a).block_count", .uint32(UInt32(layers)))
        try w.set("\(a).embedding_length", .uint32(UInt32(dim)))
        try w.set("\(a).attention.head_count", .uint32(UInt32(heads)))
        try w.set("\(a).attention.head_count_kv", .uint32(UInt32(kvHeads)))
        try w.set("\(a).feed_forward_length", .uint32(UInt32(ffn)))
        try w.set("\(a).context_length", .uint32(64))
        try w.set("\(a).rope.freq_base", .float32(10_000))
        try w.set("\(a).attention.layer_norm_rms_epsilon", .float32(1e-5))
        let q = heads * headDim, kv = kvHeads * headDim
        try w.addTensor("token_embd.weight", shape: [dim, vocab], floats: random(dim * vocab, 1))
        try w.addTensor("output_norm.weight", shape: [dim], floats: random(dim, 0.5).map { 1 + $0 })
        for l in 0..<layers {
            let p = "blk.\(l)."
            try w.addTensor(p + "attn_norm.weight", shape: [dim], floats: random(dim, 0.5).map { 1 + $0 })
            try w.addTensor(p + "ffn_norm.weight", shape: [dim], floats: random(dim, 0.5).map { 1 + $0 })
            // Large enough that attention is far from uniform and every path carries gradient.
            try w.addTensor(p + "attn_q.weight", shape: [dim, q], floats: random(dim * q, 0.8))
            try w.addTensor(p + "attn_k.weight", shape: [dim, kv], floats: random(dim * kv, 0.8))
            try w.addTensor(p + "attn_v.weight", shape: [dim, kv], floats: random(dim * kv, 0.5))
            try w.addTensor(p + "attn_output.weight", shape: [q, dim], floats: random(q * dim, 0.4))
            try w.addTensor(p + "ffn_gate.weight", shape: [dim, ffn], floats: random(dim * ffn, 0.5))
            try w.addTensor(p + "ffn_up.weight", shape: [dim, ffn], floats: random(dim * ffn, 0.5))
            try w.addTensor(p + "ffn_down.weight", shape: [ffn, dim], floats: random(ffn * dim, 0.3))
            if a == "qwen2" {
                try w.addTensor(p + "attn_q.bias", shape: [q], floats: random(q, 0.3))
                try w.addTensor(p + "attn_k.bias", shape: [kv], floats: random(kv, 0.3))
                try w.addTensor(p + "attn_v.bias", shape: [kv], floats: random(kv, 0.3))
            }
        }
        let path = dir.path("tiny-\(a)-\(seed).gguf")
        try w.write(to: path)
        return try ModelRegistry.load(ModelFile(path: path))
    }

    /// LoRA on every projection with B random too (B = 0, as training starts, would give A no gradient).
    static func lora(_ model: DecoderModel, rank: Int = 2, seed: UInt64 = 5) -> LoRAParameters {
        let p = LoRAParameters(config: model.config, rank: rank, alpha: 4, targets: Projection.allCases, seed: seed)
        var rng = SplitMix64(seed: seed &+ 1)
        for s in p.slots { for i in 0..<s.outDim * rank { p.values[s.b + i] = (rng.nextUnit() * 2 - 1) * 0.3 } }
        return p
    }
}

/// Central finite differences in Float, and how far an analytic gradient is from them.
enum FiniteDifference {
    /// ∂f/∂x[i] ≈ (f(x + h·e_i) − f(x − h·e_i)) / 2h for each i in `indices` (all by default).
    static func gradient(_ x: UnsafeMutablePointer<Float>, count: Int, h: Float = 1e-2, indices: [Int]? = nil,
                         _ f: () -> Double) -> [Float] {
        var g = [Float](repeating: 0, count: count)
        for i in indices ?? Array(0..<count) {
            let keep = x[i]
            x[i] = keep + h; let up = f()
            x[i] = keep - h; let down = f()
            x[i] = keep
            g[i] = Float((up - down) / Double(2 * h))
        }
        return g
    }

    /// ‖a − b‖ / max(‖a‖, ‖b‖): 0 for equal vectors, ~1 or more for unrelated ones.
    static func relativeError(_ a: [Float], _ b: [Float]) -> Double {
        var d = 0.0, na = 0.0, nb = 0.0
        for i in a.indices { d += Double(a[i] - b[i]) * Double(a[i] - b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
        return d.squareRoot() / max(na.squareRoot(), nb.squareRoot(), 1e-12)
    }
}
