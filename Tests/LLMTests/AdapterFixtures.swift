import Foundation
import GGUF
@testable import LLM

/// A random LoRA written to disk in both formats, built from first principles (GGUFWriter and a
/// hand-written safetensors file), independent of the loader under test.
struct TestLoRA {
    struct Pair {
        var layer: Int
        var module: String          // PEFT name: q_proj, k_proj, down_proj, ...
        var inDim: Int, outDim: Int
        var a: [Float]              // (rank, in)
        var b: [Float]              // (out, rank), in GGUF (llama-permuted) row order
    }
    var rank: Int
    var alpha: Float
    var pairs: [Pair]
    var architecture = "llama"

    static let ggufNames = ["q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
                            "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"]
    static let groups = ["q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
                         "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"]

    /// SmolLM2-135M dims: dim 576, q 576 (9 heads × 64), kv 192 (3 heads), ffn 1536.
    static func dims(_ module: String) -> (inDim: Int, outDim: Int) {
        switch module {
        case "q_proj", "o_proj": (576, 576)
        case "k_proj", "v_proj": (576, 192)
        case "gate_proj", "up_proj": (576, 1536)
        default: (1536, 576)
        }
    }

    /// Random A ~ U(-1, 1)/√in and B ~ U(-bScale, bScale) from a fixed seed.
    static func random(layers: [Int], modules: [String], rank: Int = 4, alpha: Float = 8, bScale: Float = 0.05,
                       zeroB: Bool = false, seed: UInt64 = 7) -> TestLoRA {
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Double(state >> 11) / Double(1 << 53)) * 2 - 1
        }
        var pairs: [Pair] = []
        for l in layers {
            for m in modules {
                let (i, o) = dims(m)
                let a = (0..<rank * i).map { _ in next() / Float(i).squareRoot() }
                let b = (0..<o * rank).map { _ in zeroB ? 0 : next() * bScale }
                pairs.append(Pair(layer: l, module: m, inDim: i, outDim: o, a: a, b: b))
            }
        }
        return TestLoRA(rank: rank, alpha: alpha, pairs: pairs)
    }

    func writeGGUF(_ path: String, alpha: Float? = nil, type: String = "adapter") throws {
        var w = try GGUFWriter()
        try w.set("general.architecture", .string(architecture))
        try w.set("general.type", .string(type))
        try w.set("adapter.type", .string("lora"))
        try w.set("adapter.lora.alpha", .float32(alpha ?? self.alpha))
        for p in pairs {
            let base = "blk.\(p.layer).\(Self.ggufNames[p.module]!).weight"
            try w.addTensor(base + ".lora_a", shape: [p.inDim, rank], floats: p.a)
            try w.addTensor(base + ".lora_b", shape: [rank, p.outDim], floats: p.b)
        }
        try w.write(to: path)
    }

    /// Hugging Face row order of a Q/K B matrix: HF rotates the pairs (i, i + d/2) of each head,
    /// llama.cpp's GGUF the adjacent pairs (2i, 2i + 1), so GGUF row 2i is HF row i and GGUF row
    /// 2i + 1 is HF row i + d/2 within each head of d = 64 rows.
    static func huggingFaceOrder(_ b: [Float], rank: Int, outDim: Int) -> [Float] {
        let d = 64, half = d / 2
        var hf = b
        for h in 0..<outDim / d {
            for i in 0..<half {
                for c in 0..<rank {
                    hf[(h * d + i) * rank + c] = b[(h * d + 2 * i) * rank + c]
                    hf[(h * d + half + i) * rank + c] = b[(h * d + 2 * i + 1) * rank + c]
                }
            }
        }
        return hf
    }

    /// A PEFT folder. `permuteQK: false` writes B in GGUF order (what a naive converter would do).
    func writePEFT(_ dir: URL, config: [String: Any]? = nil, permuteQK: Bool = true, skipWeights: Bool = false) throws {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cfg = config ?? ["peft_type": "LORA", "r": rank, "lora_alpha": alpha, "use_rslora": false, "fan_in_fan_out": false,
                             "target_modules": Array(Set(pairs.map(\.module))).sorted(),
                             "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct"]
        try JSONSerialization.data(withJSONObject: cfg).write(to: dir.appendingPathComponent("adapter_config.json"))
        guard !skipWeights else { return }
        var tensors: [(String, [Int], [Float])] = []
        for p in pairs {
            let prefix = "base_model.model.model.layers.\(p.layer).\(Self.groups[p.module]!).\(p.module)"
            let b = permuteQK && (p.module == "q_proj" || p.module == "k_proj") ? Self.huggingFaceOrder(p.b, rank: rank, outDim: p.outDim) : p.b
            tensors.append((prefix + ".lora_A.weight", [rank, p.inDim], p.a))
            tensors.append((prefix + ".lora_B.weight", [p.outDim, rank], b))
        }
        try Self.writeSafeTensors(tensors, to: dir.appendingPathComponent("adapter_model.safetensors"))
    }

    static func writeSafeTensors(_ tensors: [(String, [Int], [Float])], to url: URL) throws {
        var header: [String: Any] = ["__metadata__": ["format": "pt"]]
        var data = Data(), offset = 0
        for (name, shape, values) in tensors {
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * values.count]]
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            offset += 4 * values.count
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json); out.append(data)
        try out.write(to: url)
    }
}

/// A temporary folder removed when the test ends.
final class TempDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("strata-lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
