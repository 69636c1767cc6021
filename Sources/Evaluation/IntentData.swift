import Foundation
import Knowledge

/// Labelled utterances (`text,category` CSVs, as BANKING77 and CLINC150 ship them), read strictly.
package enum LabelledUtterances {
    /// The rows of `path`: text and category (the text itself when `needsCategory` is false and
    /// there is no category column, for files that are all out of scope).
    package static func read(_ path: String, needsCategory: Bool = true) throws -> [(text: String, label: String)] {
        let table: CSVTable
        do { table = try CSVParser.parse(file: path) } catch { throw EvaluationError.failed(error.localizedDescription) }
        guard let t = table.header.firstIndex(of: "text"), let c = table.header.firstIndex(of: "category") ?? (needsCategory ? nil : t) else {
            throw EvaluationError.failed("\(path) needs a header with columns \(needsCategory ? "'text' and 'category'" : "'text'"), found \(table.header.joined(separator: ","))")
        }
        if let p = table.problems.first { throw EvaluationError.failed("\(path) \(p) — fix the file") }
        return try table.records.map { r in
            guard r.fields.count == table.header.count else {
                throw EvaluationError.failed("\(path) line \(r.line): \(r.fields.count) fields, the header has \(table.header.count) — quote fields that contain commas")
            }
            return (r.fields[t], r.fields[c])
        }
    }
}

/// Sentence vectors of an evaluation set, kept in a cache file under /tmp keyed by the model and
/// the texts, so repeated runs (shots, seeds, thresholds) skip the encoder.
package enum EmbeddingCache {
    /// The vectors of `texts`, and the encoder's milliseconds per utterance when it ran (nil: cached).
    /// `note` receives what the user should know (embedding now, a cache that cannot be written).
    package static func vectors(_ texts: [String], modelID: String, dimension dim: Int, embed: ([String]) throws -> [Float],
                                note: (String) -> Void) throws -> (vectors: [[Float]], milliseconds: Double?) {
        // FNV-1a over the model and the texts: a cache key, not a security boundary.
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in modelID.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for t in texts { for byte in t.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }; h = (h ^ 0xff) &* 0x100_0000_01b3 }
        let key = String(h, radix: 16) + "-\(texts.count)"
        let path = "/tmp/strata-intent-embeddings-\(key).f32"
        if let data = FileManager.default.contents(atPath: path), data.count == texts.count * dim * 4 {
            let flat = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
            return ((0..<texts.count).map { Array(flat[($0 * dim)..<(($0 + 1) * dim)]) }, nil)
        }
        note("embedding \(texts.count) utterances (cached afterwards in \(path))…")
        let start = Date()
        let flat = try embed(texts)
        let ms = Date().timeIntervalSince(start) * 1000 / Double(max(texts.count, 1))
        if !FileManager.default.createFile(atPath: path, contents: flat.withUnsafeBufferPointer { Data(buffer: $0) }) {
            note("could not write the embedding cache \(path) (continuing; the next run embeds again) — check that its folder is writable")
        }
        return ((0..<texts.count).map { Array(flat[($0 * dim)..<(($0 + 1) * dim)]) }, ms)
    }
}
