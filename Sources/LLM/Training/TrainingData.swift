import Foundation
import Tensor
import Tokenizers

/// Training text: documents read from `.jsonl` (a "text" field per line), `.txt` or `.md`
/// files, or a folder of them, tokenized and packed into fixed-length sequences.
public enum TrainingData {
    public enum DataError: Error, LocalizedError {
        /// A path that does not exist.
        case notFound(String)
        /// A file of a kind we do not read.
        case unsupported(String)
        /// A JSON-lines record that is not an object with a string "text".
        case badRecord(path: String, line: Int)
        /// Nothing usable in what was given.
        case empty(paths: [String])
        /// Too little text for one sequence.
        case tooShort(tokens: Int, needed: Int)

        public var errorDescription: String? {
            switch self {
            case .notFound(let p): "\(p) not found — check the --data/--eval path"
            case .unsupported(let p): "\(p) is not a .jsonl, .txt or .md file — give text files or a folder of them"
            case .badRecord(let p, let n): "\(p) line \(n) is not a JSON object with a string \"text\" field — each line must be {\"text\": ...}"
            case .empty(let paths): "no usable text in \(paths.joined(separator: ", ")) — give .jsonl files with a non-empty \"text\" field per line, or .txt/.md files"
            case .tooShort(let tokens, let needed): "the data holds \(tokens) tokens, fewer than one training sequence of \(needed) — give more text or a smaller --seq"
            }
        }
    }

    /// The files a path names: itself, or the .jsonl/.txt/.md files under a folder (sorted).
    public static func files(_ path: String) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else { throw DataError.notFound(path) }
        let kinds: Set<String> = ["jsonl", "txt", "md"]
        guard isDir.boolValue else {
            guard kinds.contains(URL(fileURLWithPath: path).pathExtension.lowercased()) else { throw DataError.unsupported(path) }
            return [path]
        }
        let e = FileManager.default.enumerator(atPath: path)
        var out: [String] = []
        while let item = e?.nextObject() as? String {
            if kinds.contains(URL(fileURLWithPath: item).pathExtension.lowercased()) { out.append(path + "/" + item) }
        }
        return out.sorted()
    }

    /// The non-blank documents of the files: one per JSON-lines record, one per text file.
    public static func documents(_ files: [String]) throws -> [String] {
        var docs: [String] = []
        for f in files {
            guard let data = FileManager.default.contents(atPath: f), let text = String(data: data, encoding: .utf8) else {
                throw DataError.notFound(f)
            }
            if f.lowercased().hasSuffix(".jsonl") {
                for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
                where !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          let t = obj["text"] as? String else { throw DataError.badRecord(path: f, line: n + 1) }
                    if !t.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { docs.append(t) }
                }
            } else if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                docs.append(text)
            }
        }
        guard !docs.isEmpty else { throw DataError.empty(paths: files) }
        return docs
    }

    /// Sequences of `length + 1` tokens (inputs and shifted targets), packed back to back from
    /// the documents in an order shuffled by `seed`, EOS after each document, then shuffled
    /// again as sequences. Tokenizes only until `limit` sequences exist (a long corpus need not
    /// be tokenized whole for a short run); returns them and the documents used.
    public static func pack(_ docs: [String], tokenizer: BPETokenizer, length: Int, seed: UInt64,
                            limit: Int = .max) throws -> (sequences: [[Int32]], documentsUsed: Int) {
        var rng = SplitMix64(seed: seed)
        let order = Array(docs.indices).shuffled(using: &rng)
        let eos = tokenizer.eos ?? tokenizer.eot
        var stream: [Int32] = [], sequences: [[Int32]] = [], used = 0, total = 0
        for i in order {
            guard sequences.count < limit else { break }
            stream += tokenizer.encode(docs[i], addSpecial: false, parseSpecial: false)
            if let eos { stream.append(eos) }
            used += 1
            while stream.count >= length + 1 && sequences.count < limit {
                sequences.append(Array(stream[0..<length + 1]))
                total += length + 1
                stream.removeFirst(length + 1)
            }
        }
        guard !sequences.isEmpty else { throw DataError.tooShort(tokens: stream.count, needed: length + 1) }
        sequences.shuffle(using: &rng)
        return (sequences, used)
    }
}
