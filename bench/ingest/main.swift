import BenchSupport
import Foundation
import Embeddings
import Knowledge

checkArguments("bench-ingest", usage: "usage: bench-ingest [FILES...] [--embed] [--formats]", flags: ["--embed", "--formats"], positional: nil)
if CommandLine.arguments.contains("--formats") {
    // Document converters (PDF, OCR, inflate) against the bare tools: see Formats.swift.
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    try formatsBench(root: here, copies: CommandLine.arguments.dropFirst().first { !$0.hasPrefix("--") }.flatMap { Int($0) } ?? 40)
    exit(0)
}

// Ingest throughput of the keyword-only path (`strata ingest` without embeddings): files read,
// checked (NUL, UTF-8), hashed, chunked, stored with the FTS5 index.
// 10,000 generated Markdown documents (headings, paragraphs of Zipf English, one in five with a
// Chinese section), ~1–2 KB each. No recorded reference exists for this path; the same-run
// baseline is the bare minimum any ingest must do: read the same files and insert their whole text
// into a plain `fts5(body)` table in one transaction.
// With --embed, a third run ingests the same files into a new store with embeddings (all-MiniLM-L6-v2,
// as `strata ingest --embed`) and reports chunks/s and the share of the time spent in the encoder.
// Usage: swift run -c release bench-ingest [FILES] [--embed]

let cliArgs = CommandLine.arguments.dropFirst()
let withEmbeddings = cliArgs.contains("--embed")
let files = cliArgs.first { !$0.hasPrefix("--") }.flatMap { Int($0) } ?? 10_000
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
var corpus = try Corpus(tokenizerJSON: root.appendingPathComponent("models/all-MiniLM-L6-v2/tokenizer.json").path, seed: 3)
let dir = FileManager.default.temporaryDirectory.appendingPathComponent("bench-ingest-\(getpid())")
let docs = dir.appendingPathComponent("docs")
defer { try? FileManager.default.removeItem(at: dir) }
try FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)

let chinese = ["申请退款需要几天？一般情况下，退款会在七个工作日内到账。", "如需修改收款账户，请联系客服并提供身份证明。",
               "2024年营收增长3.5%，iPhone销量创新高。", "跨境汇款手续费按金额的千分之一收取，最低五十元；"]
var totalBytes = 0
for f in 0..<files {
    var text = "# Document \(f)\n\n"
    for s in 0..<(2 + f % 3) {
        text += "## Section \(s)\n\n"
        for _ in 0..<2 { text += corpus.passage().prefix(1).uppercased() + corpus.passage().dropFirst() + ".\n\n" }
    }
    if f % 5 == 0 { text += "## 说明\n\n" + (0..<6).map { chinese[($0 + f) % chinese.count] }.joined() + "\n" }
    let data = Data(text.utf8)
    totalBytes += data.count
    let sub = docs.appendingPathComponent("d\(f / 1000)")
    if f % 1000 == 0 { try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true) }
    try data.write(to: sub.appendingPathComponent("doc\(f).md"))
}
let mb = Double(totalBytes) / 1_048_576
print(String(format: "%d files, %.1f MB generated", files, mb))
print(String(format: "load average at start: %.1f (2 cores)", loadAverage()))

// Baseline: read every file, one row per file in fts5(body), one transaction.
let base = try Database(path: dir.appendingPathComponent("base.db").path)
try base.execute("CREATE VIRTUAL TABLE chunks USING fts5(body)")
let paths = Ingestor.files(under: docs.path)
var w = Date(), c = cpuSeconds()
try base.execute("BEGIN")
let st = try base.prepare("INSERT INTO chunks(body) VALUES (?)")
for p in paths { try st.bind([.text(try String(contentsOfFile: p, encoding: .utf8))]); try st.runToEnd() }
try base.execute("COMMIT")
let baseWall = Date().timeIntervalSince(w), baseCPU = cpuSeconds() - c

// Ours, twice: first run ingests everything, the second finds every file unchanged.
let store = try KnowledgeStore(path: dir.appendingPathComponent("k.db").path)
w = Date(); c = cpuSeconds()
let report = Ingestor(store: store).ingest(paths: [docs.path])
let wall = Date().timeIntervalSince(w), cpu = cpuSeconds() - c
precondition(report.ingestedFiles == files && !report.hasFailures, report.summary)
w = Date()
let again = Ingestor(store: store).ingest(paths: [docs.path])
let rescan = Date().timeIntervalSince(w)
precondition(again.unchangedFiles == files, again.summary)

print(report.summary)
print(String(format: "ours:      %6.2f s wall (%5.2f s CPU)  %6.2f MB/s  %8.0f chunks/s  %6.0f files/s",
             wall, cpu, mb / wall, Double(report.chunkCount) / wall, Double(files) / wall))
print(String(format: "baseline:  %6.2f s wall (%5.2f s CPU)  %6.2f MB/s  (read + one fts5 row per file, no chunking/checks/hash)",
             baseWall, baseCPU, mb / baseWall))
print(String(format: "ratio ours/baseline: %.2fx wall, %.2fx CPU", wall / baseWall, cpu / baseCPU))
print(String(format: "re-run with nothing changed: %.2f s (%.0f files/s: read + SHA-256 + lookup)", rescan, Double(files) / rescan))

if withEmbeddings {
    let encoder = try SentenceEncoder(directory: root.appendingPathComponent("models/all-MiniLM-L6-v2").path)
    var encoderSeconds = 0.0, embedded = 0, tokens = 0
    var options = IngestOptions()
    options.embedding = EmbeddingHook(modelID: encoder.modelID) { texts in
        embedded += texts.count
        tokens += texts.reduce(0) { $0 + encoder.tokenize($1).count }   // counted outside the timed part
        let t = now()
        defer { encoderSeconds += now() - t }
        return try encoder.embed(texts)
    }
    let estore = try KnowledgeStore(path: dir.appendingPathComponent("e.db").path)
    w = Date(); c = cpuSeconds()
    let er = Ingestor(store: estore).ingest(paths: [docs.path], options: options)
    let ewall = Date().timeIntervalSince(w), ecpu = cpuSeconds() - c
    precondition(er.ingestedFiles == files && !er.hasFailures, er.summary)
    print(String(format: "with embeddings: %6.2f s wall (%5.2f s CPU)  %6.0f chunks/s  %6.0f files/s; %d chunks embedded (%d tokens, %.0f tokens/s in the encoder)",
                 ewall, ecpu, Double(er.chunkCount) / ewall, Double(files) / ewall, embedded, tokens, Double(tokens) / encoderSeconds))
    print(String(format: "  time in the encoder: %.1f s = %.0f%% of the wall time (the keyword-only ingest above: %.2f s)",
                 encoderSeconds, 100 * encoderSeconds / ewall, wall))
}
print(String(format: "load average at end: %.1f", loadAverage()))
