// bench-search: exact top-10 over 100k and 1M random unit vectors (d = 384), and the int8
// scan + exact rescoring at 1M, against the reference figures in speed_anchors.json.
//
// Usage: swift run -c release bench-search [--quick] [--candidates N]
// Data: uniform random directions (normalised Gaussian-like vectors from a fixed LCG; the
// reference used numpy normal vectors, the same distribution of directions). Each call searches
// one query for k = 10; medians over the queries. Targets in thresholds.json.
import BenchSupport
import Foundation
import Tensor

func rssMiB() -> Double {
    guard let s = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = s.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return .nan }
    return (Double(line.split(separator: " ")[1]) ?? .nan) / 1024
}

/// Random unit vectors: sum of 4 uniforms per component (close to Gaussian), normalised.
struct Gen {
    var s: UInt64
    mutating func uniform() -> Float {
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int32(truncatingIfNeeded: s >> 32)) * (1.0 / 2147483648.0)
    }
    mutating func fill(_ p: UnsafeMutablePointer<Float>, rows: Int, d: Int) {
        for r in 0..<rows {
            let v = p + r * d
            var n: Float = 0
            for i in 0..<d { let x = uniform() + uniform() + uniform() + uniform(); v[i] = x; n += x * x }
            let inv = 1 / n.squareRoot()
            for i in 0..<d { v[i] *= inv }
        }
    }
}

let args = Array(CommandLine.arguments.dropFirst())
let quick = args.contains("--quick")
let candidates = args.firstIndex(of: "--candidates").flatMap { Int(args[$0 + 1]) } ?? 4096
let benchDir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let thresholds = readJSON(benchDir + "/thresholds.json")
let results = (readJSON("../shared/reference/minilm/speed_anchors.json")["vector_search"] as! [String: Any])["results"] as! [String: Any]
@MainActor func ref(_ n: Int, _ method: String) -> Double? {
    var m = (results[String(n)] as? [String: Any])?[method] as? [String: Any]
    if method == "sqlite_vec" { m = m?["default"] as? [String: Any] }   // the default-pragmas run
    return m?["median_ms"] as? Double
}

let d = 384, k = 10
let nQueries = quick ? 30 : 200
var gen = Gen(s: 42)
var queries: [[Float]] = []
for _ in 0..<nQueries { var q = [Float](repeating: 0, count: d); q.withUnsafeMutableBufferPointer { gen.fill($0.baseAddress!, rows: 1, d: d) }; queries.append(q) }

let rss0 = rssMiB()
let index = VectorIndex(dimension: d, reserve: 1_000_000)
let chunk = 10_000
let buf = UnsafeMutablePointer<Float>.allocate(capacity: chunk * d)
var nextID: Int64 = 0
var lastExact: [Double] = []
var exactTop: [[VectorHit]] = []
for n in [100_000, 1_000_000] {
    let t0 = now()
    while index.count < n {
        gen.fill(buf, rows: chunk, d: d)
        try index.add(ids: (0..<chunk).map { nextID + Int64($0) }, vectors: buf)
        nextID += Int64(chunk)
    }
    print(String(format: "n = %d: built in %.1f s", n, now() - t0))
    for q in queries.prefix(3) { _ = try index.search(q, k: k) }   // warm-up
    var times: [Double] = []
    exactTop = []
    for q in queries { let s = now(); exactTop.append(try index.search(q, k: k)); times.append((now() - s) * 1000) }
    lastExact = times
    let ours = median(times), np = ref(n, "numpy_t2") ?? .nan
    let target = thresholds["exact_ms_max_\(n)"] as? Double ?? .nan
    print(String(format: "  exact top-10: median %.2f ms (p90 %.2f)  reference numpy 2 threads %.2f ms, faiss flat %.2f ms, sqlite-vec %.1f ms; ratio ours/numpy %.2fx; target ≤ %.0f ms %@",
                 ours, times.sorted()[times.count * 9 / 10], np, ref(n, "faiss_flat_t2") ?? .nan, ref(n, "sqlite_vec") ?? .nan,
                 ours / np, target, ours <= target ? "OK" : "ABOVE TARGET"))
}
buf.deallocate()
print(String(format: "  RSS with 1M x 384 float vectors: %.0f MiB (vectors alone %.0f MiB; numpy array 1465 MiB)", rssMiB(), Double(1_000_000 * d * 4) / 1048576))

// int8 scan + exact rescoring at 1M.
let tq = now()
index.enableQuantizedCopy()
print(String(format: "int8 copy built in %.1f s; RSS now %.0f MiB (start %.0f)", now() - tq, rssMiB(), rss0))
for q in queries.prefix(3) { _ = try index.searchQuantized(q, k: k, candidates: candidates) }
var qt: [Double] = []
var hits = 0
for (i, q) in queries.enumerated() {
    let s = now()
    let r = try index.searchQuantized(q, k: k, candidates: candidates)
    qt.append((now() - s) * 1000)
    let exact = Set(exactTop[i].map(\.id))
    hits += r.filter { exact.contains($0.id) }.count
}
let recall = Double(hits) / Double(k * queries.count)
let frac = median(qt) / median(lastExact)
let maxFrac = thresholds["int8_time_fraction_max"] as! Double, minRecall = thresholds["int8_recall_min"] as! Double
print(String(format: "  int8 scan (%d candidates) + float rescoring: median %.2f ms, recall@10 %.4f, %.0f%% of float time; targets recall ≥ %.2f at ≤ %.0f%% %@",
             candidates, median(qt), recall, frac * 100, minRecall, maxFrac * 100,
             recall >= minRecall && frac <= maxFrac ? "OK" : "MISSED"))
print("note: the machine is shared; figures vary run to run — rerun before drawing conclusions")
