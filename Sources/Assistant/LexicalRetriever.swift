import Foundation

/// BM25 over passages held in memory, with the same terms as the support check (words for
/// English, character bigrams for Chinese). It serves `strata ask --corpus` and `eval qa` on BEIR
/// folders, where the corpus is a file rather than the knowledge database.
public struct LexicalRetriever: Retriever {
    public struct Document: Sendable {
        public var passage: RetrievedPassage
        /// Empty: visible to everyone; otherwise only to callers in one of these groups.
        public var groups: [String]
        public init(passage: RetrievedPassage, groups: [String] = []) { self.passage = passage; self.groups = groups }
    }

    let documents: [Document]
    let termCounts: [[String: Int]]
    let lengths: [Double]
    let averageLength: Double
    let documentFrequency: [String: Int]
    let k1 = 1.2, b = 0.75

    public init(_ documents: [Document]) {
        self.documents = documents
        var tf: [[String: Int]] = []
        var df: [String: Int] = [:]
        for d in documents {
            var counts: [String: Int] = [:]
            for t in Self.terms(d.passage.headingPath + " " + d.passage.text) { counts[t, default: 0] += 1 }
            for t in counts.keys { df[t, default: 0] += 1 }
            tf.append(counts)
        }
        termCounts = tf
        lengths = tf.map { Double($0.values.reduce(0, +)) }
        averageLength = max(1, lengths.reduce(0, +) / Double(max(1, documents.count)))
        documentFrequency = df
    }

    /// Terms with repeats (BM25 needs frequencies; `TextAnalysis.keyTerms` gives a set).
    static func terms(_ text: String) -> [String] {
        var out: [String] = []
        for (piece, han) in TextAnalysis.pieces(text) {
            if han {
                let c = Array(piece)
                if c.count == 1 { out.append(piece) } else { for i in 0..<(c.count - 1) { out.append(String(c[i...i + 1])) } }
            } else {
                let w = piece.lowercased()
                if !TextAnalysis.englishStopWords.contains(w) { out.append(TextAnalysis.fold(w)) }
            }
        }
        return out
    }

    /// Access groups are applied before ranking, so a hidden passage never takes a slot.
    public func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] {
        let q = Set(Self.terms(query)).subtracting(TextAnalysis.chineseStopBigrams)
        let n = Double(documents.count)
        let idf = Dictionary(uniqueKeysWithValues: q.map { t -> (String, Double) in
            let df = Double(documentFrequency[t] ?? 0)
            return (t, log(1 + (n - df + 0.5) / (df + 0.5)))
        })
        var scored: [(Int, Double)] = []
        for (i, d) in documents.enumerated() where d.groups.isEmpty || !Set(d.groups).isDisjoint(with: groups) {
            var s = 0.0
            for t in q {
                guard let f = termCounts[i][t] else { continue }
                let tf = Double(f)
                s += idf[t]! * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[i] / averageLength))
            }
            if s > 0 { scored.append((i, s)) }
        }
        scored.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        return scored.prefix(max(0, k)).enumerated().map { rank, hit in
            var p = documents[hit.0].passage
            p.score = hit.1; p.keywordScore = hit.1; p.keywordRank = rank + 1
            return p
        }
    }
}

extension LexicalRetriever {
    /// Loads a BEIR `corpus.jsonl` (`_id`, `title`, `text` per line). Chunk ids are line numbers
    /// (1-based) so citations point back into the file; `ids[chunkID - 1]` is the BEIR id.
    /// `keep` leaves passages out of the index by id (held-out gold passages make refusal cases).
    public static func beirCorpus(_ path: String, keep: (String) -> Bool = { _ in true }) throws -> (retriever: LexicalRetriever, ids: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw AssistantError.input("cannot read the corpus \(path) — give the path of a BEIR corpus.jsonl")
        }
        var docs: [Document] = [], ids: [String] = []
        for (i, line) in data.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() where !line.isEmpty {
            guard let obj = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let text = obj["text"] as? String else {
                throw AssistantError.input("\(path) line \(i + 1): expected a JSON object with a \"text\" string (BEIR corpus format)")
            }
            let id = (obj["_id"] as? String) ?? String(i + 1)
            let title = obj["title"] as? String ?? ""
            ids.append(id)
            guard keep(id) else { continue }
            docs.append(Document(passage: RetrievedPassage(
                chunkID: Int64(i + 1), documentPath: "\((path as NSString).lastPathComponent)#\(id)", headingPath: title,
                text: text, startLine: i + 1, endLine: i + 1, charStart: 0, charEnd: text.unicodeScalars.count, score: 0)))
        }
        guard !docs.isEmpty else { throw AssistantError.input("the corpus \(path) is empty") }
        return (LexicalRetriever(docs), ids)
    }
}
