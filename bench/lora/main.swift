import Foundation
import LLM
import BenchSupport

checkArguments("bench-lora", usage: "usage: bench-lora [model.gguf]", positional: 1)

// bench-lora: what a LoRA adapter applied at run time costs, against the base model as the
// reference. Prints prompt and decode tokens/s without and with adapters of rank 8 and 16 on
// every projection of every layer (the worst case), and the ratio. Two rounds: timings on a
// shared 2-core machine are noisy.
//   swift run -c release bench-lora [model.gguf]
func print(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }   // unbuffered: figures survive a timeout
let path = CommandLine.arguments.dropFirst().first ?? "models/SmolLM2-135M-Instruct.Q4_1.gguf"
guard FileManager.default.fileExists(atPath: path) else {
    print("bench-lora: model \(path) not found — pass the path of a llama/qwen2 GGUF"); exit(1)
}
let engine = try Engine(path: path, context: 512, threads: 2)
let c = engine.config

/// A random adapter on all seven projections of every layer.
func adapter(rank: Int) -> LoRAAdapter {
    var seed: UInt64 = 42
    func r() -> Float { seed = seed &* 6364136223846793005 &+ 1442695040888963407; return Float(seed >> 40) / Float(1 << 24) - 0.5 }
    let dims: [Projection: (Int, Int)] = [.q: (c.embeddingLength, c.qDim), .k: (c.embeddingLength, c.kvDim), .v: (c.embeddingLength, c.kvDim),
                                          .o: (c.qDim, c.embeddingLength), .gate: (c.embeddingLength, c.feedForwardLength),
                                          .up: (c.embeddingLength, c.feedForwardLength), .down: (c.feedForwardLength, c.embeddingLength)]
    var pairs: [LoRAPair] = []
    for l in 0..<c.layerCount {
        for p in Projection.allCases {
            let (i, o) = dims[p]!
            pairs.append(LoRAPair(tensor: LoRANames.tensor(layer: l, p), layer: l, projection: p, rank: rank, inDim: i, outDim: o,
                                  a: (0..<rank * i).map { _ in r() * 0.01 }, b: (0..<o * rank).map { _ in r() * 0.01 }))
        }
    }
    return LoRAAdapter(name: "r\(rank)", path: "memory", format: .gguf, alpha: Float(rank), rsLoRA: false,
                       architecture: engine.file.architecture, baseModel: nil, huggingFaceRowOrder: false, pairs: pairs)
}

let prompt = engine.tokenizer.encode(String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 12))
func run(_ set: AdapterSet?) throws -> (prompt: Double, decode: Double) {
    let g = try engine.withAdapters(set) {
        try engine.generate(prompt: prompt, maxTokens: 64, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true })
    }
    return (g.promptTokensPerSecond, g.generationTokensPerSecond)
}

let sets = try [8, 16].map { try AdapterSet(model: engine.model, adapters: [(adapter(rank: $0), 1)]) }
print("model \(URL(fileURLWithPath: path).lastPathComponent), prompt \(prompt.count) tokens, 64 decoded; adapters on all 7 projections × \(c.layerCount) layers")
for round in 1...2 {
    let base = try run(nil)
    print(String(format: "round %d  base (reference): prompt %7.1f tok/s  decode %6.1f tok/s", round, base.prompt, base.decode))
    for set in sets {
        let ours = try run(set)
        print(String(format: "round %d  %-16@ prompt %7.1f tok/s  decode %6.1f tok/s  ratio prompt %.2f decode %.2f",
                     round, set.summary as NSString, ours.prompt, ours.decode, ours.prompt / base.prompt, ours.decode / base.decode))
    }
}
