import Foundation
import LLM
import Tensor
import BenchSupport

// Prompt processing (pp) and generation (tg) speed of the engine beside llama-bench's figures
// on this machine (../shared/reference/llama.cpp/bench_llama_bench.json), with the ratio.
// Usage: swift run -c release bench-llm [--quick] [--llama-bench PATH] [--models smollm2|qwen] [--threads 1|2] [--pp 64,256]
//        [--blas-min-tokens N] [--arithmetic interleaved|row-exact] [--depth N]
// --depth N: the generation test starts after an N-token prompt (llama-bench -d N), which is what
// answering from retrieved passages looks like; the cache read per token grows with it.
//
// The recorded figures were taken on the host the VM had then; a VM can land on a slower host
// (the same sgemm has measured 2.8x slower), so with --llama-bench (or $LLAMA_BENCH) pointing
// at a llama-bench binary, each test also runs llama.cpp right after ours, in the same run,
// and the last column is the ratio to that.

/// llama-bench's tokens/s for one test, run now (nil when it fails).
func llamaBenchNow(_ binary: String?, model: String, pp: Int, tg: Int, threads: Int, depth: Int = 0) -> Double? {
    guard let binary else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["-m", model, "-t", String(threads), "-r", "2", "-o", "json", "-p", String(pp), "-n", String(tg)]
        + (depth > 0 ? ["-d", String(depth)] : [])
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0, let rows = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else { return nil }
    return rows.compactMap { ($0["avg_ts"] as? NSNumber)?.doubleValue }.first
}

func column(_ v: Double?, _ ours: Double) -> String {
    v.map { String(format: "%9.1f  %5.2fx", $0, ours / $0) } ?? "        -       -"
}

struct Row { let model: String; let test: String; let threads: Int; let ours: Double; let reference: Double? }

/// llama-bench's median tokens/s for `model` and test key like "t2_pp512".
func reference(_ json: [String: Any]?, model: String, test: String, threads: Int) -> Double? {
    let results = json?["results"] as? [String: Any]
    let entry = (results?[model] as? [String: Any])?["t\(threads)_\(test)"] as? [String: Any]
    return (entry?["median_tok_s"] as? NSNumber)?.doubleValue
}

func peakRSSMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM") }) else { return 0 }
    return Double(line.split(separator: " ").dropFirst().first.flatMap { Double($0) } ?? 0) / 1024
}

// Unbuffered writes, so figures survive a timeout when the output is piped.
func emit(_ s: String) { FileHandle.standardOutput.write(Data((s + "\n").utf8)) }
let usage = "usage: bench-llm [--quick] [--llama-bench PATH] [--models smollm2|qwen] [--threads N] [--pp 64,256] [--blas-min-tokens N] [--arithmetic interleaved|row-exact] [--depth N]"
checkArguments("bench-llm", usage: usage, flags: ["--quick"],
               valued: ["--llama-bench", "--models", "--threads", "--pp", "--blas-min-tokens", "--arithmetic", "--depth"])
let quick = CommandLine.arguments.contains("--quick")
// --arithmetic: how prompts are multiplied (PromptArithmetic; default the engine's).
let arithmetic: PromptArithmetic = {
    guard let i = CommandLine.arguments.firstIndex(of: "--arithmetic") else { return .standard }
    guard let a = PromptArithmetic(rawValue: CommandLine.arguments[i + 1]) else {
        print("--arithmetic takes \(PromptArithmetic.allCases.map(\.rawValue).joined(separator: " or "))"); exit(2)
    }
    return a
}()
// --blas-min-tokens N: prompts of N tokens or more go to dequantize+sgemm, shorter ones to the
// integer kernels (default: the engine's per-type thresholds). --models smollm2|qwen: one model.
if let i = CommandLine.arguments.firstIndex(of: "--blas-min-tokens"), i + 1 < CommandLine.arguments.count {
    guard let n = Int(CommandLine.arguments[i + 1]), n > 0 else { print("--blas-min-tokens wants a positive count"); exit(2) }
    WeightMatrix.blasMinTokensOverride = n
}
// --pp 64,256: prompt lengths to time on both thread counts (default: pp128 on 2, pp512 on both).
let depth: Int = {
    guard let i = CommandLine.arguments.firstIndex(of: "--depth") else { return 0 }
    guard let n = Int(CommandLine.arguments[i + 1]), n >= 0 else { print("--depth wants a token count ≥ 0"); exit(2) }
    return n
}()
let ppList = CommandLine.arguments.firstIndex(of: "--pp").flatMap { i in
    i + 1 < CommandLine.arguments.count ? CommandLine.arguments[i + 1].split(separator: ",").compactMap { Int($0) } : nil }
let threadList = CommandLine.arguments.firstIndex(of: "--threads").flatMap { i in
    i + 1 < CommandLine.arguments.count ? Int(CommandLine.arguments[i + 1]).map { [$0] } : nil } ?? [2, 1]
let only = CommandLine.arguments.firstIndex(of: "--models").flatMap { i in i + 1 < CommandLine.arguments.count ? CommandLine.arguments[i + 1] : nil }
let refs = FileManager.default.contents(atPath: "../shared/reference/llama.cpp/bench_llama_bench.json")
    .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }
let models = [("models/SmolLM2-135M-Instruct.Q4_1.gguf", "smollm2-135m-instruct-q4_1"),
              ("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "qwen2.5-coder-1.5b-instruct-q4_k_m")]
let llamaBench: String? = {
    let args = CommandLine.arguments
    if let i = args.firstIndex(of: "--llama-bench"), i + 1 < args.count { return args[i + 1] }
    return ProcessInfo.processInfo.environment["LLAMA_BENCH"]
}()
if let b = llamaBench, !FileManager.default.isExecutableFile(atPath: b) {
    print("--llama-bench \(b): not an executable — build llama.cpp's llama-bench or drop the option"); exit(2)
}
emit(hostLine())
emit("prompt arithmetic: \(arithmetic.rawValue)")
emit("model                                test    thr   ours t/s   llama.cpp (recorded)  ratio   llama.cpp (this run)  ratio")
for (path, name) in models {
    guard FileManager.default.fileExists(atPath: path) else { print("\(name): absent, skipped"); continue }
    if quick && name.hasPrefix("qwen") { continue }
    if let only, !name.hasPrefix(only) { continue }
    for threads in threadList {
        let engine = try Engine(path: path, context: max(640, (ppList?.max() ?? 0) + 16, depth + 160), threads: threads, batchSize: 512, arithmetic: arithmetic)
        let vocab = Int32(engine.config.vocabularySize)
        var rng = SystemRandomNumberGenerator()
        for pp in ppList ?? [128, 512] where ppList != nil || !(threads == 1 && pp == 128) {
            let prompt = (0..<pp).map { _ in Int32.random(in: 0..<vocab, using: &rng) }
            var best = 0.0
            for _ in 0..<2 {
                let s = engine.sequence(); s.reset()
                let t0 = Date()
                try engine.evaluate(prompt, state: s)
                best = max(best, Double(pp) / Date().timeIntervalSince(t0))
            }
            let ref = reference(refs, model: name, test: "pp\(pp)", threads: threads)
            let now = llamaBenchNow(llamaBench, model: path, pp: pp, tg: 0, threads: threads)
            emit(String(format: "%-36@ pp%-4d  %d   %8.1f   %@        %@", name as NSString, pp, threads, best,
                         column(ref, best) as NSString, column(now, best) as NSString))
        }
        let n = threads == 2 ? 128 : 64
        // The second run reuses the first's cached prompt: only generation is timed.
        let prompt = depth > 0 ? (0..<depth).map { _ in Int32.random(in: 0..<vocab, using: &rng) } : [1]
        var best = 0.0
        for _ in 0..<2 {
            let g = try engine.generate(prompt: prompt, maxTokens: n, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true })
            best = max(best, g.generationTokensPerSecond)
        }
        let ref = depth > 0 ? nil : reference(refs, model: name, test: "tg\(n)", threads: threads)
        let now = llamaBenchNow(llamaBench, model: path, pp: 0, tg: n, threads: threads, depth: depth)
        let test = depth > 0 ? "tg\(n)@d\(depth)" : "tg\(n)"
        emit(String(format: "%-36@ %-7@ %d   %8.1f   %@        %@", name as NSString, test as NSString, threads, best,
                     column(ref, best) as NSString, column(now, best) as NSString))
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    emit(String(format: "%@: peak RSS so far %.0f MiB (file %.0f MiB)", name, peakRSSMiB(), Double(size) / 1048576))
}
