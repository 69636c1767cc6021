import BenchSupport
import Embeddings
import Foundation
import Tensor

// bench-search --real: the int8 search on sentence embeddings instead of random directions.
// Real embeddings are anisotropic (their cosines crowd into a narrow band), so near-ties around
// the 10th score are common and the int8 error bound proves fewer results exact than on random
// vectors; this measures how many, and the speed, per candidate count.
//
// Corpus: sentences of the SciFact abstracts and SQuAD 2.0 / CMRC 2018 paragraphs, and the
// BANKING77 training queries (../shared/datasets), embedded by our encoder (models/all-MiniLM-L6-v2);
// queries: SQuAD 2.0 and SciFact questions (held apart from the corpus). To reach 100k and 1M rows,
// perturbed copies: each copy is a corpus vector plus Gaussian noise of norm `noise`, renormalised
// (cosine ≈ 1/√(1+noise²) to its original), so copies crowd around real vectors as near-duplicates
// of a corpus do. The vectors are cached in .build/bench-cache/ (git-ignored; delete to re-embed).

/// Texts from a BEIR corpus.jsonl: each record's text split into sentences (., ?, !, 。, ？, ！).
func sentences(fromCorpus path: String, limit: Int) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    var out: [String] = []
    for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
        guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let text = o["text"] as? String else { continue }
        var current = ""
        for ch in text {
            current.append(ch)
            if ".?!。？！".contains(ch) {
                let s = current.trimmingCharacters(in: .whitespaces)
                if s.count >= 20 { out.append(s) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if rest.count >= 20 { out.append(rest) }
        if out.count >= limit { break }
    }
    return Array(out.prefix(limit))
}

/// The `text` field of every record of a JSONL file (queries), up to `limit`.
func jsonlTexts(_ path: String, limit: Int) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").prefix(limit).compactMap {
        (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["text"] as? String
    }
}

/// The first CSV column of every line after the header (BANKING77's `text`, unquoted when plain).
func csvFirstColumn(_ path: String, limit: Int) -> [String] {
    guard let data = FileManager.default.contents(atPath: path) else { return [] }
    return String(decoding: data, as: UTF8.self).split(separator: "\n").dropFirst().prefix(limit).map { line in
        var s = String(line)
        if let comma = s.lastIndex(of: ",") { s = String(s[..<comma]) }
        return s.trimmingCharacters(in: CharacterSet(charactersIn: "\""))
    }
}

/// Embeds `texts` with the encoder at `modelDir`, or reads them from `cache` when it holds them.
func cachedEmbeddings(_ texts: [String], modelDir: String, cache: String) throws -> [Float] {
    let d = 384
    if let data = FileManager.default.contents(atPath: cache), data.count == texts.count * d * 4 {
        return data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }
    let encoder = try SentenceEncoder(directory: modelDir)
    let t0 = now()
    var out: [Float] = []
    out.reserveCapacity(texts.count * d)
    for start in stride(from: 0, to: texts.count, by: 2048) {
        out += try encoder.embedFlat(Array(texts[start..<min(texts.count, start + 2048)]))
        FileHandle.standardError.write(Data(String(format: "\rembedded %d/%d (%.0f s)", min(texts.count, start + 2048), texts.count, now() - t0).utf8))
    }
    FileHandle.standardError.write(Data("\n".utf8))
    try FileManager.default.createDirectory(atPath: (cache as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    try out.withUnsafeBytes { try Data($0).write(to: URL(fileURLWithPath: cache)) }
    return out
}

func runRealVectorBench(args: [String], quick: Bool) throws {
    let d = 384, k = 10
    let data = "../shared/datasets"
    let perSource = quick ? 1500 : 12_000
    let corpusTexts = sentences(fromCorpus: data + "/scifact/corpus.jsonl", limit: perSource)
        + sentences(fromCorpus: data + "/squad2-dev/beir/corpus.jsonl", limit: perSource)
        + sentences(fromCorpus: data + "/cmrc2018-dev/beir/corpus.jsonl", limit: perSource / 2)
        + csvFirstColumn(data + "/banking77/train.csv", limit: perSource)
    let queryTexts = Array((jsonlTexts(data + "/squad2-dev/beir/queries.jsonl", limit: 150)
        + jsonlTexts(data + "/scifact/queries.jsonl", limit: 50)).prefix(quick ? 40 : 200))
    guard corpusTexts.count > 1000, !queryTexts.isEmpty else {
        print("--real: the datasets under \(data) are missing (run from the project root with ../shared beside it)"); exit(2)
    }
    let modelDir = "models/all-MiniLM-L6-v2"
    let cacheDir = ".build/bench-cache"
    let corpus = try cachedEmbeddings(corpusTexts, modelDir: modelDir, cache: "\(cacheDir)/search-corpus-\(corpusTexts.count).f32")
    let queryFlat = try cachedEmbeddings(queryTexts, modelDir: modelDir, cache: "\(cacheDir)/search-queries-\(queryTexts.count).f32")
    let queries = (0..<queryTexts.count).map { Array(queryFlat[($0 * d)..<(($0 + 1) * d)]) }
    let real = corpusTexts.count

    // How crowded the real cosines are: the mean and spread of query·row over a sample.
    var cosines: [Float] = []
    for q in queries.prefix(20) { for r in stride(from: 0, to: real, by: 97) { cosines.append(zip(q, corpus[(r * d)..<((r + 1) * d)]).reduce(0) { $0 + $1.0 * $1.1 }) } }
    let mean = cosines.reduce(0, +) / Float(cosines.count)
    let sd = (cosines.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Float(cosines.count)).squareRoot()
    print(String(format: "real vectors: %d corpus sentences, %d queries; query·row cosine mean %.3f sd %.3f (random unit vectors: 0 ± %.3f)",
                 real, queries.count, mean, sd, 1 / Float(d).squareRoot()))

    let noise: Float = args.firstIndex(of: "--noise").flatMap { Float(args[$0 + 1]) } ?? 0.3
    let candidateList = args.firstIndex(of: "--candidates").map { args[$0 + 1].split(separator: ",").compactMap { Int($0) } } ?? [128, 256, 512, 1024]
    let sizes = quick ? [real, 100_000] : [real, 100_000, 1_000_000]
    let index = VectorIndex(dimension: d, reserve: sizes.last!)
    var rng = SplitMix64(seed: 7)
    func gaussian() -> Float {   // Box–Muller
        let u1 = max(Float(rng.next() >> 40) / Float(1 << 24), 1e-7), u2 = Float(rng.next() >> 40) / Float(1 << 24)
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
    let row = UnsafeMutablePointer<Float>.allocate(capacity: 1024 * d)
    defer { row.deallocate() }
    var nextID: Int64 = 0
    for n in sizes {
        while index.count < n {
            let m = min(1024, n - index.count)
            for j in 0..<m {
                let i = index.count + j, src = i % real, v = row + j * d
                if i < real {
                    for c in 0..<d { v[c] = corpus[src * d + c] }
                } else {
                    var norm: Float = 0
                    for c in 0..<d { v[c] = gaussian() }
                    for c in 0..<d { norm += v[c] * v[c] }
                    let scale = noise / norm.squareRoot()
                    var total: Float = 0
                    for c in 0..<d { v[c] = corpus[src * d + c] + v[c] * scale; total += v[c] * v[c] }
                    let inv = 1 / total.squareRoot()
                    for c in 0..<d { v[c] *= inv }
                }
            }
            try index.add(ids: (0..<m).map { nextID + Int64($0) }, vectors: row)
            nextID += Int64(m)
        }
        index.enableQuantizedCopy()
        for q in queries.prefix(3) { _ = try index.searchFloat(q, k: k) }
        var floatMs: [Double] = [], floatTop: [[VectorHit]] = []
        for q in queries { let t = now(); floatTop.append(try index.searchFloat(q, k: k)); floatMs.append((now() - t) * 1000) }
        let fm = median(floatMs)
        print(String(format: "n = %d (%@): float scan median %.2f ms", n, (n == real ? "real sentences only" : String(format: "real + copies with noise %.2f", noise)) as NSString, fm))
        for c in candidateList {
            for q in queries.prefix(3) { _ = try index.searchInt8(q, k: k, candidates: c) }
            var ms: [Double] = [], proved = 0, same = 0
            for (qi, q) in queries.enumerated() {
                let t = now(); let r = try index.searchInt8(q, k: k, candidates: c); ms.append((now() - t) * 1000)
                if r.provedExact { proved += 1 }
                if r.hits.map(\.id) == floatTop[qi].map(\.id) { same += 1 }
            }
            let im = median(ms)
            print(String(format: "  candidates %5d: proven exact %d/%d (%.1f%%), same top-10 as the float scan %d/%d; median %.2f ms (p90 %.2f) = %.0f%% of the float scan",
                         c, proved, queries.count, 100 * Double(proved) / Double(queries.count), same, queries.count, im,
                         ms.sorted()[ms.count * 9 / 10], 100 * im / fm))
        }
    }
}
