import Foundation
import LLM
import Runtime

/// `--adapters DIR`, shared by the commands that find adapters by name.
let adaptersOption = OptionSpec.value("adapters", "DIR", "adapter folder (default: $STRATA_ADAPTERS or ./adapters)")

struct AdaptListCommand: CLICommand {
    static let name = "adapt list"
    static let summary = "list the LoRA adapters in the adapter folder"
    static let usage = """
    Usage: strata adapt list [--adapters DIR]

    Adapters are llama.cpp LoRA files (NAME.gguf) or PEFT folders (NAME/ with adapter_config.json
    and adapter_model.safetensors). Use one with 'strata generate --adapter NAME[:SCALE]' or
    'strata ask --adapter NAME'.
    """
    static let options = [adaptersOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("'adapt list' takes no arguments", command: name) }
        let lib = args.runtime.adapterLibrary
        let names = lib.names()
        if names.isEmpty {
            print("no adapters in \(lib.directory.path) — put NAME.gguf (llama.cpp LoRA) or a PEFT folder NAME/ there")
            return 0
        }
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count + 1), withPad: " ", startingAt: 0) }
        // HELD-OUT PPL comes from the sidecar NAME.json that 'adapt train' writes ("-" without one).
        print(pad("NAME", 20) + pad("FORMAT", 7) + pad("RANK", 6) + pad("ALPHA", 7) + pad("TARGETS", 40) + pad("HELD-OUT PPL", 13) + "BASE MODEL")
        var failed = false
        for n in names {
            do {
                let a = try lib.load(n)
                print(pad(n, 20) + pad(a.format.rawValue, 7) + pad(a.ranks.map(String.init).joined(separator: ","), 6)
                      + pad(a.alpha.map { String(format: "%g", $0) } ?? "-", 7) + pad(a.targets.joined(separator: ","), 40)
                      + pad(AdapterManifest.read(lib, n)?.heldOutPerplexity.map { String(format: "%.3f", $0) } ?? "-", 13)
                      + (a.baseModel ?? "unknown"))
            } catch {
                failed = true
                print(pad(n, 20) + "INVALID: \(error.localizedDescription)")
            }
        }
        return failed ? 1 : 0
    }
}

struct AdaptShowCommand: CLICommand {
    static let name = "adapt show"
    static let summary = "show a LoRA adapter's rank, alpha, targets and base model"
    static let usage = """
    Usage: strata adapt show NAME|PATH [--adapters DIR] [--model PATH]

    With --model, also checks that every adapter tensor fits that model.
    """
    static let options = [adaptersOption, .value("model", "PATH", "check the adapter against this GGUF model")]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw CLIError.usage("give one adapter name (see 'strata adapt list')", command: name) }
        let lib = args.runtime.adapterLibrary
        let a = try lib.load(args.positionals[0])
        let scales = Set(a.pairs.map { a.scale(of: $0) }).sorted().map { String(format: "%g", $0) }
        print("""
        name:        \(a.name)
        path:        \(a.path)
        format:      \(a.format == .gguf ? "gguf (llama.cpp LoRA)" : "peft (Hugging Face)")
        base model:  \(a.baseModel ?? "unknown")\(a.architecture.map { " (\($0))" } ?? "")
        rank:        \(a.ranks.map(String.init).joined(separator: ", "))
        alpha:       \(a.alpha.map { String(format: "%g", $0) } ?? "none (scale 1)")\(a.rsLoRA ? " (rsLoRA: alpha/√r)" : "")
        scale:       \(scales.joined(separator: ", ")) (× the scale given with --adapter NAME:SCALE)
        targets:     \(a.targets.joined(separator: ", "))
        layers:      \(a.layers.count) (\(a.layers.map(String.init).joined(separator: ",")))
        parameters:  \(a.parameterCount) in \(a.pairs.count) pairs
        """)
        if let m = AdapterManifest.read(lib, a.name) {
            if let ppl = m.heldOutPerplexity, let loss = m.heldOutLoss {
                print(String(format: "held-out:    perplexity %.3f (loss %.4f) on %d sequences", ppl, loss, m.heldOutSequences ?? 0)
                      + (m.baseHeldOutPerplexity.map { String(format: "; base model %.3f", $0) } ?? ""))
            }
            if let steps = m.steps, let tokens = m.tokensSeen {
                print("trained:     \(steps) steps, \(tokens) tokens" + (m.finalTrainLoss.map { String(format: ", final train loss %.4f", $0) } ?? ""))
            }
            if let sha = m.baseModelSHA256 { print("base sha256: \(sha)") }
        }
        if let model = args.value("model") {
            guard FileManager.default.fileExists(atPath: model) else {
                throw CLIError.failed("model file \(model) not found — pass --model PATH to a .gguf file")
            }
            let engine = try args.runtime.engine(model: model, context: 16, threads: 1)
            _ = try AdapterSet(model: engine.model, adapters: [(a, 1)])
            print("fits:        \(URL(fileURLWithPath: model).lastPathComponent) (every tensor and shape checked)")
        }
        return 0
    }
}

struct AdaptRemoveCommand: CLICommand {
    static let name = "adapt rm"
    static let summary = "delete a LoRA adapter from the adapter folder"
    static let usage = "Usage: strata adapt rm NAME [--adapters DIR]"
    static let options = [adaptersOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else { throw CLIError.usage("give one adapter name (see 'strata adapt list')", command: name) }
        print("removed \(try args.runtime.adapterLibrary.remove(args.positionals[0]))")
        return 0
    }
}
