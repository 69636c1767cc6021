// bench-embed: encoder throughput and one-query latency against the reference figures.
//
// Usage: swift run -c release bench-embed [MODEL_DIR] [--quick] [--latency-only] [--reference-python PY]
// Workload as in ../shared/reference/minilm/README.md: the 2,000 passages of
// bench_passages.json embedded in batches of 32 (sorted by length), and the query
// "How do I reset my password?" embedded alone 200 times (median). Targets in thresholds.json.
// With --reference-python PY (a Python with torch, sentence-transformers, onnxruntime, onnx),
// reference.py times PyTorch and onnxruntime on the same workload in the same run, and the
// ratios are also given against those: the recorded figures come from whatever host the VM had.
import BenchSupport
import Foundation
import Embeddings
import Tensor

checkArguments("bench-embed", usage: "usage: bench-embed [MODEL_DIR] [--quick] [--latency-only] [--reference-python PY]",
               flags: ["--quick", "--latency-only"], valued: ["--reference-python"], positional: 1)

let args = CommandLine.arguments.dropFirst()
let python = referencePython(Array(args))
print(hostLine())
let quick = args.contains("--quick")
let latencyOnly = args.contains("--latency-only")
let modelDir = args.first { !$0.hasPrefix("--") && $0 != python } ?? "models/all-MiniLM-L6-v2"
let refDir = "../shared/reference/minilm"
let benchDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path

let t0 = now()
let encoder: SentenceEncoder
do { encoder = try SentenceEncoder(directory: modelDir) } catch {
    FileHandle.standardError.write(Data("error: \(error.localizedDescription)\n".utf8)); exit(1)
}
print(String(format: "load: %.0f ms (%@)", (now() - t0) * 1000, encoder.modelID))

let anchors = readJSON(refDir + "/speed_anchors.json")["embedding"] as! [String: Any]
let torch = anchors["torch_sentence_transformers_t2"] as! [String: Any]
let ort = anchors["onnxruntime_t2"] as! [String: Any]
let thresholds = readJSON(benchDir + "/thresholds.json")
var passages = readJSON(refDir + "/bench_passages.json")["passages"] as! [String]
if quick { passages = Array(passages.prefix(320)) }
// The same-run reference, timed before ours (its model load and ONNX export take a minute).
let refNow = python.flatMap {
    runReferenceScript($0, benchDir + "/reference.py", [modelDir, refDir + "/bench_passages.json", String(passages.count), "2"])
}

// Throughput: the whole set in one call (the encoder sorts by length and batches by 32).
encoder.batchSize = 32
var lastThroughput: Double? = nil
if !latencyOnly {
_ = try encoder.embed(Array(passages.prefix(32)))   // warm-up: buffers, BLAS threads
let tokens = passages.reduce(0) { $0 + encoder.tokenize($1).count }
var runs: [Double] = []
var cpu: [Double] = []
for _ in 0..<(quick ? 1 : 2) {
    let s = now(), c = cpuSeconds()
    _ = try encoder.embedFlat(passages)
    runs.append(now() - s); cpu.append(cpuSeconds() - c)
}
let best = runs.min()!
let perSec = Double(passages.count) / best, tokPerSec = Double(tokens) / best
let refPerSec = torch["sent_per_s"] as! Double, refTok = torch["tok_per_s"] as! Double
print(String(format: "throughput: %.1f passages/s (%.0f tokens/s, %d passages, %d tokens, runs %@ s)",
             perSec, tokPerSec, passages.count, tokens, runs.map { String(format: "%.2f", $0) }.joined(separator: ", ")))
print(String(format: "  reference PyTorch 2 threads: %.1f passages/s (%.0f tokens/s); onnxruntime %.1f/s",
             refPerSec, refTok, ort["sent_per_s_median"] as! Double))
print(String(format: "  CPU: %.1f s for the best run (%.2f cores busy on average, %.0f tokens per CPU-second; the reference rate is ~%.0f per CPU-second if it kept 2 cores busy)",
             cpu[runs.firstIndex(of: best)!], cpu[runs.firstIndex(of: best)!] / best, Double(tokens) / cpu[runs.firstIndex(of: best)!], refTok / 2))
let ratio = tokPerSec / refTok
lastThroughput = tokPerSec
let minRatio = thresholds["throughput_ratio_vs_torch_min"] as! Double
print(String(format: "  ratio ours/PyTorch recorded (tokens/s): %.2fx  target ≥ %.2fx  %@", ratio, minRatio, ratio >= minRatio ? "OK" : "BELOW TARGET"))
if let t = refNow?["torch_tok_per_s"] as? Double {
    let o = refNow?["ort_tok_per_s"] as? Double
    print(String(format: "  reference this run (%d passages, %d tokens): PyTorch %.0f tokens/s, onnxruntime %@; ratio ours/PyTorch this run %.2fx  target ≥ %.2fx  %@",
                 refNow?["passages"] as? Int ?? 0, refNow?["tokens"] as? Int ?? 0, t, o.map { String(format: "%.0f tokens/s", $0) } ?? "-",
                 tokPerSec / t, minRatio, tokPerSec / t >= minRatio ? "OK" : "BELOW TARGET"))
}
}

// Latency: one short query, end to end (tokenise + forward + pool + normalise).
let query = "How do I reset my password?"
for _ in 0..<20 { _ = try encoder.embed([query]) }
var lat: [Double] = []
for _ in 0..<200 { let s = now(); _ = try encoder.embed([query]); lat.append((now() - s) * 1000) }
lat.sort()
let med = lat[lat.count / 2], p90 = lat[lat.count * 9 / 10]
let maxMs = thresholds["query_latency_ms_max"] as! Double
print(String(format: "latency (%d tokens): median %.2f ms, p90 %.2f ms", encoder.tokenize(query).count, med, p90))
print(String(format: "  reference: PyTorch %.1f ms, onnxruntime %.2f ms; ratio ours/onnxruntime %.2fx, target ≤ %.1f ms  %@",
             torch["latency_ms_median"] as! Double, ort["latency_ms_median"] as! Double,
             med / (ort["latency_ms_median"] as! Double), maxMs, med <= maxMs ? "OK" : "ABOVE TARGET"))
if let ol = refNow?["ort_latency_ms"] as? Double {
    print(String(format: "  reference this run: PyTorch %.1f ms, onnxruntime %.2f ms; ratio ours/onnxruntime this run %.2fx",
                 refNow?["torch_latency_ms"] as? Double ?? .nan, ol, med / ol))
}

// Host check. The references were timed when this VM's host ran OpenBLAS sgemm 1024³ at the
// speed recorded in machine_limits.json; a VM can land on a slower host. The encoder is ~80%
// sgemm, so the same sgemm now, against the recorded one, says how far the recorded figures
// can be compared at all. The scaled figure is an estimate, printed as one.
let limits = readJSON("../shared/reference/llama.cpp/machine_limits.json")
let recordedGF = ((limits["sgemm"] as? [String: Any])?["t2_1024x1024x1024"] as? [String: Any])?["GFLOPS_median_of_runs"] as? Double
let nn = 1024
let ga = [Float](repeating: 0.5, count: nn * nn), gb = [Float](repeating: 0.25, count: nn * nn)
var gc = [Float](repeating: 0, count: nn * nn)
var gBest = 0.0
for _ in 0..<5 {
    let s = now()
    ga.withUnsafeBufferPointer { a in gb.withUnsafeBufferPointer { b in gc.withUnsafeMutableBufferPointer { c in
        BLAS.gemm(m: nn, n: nn, k: nn, a: a.baseAddress!, lda: nn, b: b.baseAddress!, ldb: nn, transB: false, c: c.baseAddress!, ldc: nn)
    } } }
    gBest = max(gBest, 2 * Double(nn * nn * nn) / (now() - s) / 1e9)
}
if let recordedGF {
    let f = gBest / recordedGF
    print(String(format: "host: OpenBLAS sgemm 1024³ (2 threads) now %.0f GFLOPS, %.0f when the references were recorded (%.2fx)",
                 gBest, recordedGF, f))
    // What the host allows for one query: its projections are 2·tokens·(weights) FLOPs, which at
    // the sgemm rate just measured (a large GEMM, the best case) take at least this long.
    let c = encoder.config, h = Double(c.hiddenSize), inter = Double(c.intermediateSize)
    let qFlops = 2 * Double(encoder.tokenize(query).count) * Double(c.layers) * (4 * h * h + 2 * h * inter)
    print(String(format: "  one %d-token query is %.0f MFLOP of projections: ≥ %.2f ms at this host's sgemm rate (ours %.2f ms = %.0f GFLOPS)",
                 encoder.tokenize(query).count, qFlops / 1e6, qFlops / gBest / 1e6, med, qFlops / med / 1e6))
    if f < 0.8, let tps = lastThroughput {
        print(String(format: "  this host is slower than the recorded one: PyTorch's recorded %.0f tokens/s scaled by it ≈ %.0f; ours/scaled %.2fx (an estimate)",
                     torch["tok_per_s"] as! Double, (torch["tok_per_s"] as! Double) * f, tps / ((torch["tok_per_s"] as! Double) * f)))
    }
}
print("note: the machine is shared; figures vary run to run — rerun before drawing conclusions")
