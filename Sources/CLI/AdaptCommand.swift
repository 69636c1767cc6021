import Foundation
import LLM
import Prompts

/// `--adapters DIR`, shared by the commands that find adapters by name.
let adaptersOption = OptionSpec.value("adapters", "DIR", "adapter folder (default: $STRATA_ADAPTERS or ./adapters)")

/// Finding adapters by name and binding them to a loaded engine, for `generate`, `ask` and the rest.
enum AdapterWiring {
    static func library(_ args: ParsedArguments? = nil) -> AdapterLibrary {
        AdapterLibrary(directory: args?.value("adapters") ?? ProcessInfo.processInfo.environment["STRATA_ADAPTERS"] ?? "adapters")
    }

    /// Settles a pack's default adapter when the pack is loaded: kept when this machine has it
    /// and it was trained on this model, else cleared (the base model) with a note on stderr.
    /// Packs are shared data while adapters are trained per site and per base model, so a pack
    /// naming one must not make a fresh clone, or a run on another model, fail. An adapter named
    /// with --adapter is not softened (it overrides the default, and loads or the command fails).
    static func settlePackDefault(_ pack: inout PromptPack, _ args: ParsedArguments) {
        guard let name = pack.adapter, args.value("adapter") == nil else { return }
        if RemoteWiring.isRemote(args) {
            if !RemoteWiring.settlePackAdapter(name, pack: pack.name, args: args) { pack.adapter = nil }
            return
        }
        let model = args.value("model") ?? ProcessInfo.processInfo.environment["STRATA_MODEL"] ?? ModelDefaults.path
        if model == "extractive" || model == "none" { pack.adapter = nil; return }
        let lib = library(args)
        guard let path = try? lib.locate(name) else {
            writeErr("note: pack '\(pack.name)' names adapter '\(name)', which is not in \(lib.directory.path)/ — using the base model (make it with 'strata adapt train --name \(name) …', or pass --adapter)\n")
            pack.adapter = nil
            return
        }
        // Our training writes a sidecar naming the base model; another base means other shapes.
        let sidecar = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("json").path
        if let data = FileManager.default.contents(atPath: sidecar),
           let info = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let base = info["base_model"] as? String, base != URL(fileURLWithPath: model).lastPathComponent {
            writeErr("note: pack '\(pack.name)' names adapter '\(name)', trained on \(base), not on \(URL(fileURLWithPath: model).lastPathComponent) — using the base model\n")
            pack.adapter = nil
        }
    }

    /// Loads each `NAME[:SCALE]` (the spec's scale multiplies `scale`) and binds them to `engine`'s
    /// model; nil for none. `cache` keeps adapters already read, keyed by path.
    static func set(_ specs: [(name: String, scale: Float)], engine: Engine, library: AdapterLibrary,
                    cache: inout [String: LoRAAdapter]) throws -> AdapterSet? {
        guard !specs.isEmpty else { return nil }
        var list: [(adapter: LoRAAdapter, scale: Float)] = []
        for spec in specs {
            let (name, specScale) = try AdapterLibrary.parseSpec(spec.name)
            let path = try library.locate(name)
            let adapter = try cache[path] ?? library.load(path)
            cache[path] = adapter
            list.append((adapter, spec.scale * specScale))
        }
        return try AdapterSet(model: engine.model, adapters: list)
    }
}

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
        let lib = AdapterWiring.library(args)
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
                      + pad(AdapterSidecar.heldOutPerplexity(lib, n).map { String(format: "%.3f", $0) } ?? "-", 13)
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
        let a = try AdapterWiring.library(args).load(args.positionals[0])
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
        let lib = AdapterWiring.library(args)
        if let side = AdapterSidecar.read(lib, a.name) {
            func number(_ k: String) -> Double? { (side[k] as? NSNumber)?.doubleValue }
            if let ppl = number("held_out_perplexity"), let loss = number("held_out_loss") {
                print(String(format: "held-out:    perplexity %.3f (loss %.4f) on %d sequences", ppl, loss, Int(number("held_out_sequences") ?? 0))
                      + (number("base_held_out_perplexity").map { String(format: "; base model %.3f", $0) } ?? ""))
            }
            if let steps = number("steps"), let tokens = number("tokens_seen") {
                print("trained:     \(Int(steps)) steps, \(Int(tokens)) tokens" + (number("final_train_loss").map { String(format: ", final train loss %.4f", $0) } ?? ""))
            }
            if let sha = side["base_model_sha256"] as? String { print("base sha256: \(sha)") }
        }
        if let model = args.value("model") {
            guard FileManager.default.fileExists(atPath: model) else {
                throw CLIError.failed("model file \(model) not found — pass --model PATH to a .gguf file")
            }
            let engine = try Engine(path: model, context: 16, threads: 1)
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
        print("removed \(try AdapterWiring.library(args).remove(args.positionals[0]))")
        return 0
    }
}
