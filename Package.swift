// swift-tools-version:6.0
import PackageDescription

// Numeric code is compiled optimised even in debug builds: Swift SIMD and tight loops are
// ~1000x slower at -Onone, which would make `swift test` on real models unusable.
// -target-cpu haswell lets FMA and F16C be used inline (the binary requires AVX2; see README).
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"])]
let fastFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-target-cpu", "haswell"])]

let package = Package(
    name: "Strata",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "strata", targets: ["CLI"]),
    ],
    targets: [
        // System libraries.
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // The one C target: integer SIMD inner loops Swift cannot express (pmaddubsw & co).
        .target(name: "CKernels", path: "Sources/CKernels",
                cSettings: [.unsafeFlags(["-O3"])]),

        // Layers, bottom up.
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CKernels"], swiftSettings: kernelFlags),
        .target(name: "GGUF", dependencies: ["Tensor"], swiftSettings: fastFlags),
        .target(name: "Tokenizers", swiftSettings: fastFlags),
        // The value types both L1 and L3 see: messages, requests, results, stop reasons.
        .target(name: "StrataCore", swiftSettings: fastFlags),
        .target(name: "LLM", dependencies: ["StrataCore", "Tensor", "GGUF", "Tokenizers"], swiftSettings: kernelFlags),
        .target(name: "Embeddings", dependencies: ["Tensor", "GGUF", "Tokenizers"], swiftSettings: kernelFlags),
        .target(name: "Knowledge", dependencies: ["CSQLite", "Tensor"], swiftSettings: fastFlags),
        .target(name: "Prompts", swiftSettings: fastFlags),
        .target(name: "Assistant", dependencies: ["StrataCore", "Knowledge", "Prompts", "Tensor"], swiftSettings: fastFlags),
        // OpenAI-compatible model servers behind the same protocols: Foundation's URLSession only.
        .target(name: "Remote", dependencies: ["StrataCore", "Assistant"], swiftSettings: fastFlags),
        // The application layer: configuration, shared resources (store, generator, encoder,
        // packs, adapters), adapter training, Ctrl-C. The CLI parses, calls it and renders.
        // It chooses between the in-process engine and a model server (Remote).
        .target(name: "Runtime", dependencies: ["StrataCore", "Assistant", "Knowledge", "Prompts", "LLM", "Embeddings", "Remote", "Tensor"],
                swiftSettings: fastFlags),
        // The datasets, records and scorers `strata eval` and the benchmarks share.
        .target(name: "Evaluation", dependencies: ["Assistant", "Knowledge", "Prompts", "Tensor"], swiftSettings: fastFlags),
        .executableTarget(name: "CLI",
                          dependencies: ["Runtime", "Remote", "Evaluation", "Knowledge", "Embeddings", "LLM", "Prompts", "Assistant", "Tensor", "GGUF", "Tokenizers", "CKernels"],
                          swiftSettings: fastFlags),

        // Benchmarks (programs, not tests): `swift run bench-kernels`.
        .executableTarget(name: "bench-kernels", dependencies: ["Tensor", "BenchSupport"], path: "bench/kernels",
                          swiftSettings: kernelFlags),
        // Benchmarks: programs that print our figure beside the reference and the ratio.
        .executableTarget(name: "bench-llm", dependencies: ["LLM", "Tensor", "BenchSupport"], path: "bench/llm", swiftSettings: kernelFlags),
        // Benchmarks (programs, not tests): swift run -c release bench-<name>.
        .executableTarget(name: "bench-embed", dependencies: ["Embeddings", "Tensor", "BenchSupport"], path: "bench/embed",
                          exclude: ["thresholds.json", "reference.py"], swiftSettings: kernelFlags),
        .executableTarget(name: "bench-search", dependencies: ["Tensor", "CKernels", "BenchSupport", "Embeddings"], path: "bench/search",
                          exclude: ["thresholds.json", "reference.py"], swiftSettings: kernelFlags),
        // Benchmarks: programs that print our figure, the reference and the ratio.
        .target(name: "BenchSupport", dependencies: ["Tensor"], path: "bench/support", swiftSettings: fastFlags),
        .executableTarget(name: "bench-fts", dependencies: ["Knowledge", "BenchSupport"], path: "bench/fts",
                          exclude: ["thresholds.json"], swiftSettings: fastFlags),
        .executableTarget(name: "bench-ingest", dependencies: ["Knowledge", "Embeddings", "BenchSupport"], path: "bench/ingest", swiftSettings: fastFlags),

        // Tests.
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels"]),
        .testTarget(name: "GGUFTests", dependencies: ["GGUF", "Tensor"]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "GGUF", "LLM"]),
        .testTarget(name: "LLMTests", dependencies: ["LLM", "GGUF", "Tensor", "Tokenizers"]),
        .testTarget(name: "EmbeddingsTests", dependencies: ["Embeddings", "Tokenizers", "GGUF", "Tensor"]),
        .testTarget(name: "KnowledgeTests", dependencies: ["Knowledge"], exclude: ["Fixtures"]),
        .testTarget(name: "PromptsTests", dependencies: ["Prompts"]),
        .testTarget(name: "AssistantTests", dependencies: ["Assistant", "Knowledge", "Prompts", "Tensor"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "CLITests", dependencies: []),
    ],
    swiftLanguageModes: [.v6]
)

// Benchmark (a program, not a test): GGUF open, tokenizer build and BPE throughput.
// Appended rather than listed above so that it merges cleanly beside the other branches' benches.
package.targets.append(
    .executableTarget(name: "bench-tokenizer", dependencies: ["GGUF", "Tokenizers", "LLM", "BenchSupport"], path: "bench/tokenizer",
                      exclude: ["thresholds.json"], swiftSettings: fastFlags))

// Benchmark (a program, not a test): the cost of LoRA adapters applied at run time.
package.targets.append(
    .executableTarget(name: "bench-lora", dependencies: ["LLM", "BenchSupport"], path: "bench/lora", swiftSettings: kernelFlags))
