import Foundation
import LLM
import Tensor
import BenchSupport

// Prompt processing (pp) and generation (tg) speed of the engine beside llama-bench's figures
// on this machine (../shared/reference/llama.cpp/bench_llama_bench.json), with the ratio.
// Usage: swift run -c release bench-llm [--quick] [--llama-bench PATH] [--models smollm2|qwen] [--threads 1|2] [--pp 64,256]
//        [--blas-min-tokens N] [--arithmetic interleaved|row-exact] [--depth N[,N…]] [--kv f16|f32] [--no-limits] [--no-fuse]
// --no-fuse: the decode step runs q, k, v and gate, up as separate matvecs, each its own pool call
// (as before), to compare the two in one run. --profile: where a decode step's time goes (below).
// --profile-prompt: where a 512-token prompt batch's time goes, stage by stage and per matrix.
// --depth N: the generation test starts after an N-token prompt (llama-bench -d N), which is what
// answering from retrieved passages looks like; the cache read per token grows with it.
// The last column puts each figure against this host's ceiling measured at the start of the run:
// tg against read-only bandwidth ÷ (weight bytes + KV bytes) per token, pp against the int8
// multiply-add rate of the kernel path's instruction ÷ multiply-adds per token.
//
// The recorded figures were taken on the host the VM had then; a VM can land on a slower host
// (the same sgemm has measured 2.8x slower), so with --llama-bench (or $LLAMA_BENCH) pointing
// at a llama-bench binary, each test also runs llama.cpp right after ours, in the same run,
// and the last column is the ratio to that.

/// llama-bench's tokens/s for one test, run now: its fastest run (nil when it fails).
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
    // The fastest of its runs, as ours is the fastest of two: on a shared host the mean of
    // llama-bench's runs (what this took before) counted another process's bursts against
    // llama.cpp only.
    return rows.compactMap { row in
        ((row["samples_ts"] as? [NSNumber])?.map(\.doubleValue).max()) ?? (row["avg_ts"] as? NSNumber)?.doubleValue
    }.first
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
let usage = "usage: bench-llm [--quick] [--llama-bench PATH] [--models smollm2|qwen] [--threads N] [--pp 64,256] [--blas-min-tokens N] [--arithmetic interleaved|row-exact] [--depth N[,N…]] [--kv f16|f32] [--no-limits] [--no-fuse] [--profile] [--profile-prompt]"
checkArguments("bench-llm", usage: usage, flags: ["--quick", "--no-limits", "--no-fuse", "--profile", "--profile-prompt"],
               valued: ["--llama-bench", "--models", "--threads", "--pp", "--blas-min-tokens", "--arithmetic", "--depth", "--kv"])
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
// --depth 2048,4096: the generation test runs after each of these prompt lengths instead of
// after one token (llama-bench -d N); --kv f16|f32: how the KV cache stores keys and values.
let depths: [Int] = {
    guard let i = CommandLine.arguments.firstIndex(of: "--depth") else { return [0] }
    let list = CommandLine.arguments[i + 1].split(separator: ",").map { Int($0) }
    guard !list.isEmpty, list.allSatisfy({ ($0 ?? -1) >= 0 }) else { print("--depth wants token counts ≥ 0, e.g. 2048,4096"); exit(2) }
    return list.map { $0! }
}()
let kvCache: KVCacheType = {
    guard let i = CommandLine.arguments.firstIndex(of: "--kv") else { return .f16 }
    guard let k = KVCacheType(rawValue: CommandLine.arguments[i + 1]) else { print("--kv takes f16 or f32"); exit(2) }
    return k
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
if CommandLine.arguments.contains("--no-fuse") { WeightMatrix.fusesMatvecs = false }
emit(hostLine())
emit("prompt arithmetic: \(arithmetic.rawValue); KV cache: \(kvCache.rawValue); decode matvecs \(WeightMatrix.fusesMatvecs ? "fused" : "separate")")
// The ceilings, measured now (they move with the host and with what else runs): decode can go no
// faster than bandwidth ÷ bytes read per token, prompts no faster than the int8 multiply-add rate
// ÷ multiply-adds per token.
var bandwidth: [Int: Double] = [:], int8Rate: [Int: Double] = [:]
if !CommandLine.arguments.contains("--no-limits") {
    for t in threadList {
        bandwidth[t] = readBandwidthGBs(threads: t)
        int8Rate[t] = int8MultiplyAddsPerSecond(threads: t)
        emit(String(format: "limits, %d thread%@: read-only bandwidth %.1f GB/s; int8 multiply-adds (%@) %.0f G/s", t, (t == 1 ? "" : "s") as NSString,
                    bandwidth[t]!, CPUFeatures.kernelPath.rawValue as NSString, int8Rate[t]! / 1e9))
    }
}
emit("model                                test         thr   ours t/s   llama.cpp (recorded)  ratio   llama.cpp (this run)  ratio   share of the limit")

/// Weight bytes a decode step streams (every projection and the output matrix) and the int8
/// multiply-adds a prompt token costs (every projection; the output only for the last token).
func perToken(_ m: DecoderModel) -> (bytes: Double, macs: Double) {
    var bytes = m.output.byteCount, macs = 0
    for L in m.layers {
        for w in [L.wq, L.wk, L.wv, L.wo, L.gate, L.up, L.down] { bytes += w.byteCount; macs += w.rows * w.cols }
    }
    return (Double(bytes), Double(macs))
}

/// Where a decode step's time goes, by taking it apart: the whole step (one token at a short
/// context); only its matrix products, as the step issues them (one pool call per matrix, or
/// q/k/v and gate/up fused); the same products with no pool (one thread, kernels back to back,
/// so what is left over is wake-ups and barriers); and one empty pool call (the cost of a barrier).
func profileDecode(_ engine: Engine, threads: Int) {
    let m = engine.model, c = m.config, pool = engine.pool, scratch = MatVecScratch(maxCols: max(c.embeddingLength, c.qDim, c.feedForwardLength))
    let widest = max(c.embeddingLength, c.qDim, c.feedForwardLength, c.vocabularySize)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: widest), y = UnsafeMutablePointer<Float>.allocate(capacity: 4 * widest)
    defer { x.deallocate(); y.deallocate() }
    for i in 0..<widest { x[i] = Float(i % 7) * 0.1 - 0.3 }
    let serial = ThreadPool(threads: 1)
    func step(fused: Bool, pool: ThreadPool) {
        for L in m.layers {
            if fused {
                WeightMatrix.matvec(L.wq, y, L.wk, y + widest, L.wv, y + 2 * widest, x: x, scratch: scratch, pool: pool)
            } else {
                for w in [L.wq, L.wk, L.wv] { w.matvec(x, y, scratch: scratch, pool: pool) }
            }
            L.wo.matvec(x, y, scratch: scratch, pool: pool)
            if fused { WeightMatrix.matvec(L.gate, y, L.up, y + widest, x: x, scratch: scratch, pool: pool) }
            else { for w in [L.gate, L.up] { w.matvec(x, y, scratch: scratch, pool: pool) } }
            L.down.matvec(x, y, scratch: scratch, pool: pool)
        }
        m.output.matvec(x, y, scratch: scratch, pool: pool)
    }
    func ms(_ body: () -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<15 { let t0 = now(); body(); times.append((now() - t0) * 1000) }
        return median(times)
    }
    let saved = WeightMatrix.fusesMatvecs
    WeightMatrix.fusesMatvecs = true
    let whole = ms { _ = try? engine.generate(prompt: [1], maxTokens: 8, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true }) } / 8
    let separate = ms { step(fused: false, pool: pool) }, fused = ms { step(fused: true, pool: pool) }
    let alone = ms { step(fused: true, pool: serial) }
    let barrier = ms { for _ in 0..<1000 { pool.parallelFor(2 * threads, chunk: 1) { _ in } } }   // µs per call
    WeightMatrix.fusesMatvecs = saved
    emit(String(format: "profile, %d thread%@: decode step %.3f ms (incl. 1/8 of a 1-token prompt); its matvecs %.3f ms as 7 pool calls a layer, %.3f ms as 4 (fused); on one thread without the pool %.3f ms; an empty pool call %.1f µs (%d a step: %.3f ms)",
                threads, (threads == 1 ? "" : "s") as NSString, whole, separate, fused, alone, barrier, 4 * c.layerCount + 1, barrier * Double(4 * c.layerCount + 1) / 1000))
    profileStages(engine, threads: threads)
}

/// The decode step stage by stage (`StageClock`): 64 tokens generated after a 1-token prompt,
/// the time of each stage per token, with the greedy pick (argmax over the vocabulary) and the
/// activation quantizing that the matvec stages include, timed on their own.
func profileStages(_ engine: Engine, threads: Int) {
    let m = engine.model, c = m.config, clock = StageClock()
    var picking = 0.0
    DecoderModel.stageClock = clock
    var best: [Double] = [], bestTotal = Double.infinity, bestPick = 0.0
    for _ in 0..<3 {   // the fastest of three runs: the one least disturbed by other processes
        clock.reset(); picking = 0
        let g = try? engine.generate(prompt: [1], maxTokens: 64, stopTokens: [], next: { l, _ in
            let t0 = now(); let t = Engine.argmax(l); picking += now() - t0; return t
        }, onToken: { _ in true })
        let total = clock.seconds.reduce(0, +) + picking
        if g != nil, total < bestTotal { bestTotal = total; best = clock.seconds.map { $0 / Double(clock.passes) }; bestPick = picking / 64 }
    }
    DecoderModel.stageClock = nil
    // What the matvec stages spend quantizing activations (the rest is the pool and the kernels).
    let widest = max(c.embeddingLength, c.feedForwardLength)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: widest), q = UnsafeMutablePointer<Int8>.allocate(capacity: widest)
    let d = UnsafeMutablePointer<Float>.allocate(capacity: widest / 32), s = UnsafeMutablePointer<Float>.allocate(capacity: widest / 32)
    let bs = UnsafeMutablePointer<Int16>.allocate(capacity: widest / 16)
    defer { x.deallocate(); q.deallocate(); d.deallocate(); s.deallocate(); bs.deallocate() }
    for i in 0..<widest { x[i] = sin(Float(i)) }
    let format: ActivationFormat = m.layers[0].wq.type == .q4_1 ? .q8_1 : (m.layers[0].wq.type.blockSize == 256 ? .q8_K : .q8_0)
    func quantizeSeconds(_ n: Int) -> Double {
        var times: [Double] = []
        for _ in 0..<7 {
            let t0 = now()
            for _ in 0..<200 { ActivationQuant.quantize(x, count: n, format: format, q: q, d: d, s: s, bsums: bs) }
            times.append((now() - t0) / 200)
        }
        return median(times)
    }
    let quantize = Double(c.layerCount) * (3 * quantizeSeconds(c.embeddingLength) + quantizeSeconds(c.feedForwardLength)) + quantizeSeconds(c.embeddingLength)
    let step = best.reduce(0, +) + bestPick
    emit(String(format: "stages, %d thread%@ (µs per token, share of %.0f µs):", threads, (threads == 1 ? "" : "s") as NSString, step * 1e6))
    for stage in StageClock.Stage.allCases {
        emit(String(format: "  %-30@ %7.1f  %4.1f%%", stage.label as NSString, best[stage.rawValue] * 1e6, 100 * best[stage.rawValue] / step))
    }
    emit(String(format: "  %-30@ %7.1f  %4.1f%%", "greedy pick (argmax)" as NSString, bestPick * 1e6, 100 * bestPick / step))
    emit(String(format: "  (the matvec stages include quantizing activations, %.1f µs a token on one thread alone)", quantize * 1e6))
}

/// Where a prompt batch's time goes: one `pp`-token batch stage by stage (`StageClock`, the
/// fastest of three runs), then each distinct projection shape's product alone on the same
/// batch (G multiply-adds/s of its kernel path, activation quantizing included), and the
/// quantizing alone, so the products' stages can be split into kernel and quantizing.
func profilePrompt(_ engine: Engine, threads: Int, pp: Int) throws {
    let m = engine.model, c = m.config, clock = StageClock()
    var rng = SystemRandomNumberGenerator()
    let prompt = (0..<pp).map { _ in Int32.random(in: 0..<Int32(c.vocabularySize), using: &rng) }
    var best: [Double] = [], bestTotal = Double.infinity
    DecoderModel.stageClock = clock
    for _ in 0..<3 {
        clock.reset()
        let s = engine.sequence(); s.reset()
        _ = try engine.evaluate(prompt, state: s)
        let total = clock.seconds.reduce(0, +)
        if total < bestTotal { bestTotal = total; best = clock.seconds }
    }
    DecoderModel.stageClock = nil
    emit(String(format: "prompt stages, pp%d, %d thread%@ (ms per batch, share of %.1f ms = %.1f t/s):", pp, threads,
                (threads == 1 ? "" : "s") as NSString, bestTotal * 1e3, Double(pp) / bestTotal))
    for stage in StageClock.Stage.allCases where best[stage.rawValue] > 0 {
        emit(String(format: "  %-30@ %8.2f  %4.1f%%", stage.label as NSString, best[stage.rawValue] * 1e3, 100 * best[stage.rawValue] / bestTotal))
    }
    // Each projection shape alone, as the batch runs it.
    let scratch = MatVecScratch(maxCols: max(c.embeddingLength, c.qDim, c.feedForwardLength))
    let widest = max(c.embeddingLength, c.qDim, c.feedForwardLength)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: pp * widest), y = UnsafeMutablePointer<Float>.allocate(capacity: pp * widest)
    defer { x.deallocate(); y.deallocate() }
    for i in 0..<(pp * widest) { x[i] = sin(Float(i % 9973)) }
    var seen: [String: Int] = [:]
    var shapes: [(String, WeightMatrix)] = []
    for L in m.layers {
        for (name, w) in [("q", L.wq), ("k", L.wk), ("v", L.wv), ("o", L.wo), ("gate", L.gate), ("up", L.up), ("down", L.down)] {
            let key = "\(name) \(w.type) \(w.rows)x\(w.cols)"
            if seen[key] == nil { shapes.append((key, w)) }
            seen[key, default: 0] += 1
        }
    }
    var kernelTotal = 0.0
    for (key, w) in shapes {
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = now(); w.matmul(x, tokens: pp, y, scratch: scratch, pool: engine.pool, arithmetic: engine.arithmetic); times.append(now() - t0)
        }
        let t = times.min()!, count = seen[key]!
        kernelTotal += t * Double(count)
        emit(String(format: "  %-26@ ×%2d  %7.2f ms each, %7.1f ms in all  %6.1f G mul-add/s", key as NSString, count, t * 1e3,
                    t * 1e3 * Double(count), Double(pp * w.rows * w.cols) / t / 1e9))
    }
    // Quantizing alone (one thread, as each product does it before its kernels, split across the pool).
    let format: ActivationFormat = m.layers[0].wq.type == .q4_1 ? .q8_1 : (m.layers[0].wq.type.blockSize == 256 ? .q8_K : .q8_0)
    let q = UnsafeMutablePointer<Int8>.allocate(capacity: widest), d = UnsafeMutablePointer<Float>.allocate(capacity: widest / 32)
    let s = UnsafeMutablePointer<Float>.allocate(capacity: widest / 32), bs = UnsafeMutablePointer<Int16>.allocate(capacity: widest / 16)
    defer { q.deallocate(); d.deallocate(); s.deallocate(); bs.deallocate() }
    func quantizeSeconds(_ n: Int) -> Double {
        var times: [Double] = []
        for _ in 0..<5 {
            let t0 = now()
            for t in 0..<pp { ActivationQuant.quantize(x + t * n, count: n, format: format, q: q, d: d, s: s, bsums: bs) }
            times.append(now() - t0)
        }
        return times.min()!
    }
    let quantize = Double(c.layerCount) * (3 * quantizeSeconds(c.embeddingLength) + quantizeSeconds(c.feedForwardLength))
    emit(String(format: "  products alone %.1f ms (%.1f%% of the batch); quantizing activations %.1f ms on one thread (÷%d when split)",
                kernelTotal * 1e3, 100 * kernelTotal / bestTotal, quantize * 1e3, threads))
}

func share(_ ours: Double, limit: Double?) -> String {
    guard let limit, limit > 0 else { return "" }
    return String(format: "%3.0f%% of %.0f", 100 * ours / limit, limit)
}

for (path, name) in models {
    guard FileManager.default.fileExists(atPath: path) else { print("\(name): absent, skipped"); continue }
    if quick && name.hasPrefix("qwen") { continue }
    if let only, !name.hasPrefix(only) { continue }
    for threads in threadList {
        let engine = try Engine(path: path, context: max(640, (ppList?.max() ?? 0) + 16, (depths.max() ?? 0) + 160), threads: threads,
                                batchSize: 512, arithmetic: arithmetic, kvCache: kvCache)
        let c = engine.config, cost = perToken(engine.model)
        let vocab = Int32(c.vocabularySize)
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
            let limit = int8Rate[threads].map { $0 / cost.macs }
            emit(String(format: "%-36@ pp%-9d  %d   %8.1f   %@        %@   %@", name as NSString, pp, threads, best,
                         column(ref, best) as NSString, column(now, best) as NSString, share(best, limit: limit) as NSString))
        }
        if CommandLine.arguments.contains("--profile") { profileDecode(engine, threads: threads) }
        if CommandLine.arguments.contains("--profile-prompt") { try profilePrompt(engine, threads: threads, pp: ppList?.max() ?? 512) }
        let n = threads == 2 ? 128 : 64
        for depth in depths {
            // The second run reuses the first's cached prompt: only generation is timed.
            let prompt = depth > 0 ? (0..<depth).map { _ in Int32.random(in: 0..<vocab, using: &rng) } : [1]
            var best = 0.0
            for _ in 0..<2 {
                let g = try engine.generate(prompt: prompt, maxTokens: n, stopTokens: [], next: { l, _ in Engine.argmax(l) }, onToken: { _ in true })
                best = max(best, g.generationTokensPerSecond)
            }
            let ref = depth > 0 ? nil : reference(refs, model: name, test: "tg\(n)", threads: threads)
            let now = llamaBenchNow(llamaBench, model: path, pp: 0, tg: n, threads: threads, depth: depth)
            // Bytes per token: the weights plus the keys and values read at the mean depth of the run.
            let kvBytes = Double(2 * c.layerCount * c.kvDim * kvCache.elementBytes) * (Double(depth) + Double(n) / 2)
            let limit = bandwidth[threads].map { $0 * 1e9 / (cost.bytes + kvBytes) }
            let test = (depth > 0 ? "tg\(n)@d\(depth)" : "tg\(n)").padding(toLength: 12, withPad: " ", startingAt: 0)
            emit(String(format: "%-36@ %-12@ %d   %8.1f   %@        %@   %@", name as NSString, test as NSString, threads, best,
                         column(ref, best) as NSString, column(now, best) as NSString, share(best, limit: limit) as NSString))
        }
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    emit(String(format: "%@: peak RSS so far %.0f MiB (file %.0f MiB)", name, peakRSSMiB(), Double(size) / 1048576))
}
