import BenchSupport
import Foundation
import Knowledge

checkArguments("bench-fts", usage: "usage: bench-fts [N]   (N rows, default 100000)", positional: 1)
if CommandLine.arguments.count > 1, Int(CommandLine.arguments[1]) == nil {
    FileHandle.standardError.write(Data("bench-fts: N must be a whole number of rows, not '\(CommandLine.arguments[1])'\n".utf8))
    exit(2)
}

// FTS5 build time and query latency on 100,000 chunks of ~100 words through Strata's own path
// (chunker, store, query builder with CJK handling, access-group filter, chunk fetch, snippets).
//
// Two references: the figures recorded by bench_fts.py on a quiet machine (thresholds.json), and a
// same-run baseline — the reference's exact schema and SQL (`fts5(body)`, one transaction,
// `ORDER BY rank LIMIT 10`) on the same passages, measured here, interleaved with ours. The machine
// is shared, so the same-run ratio is the one that means something; the verdict uses it.
// Usage: swift run bench-fts [N]   (BENCH_KEEP_DB=1 keeps the database for inspection)

let n = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 100_000 : 100_000
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let thresholds = try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("bench/fts/thresholds.json"))) as! [String: Any]
let recorded = thresholds["reference"] as! [String: Double]
let maxRatio = thresholds["max_ratio"] as! [String: Double]

var corpus = try Corpus(tokenizerJSON: root.appendingPathComponent("models/all-MiniLM-L6-v2/tokenizer.json").path, seed: 7)
let passages = (0..<n).map { _ in corpus.passage() }
let queries = (0..<200).map { _ in corpus.query() }
print("vocab \(corpus.words.count) words, \(n) chunks; e.g. \"\(passages[0].prefix(60))…\"; queries e.g. \(queries.prefix(3))")
print(String(format: "load average at start: %.1f (2 cores)", loadAverage()))

let tmp = FileManager.default.temporaryDirectory.path + "/bench-fts-\(getpid())"
let keep = ProcessInfo.processInfo.environment["BENCH_KEEP_DB"] != nil
func cleanUp() { if !keep { for f in ["a.db", "b.db"] { for s in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: "\(tmp)-\(f)\(s)") } } } }
cleanUp()

func timed<T>(_ body: () throws -> T) rethrows -> (T, wall: Double, cpu: Double) {
    let w = Date(), c = cpuSeconds()
    let r = try body()
    return (r, Date().timeIntervalSince(w), cpuSeconds() - c)
}

// Baseline build: the reference's schema and loop, through the same SQLite library.
let baseline = try Database(path: "\(tmp)-b.db")
try baseline.execute("CREATE VIRTUAL TABLE chunks USING fts5(body)")
let (_, baseWall, baseCPU) = try timed {
    try baseline.execute("BEGIN")
    let st = try baseline.prepare("INSERT INTO chunks(rowid, body) VALUES (?, ?)")
    for (i, p) in passages.enumerated() { try st.bind([.integer(Int64(i + 1)), .text(p)]); try st.runToEnd() }
    try baseline.execute("COMMIT")
}

// Our build: documents of 100 paragraphs; a 150-token target makes each ~100-word paragraph one
// chunk. Documents are stored in batches of whole documents (20 per commit, 2,000 chunks), as
// `strata ingest` does.
let perDoc = 100
let options = ChunkingOptions(targetTokens: 150, overlapTokens: 0)
let store = try KnowledgeStore(path: "\(tmp)-a.db")
let (chunks, buildWall, buildCPU) = try timed { () throws -> Int in
    var chunks = 0
    for d in stride(from: 0, to: n, by: perDoc) {
        if d % 2_000 == 0 { if d > 0 { try store.database.execute("COMMIT") }; try store.database.execute("BEGIN IMMEDIATE") }
        let text = passages[d..<min(n, d + perDoc)].joined(separator: "\n\n")
        let (title, cs) = try TextChunker.chunk(text, type: .text, fileName: "doc\(d / perDoc).txt", options: options)
        chunks += cs.count
        try store.replaceDocument(NewDocument(path: "/bench/doc\(d / perDoc).txt", title: title, sourceType: "txt",
                                              sha256: "", byteSize: text.utf8.count, modifiedAt: 0, groups: []), chunks: cs)
    }
    try store.database.execute("COMMIT")
    return chunks
}
precondition(chunks == n, "expected one chunk per passage, got \(chunks)")

func p95(_ xs: [Double]) -> Double { let s = xs.sorted(); return s[min(s.count - 1, Int(Double(s.count) * 0.95))] }

struct Latency { var ours: [Double] = [], base: [Double] = [], oursCPU: [Double] = [], baseCPU: [Double] = [], hits = 0 }
func threadCPUms() -> Double { var ts = timespec(); clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6 }

/// Per query: the baseline's raw SQL, then our whole keywordSearch (top 10), interleaved so both
/// see the same machine load. Three passes; the pass with the lowest baseline median is kept.
@MainActor func measure(_ combination: KeywordQuery.Combination) throws -> Latency {
    let sql = "SELECT rowid, bm25(chunks) FROM chunks WHERE chunks MATCH ? ORDER BY rank LIMIT 10"
    let raw = queries.map { q in q.split(separator: " ").joined(separator: combination == .all ? " " : " OR ") }
    for i in 0..<10 { _ = try store.keywordSearch(queries[i], groups: [], k: 10, combination: combination)
                      _ = try baseline.query(sql, [.text(raw[i])]) { $0.int(0) } }
    var best: Latency? = nil
    for _ in 0..<3 {
        var l = Latency()
        for (q, r) in zip(queries, raw) {
            let t0 = Date(), c0 = threadCPUms()
            _ = try baseline.query(sql, [.text(r)]) { $0.int(0) }
            let t1 = Date(), c1 = threadCPUms()
            l.hits += try store.keywordSearch(q, groups: [], k: 10, combination: combination).count
            let t2 = Date(), c2 = threadCPUms()
            l.base.append(t1.timeIntervalSince(t0) * 1000); l.ours.append(t2.timeIntervalSince(t1) * 1000)
            l.baseCPU.append(c1 - c0); l.oursCPU.append(c2 - c1)
        }
        if best == nil || median(l.base) + median(l.ours) < median(best!.base) + median(best!.ours) { best = l }
    }
    return best!
}

var failures: [String] = []
/// The verdict uses CPU time when given: with a load average of 10+ on 2 cores, wall time of a
/// 2 ms query mostly measures the scheduler (a single preemption costs several ms).
@MainActor func report(_ label: String, ours: Double, base: Double, recorded: Double, unit: String, max: Double,
                       cpu: (ours: Double, base: Double)? = nil) {
    let sameRun = cpu.map { $0.ours / $0.base } ?? ours / base
    if sameRun > max { failures.append(label) }
    print(label.padding(toLength: 26, withPad: " ", startingAt: 0)
          + String(format: "ours %7.3f %@ | same-run baseline %7.3f %@ → %4.2fx | recorded reference %6.3f %@ → %5.2fx | %@",
                   ours, unit, base, unit, ours / base, recorded, unit, ours / recorded, sameRun <= max ? "ok" : "OVER \(max)x"))
    if let cpu { print(String(format: "  CPU%@: ours %.3f %@, baseline %.3f %@ → %.2fx (verdict)", unit == "ms" ? " median" : "", cpu.ours, unit, cpu.base, unit, sameRun)) }
}

print("")
report("build", ours: buildWall, base: baseWall, recorded: recorded["build_s"]!, unit: "s ", max: maxRatio["build"]!,
       cpu: (buildCPU, baseCPU))
for optimized in [false, true] {
    if optimized {
        let (_, w, _) = try timed { try store.optimizeIndex(); try baseline.execute("INSERT INTO chunks(chunks) VALUES ('optimize')") }
        print(String(format: "optimize (both indexes): %.2f s", w))
    }
    let a = try measure(.all), o = try measure(.any)
    let tag = optimized ? " (optimized)" : ""
    report("AND median" + tag, ours: median(a.ours), base: median(a.base),
           recorded: recorded[optimized ? "and_median_optimized_ms" : "and_median_ms"]!, unit: "ms", max: maxRatio["query"]!,
           cpu: (median(a.oursCPU), median(a.baseCPU)))
    report("OR median" + tag, ours: median(o.ours), base: median(o.base),
           recorded: recorded[optimized ? "or_median_optimized_ms" : "or_median_ms"]!, unit: "ms", max: maxRatio["query"]!,
           cpu: (median(o.oursCPU), median(o.baseCPU)))
    print(String(format: "  p95: AND ours %.3f / baseline %.3f ms, OR ours %.3f / baseline %.3f ms; hits over 200 queries: AND %d, OR %d",
                 p95(a.ours), p95(a.base), p95(o.ours), p95(o.base), a.hits, o.hits))
}
print(String(format: "load average at end: %.1f", loadAverage()))
print(failures.isEmpty ? "\nall within thresholds (bench/fts/thresholds.json, same-run ratios)" : "\nover threshold: \(failures.joined(separator: ", "))")
if keep { print("kept \(tmp)-a.db and \(tmp)-b.db") } else { cleanUp() }
exit(failures.isEmpty ? 0 : 1)
