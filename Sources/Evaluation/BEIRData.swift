import Foundation

/// A BEIR dataset folder, read strictly: a malformed line is an error naming file and line.
package struct BEIRData {
    package struct Doc { package let id: String, title: String, text: String }
    package let corpus: [Doc]
    package let queries: [String: String]
    /// query id → (document id → grade)
    package let qrels: [String: [String: Int]]

    package static func load(_ dir: String) throws -> BEIRData {
        func lines(_ rel: String) throws -> [Substring] {
            let path = dir + "/" + rel
            guard let d = FileManager.default.contents(atPath: path) else {
                throw EvaluationError.failed("\(path) is missing — --beir needs a BEIR folder (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
            }
            return String(decoding: d, as: UTF8.self).split(whereSeparator: \.isNewline)
        }
        func objects(_ rel: String) throws -> [[String: Any]] {
            try lines(rel).enumerated().map { i, l in
                guard let o = (try? JSONSerialization.jsonObject(with: Data(l.utf8))) as? [String: Any], o["_id"] != nil else {
                    throw EvaluationError.failed("\(dir)/\(rel) line \(i + 1) is not a JSON object with _id — the file is damaged")
                }
                return o
            }
        }
        func id(_ o: [String: Any]) -> String { (o["_id"] as? String) ?? "\(o["_id"]!)" }
        let corpus = try objects("corpus.jsonl").map { Doc(id: id($0), title: $0["title"] as? String ?? "", text: $0["text"] as? String ?? "") }
        var queries: [String: String] = [:]
        for o in try objects("queries.jsonl") { queries[id(o)] = o["text"] as? String ?? "" }
        var qrels: [String: [String: Int]] = [:]
        for (i, l) in try lines("qrels/test.tsv").enumerated() {
            let f = l.split(separator: "\t")
            if i == 0 && f.first == "query-id" { continue }
            guard f.count >= 3, let g = Int(f[2].trimmingCharacters(in: .whitespaces)) else {
                throw EvaluationError.failed("\(dir)/qrels/test.tsv line \(i + 1): expected 'query-id<TAB>corpus-id<TAB>score'")
            }
            qrels[String(f[0]), default: [:]][String(f[1])] = g
        }
        guard !corpus.isEmpty else { throw EvaluationError.failed("\(dir)/corpus.jsonl is empty") }
        return BEIRData(corpus: corpus, queries: queries, qrels: qrels)
    }
}

/// A BEIR question with its answers (SQuAD 2.0 / CMRC 2018 in BEIR layout): `answerable`,
/// `answers` and the gold passage's `context_id`.
package struct BEIRQuestion {
    package var id: String
    package var text: String
    /// False for SQuAD 2.0's unanswerable questions.
    package var answerable: Bool
    package var answers: [String]
    /// The id of the gold passage in corpus.jsonl.
    package var context: String
}

extension BEIRQuestion {
    /// The questions of a BEIR Q&A folder's queries.jsonl, read strictly.
    package static func load(_ path: String) throws -> [BEIRQuestion] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.failed("cannot read \(path) — --beir DIR must hold queries.jsonl")
        }
        return try data.split(separator: 0x0A).enumerated().map { i, line in
            guard let o = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let id = o["_id"] as? String, let text = o["text"] as? String, let context = o["context_id"] as? String else {
                throw EvaluationError.failed("\(path) line \(i + 1): expected _id, text and context_id (BEIR Q&A queries with answers)")
            }
            let answers = o["answers"] as? [String] ?? []
            return BEIRQuestion(id: id, text: text, answerable: (o["answerable"] as? Bool) ?? !answers.isEmpty, answers: answers, context: context)
        }
    }
}
