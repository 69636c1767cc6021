import Foundation
import Assistant
import Knowledge
import Prompts
import Tensor

/// `eval qa --records FILE`: one JSON line per evaluated question after a header line naming
/// the run, so a multi-hour evaluation survives an interruption and its answers can be read
/// afterwards. Resuming checks the header: outcomes of a different run (another model, seed,
/// sample size, layer set...) must never be mixed into a table.
package struct RecordsFile {
    /// What makes two runs comparable. Not the sample size: the sample is a seeded shuffle cut
    /// to --limit, so a run's first 100 questions are the first 100 of its 300-question run, and
    /// a file can grow from one to the other.
    package struct Run: Codable, Equatable {
        package var beir: String
        package var seed: Int
        package var holdout: Double
        package var model: String
        package var pack: String
        /// SHA-256 prefix over the pack folder's files: an edited template is another run.
        package var packDigest: String
        package var k: Int
        package var layers: String
        package var minCoverage: Double
        package var minEvidence: Double
        /// `KnowledgeQA.revision` of the build that asked. Files from before this field were
        /// written by revision 1.
        package var pipeline: Int?
        /// The `PromptArithmetic` of the run (the two round differently). Files from before this
        /// field: "row-exact", what every prompt used then.
        package var arithmetic: String?

        package init(beir: String, seed: Int, holdout: Double, model: String, pack: String, packDigest: String, k: Int,
                     layers: String, minCoverage: Double, minEvidence: Double, pipeline: Int?, arithmetic: String?) {
            self.beir = beir; self.seed = seed; self.holdout = holdout; self.model = model; self.pack = pack
            self.packDigest = packDigest; self.k = k; self.layers = layers; self.minCoverage = minCoverage
            self.minEvidence = minEvidence; self.pipeline = pipeline; self.arithmetic = arithmetic
        }
    }

    package struct Record: Codable {
        package var id: String
        /// Files before the records were committed to the repository hold the question's text;
        /// now the id alone names it (the dataset stays beside the project, not in our history).
        package var question: String?
        /// The text as `ask` would print it (the refusal sentence when refused).
        package var answer: String
        package var outcome: QAMetrics.Outcome
        /// Prompt and reply tokens (0 when the gate refused before the model).
        package var promptTokens: Int?
        package var generatedTokens: Int?

        package init(id: String, question: String? = nil, answer: String, outcome: QAMetrics.Outcome,
                     promptTokens: Int?, generatedTokens: Int?) {
            self.id = id; self.question = question; self.answer = answer; self.outcome = outcome
            self.promptTokens = promptTokens; self.generatedTokens = generatedTokens
        }
    }

    /// The first 12 hex digits of SHA-256 over the pack folder's file names and contents.
    package static func digest(of pack: PromptPack) -> String {
        let fm = FileManager.default
        let names = ((try? fm.contentsOfDirectory(atPath: pack.directory.path)) ?? []).sorted()
        var bytes: [UInt8] = []
        for name in names {
            let url = pack.directory.appendingPathComponent(name)
            guard let data = fm.contents(atPath: url.path) else { continue }   // folders: not part of a pack's text
            bytes += Array(name.utf8) + [0] + Array(data) + [0]
        }
        return String(SHA256.hex(SHA256.digest(bytes)).prefix(12))
    }

    package let path: String
    /// Outcomes already recorded, by question id.
    package let done: [String: QAMetrics.Outcome]
    private let handle: FileHandle

    package init(path: String, run: Run) throws {
        self.path = path
        let fm = FileManager.default
        var data = Data()
        if fm.fileExists(atPath: path) {
            guard let existing = fm.contents(atPath: path) else {
                throw EvaluationError.failed("cannot read \(path) — --records needs a readable file, or a new path")
            }
            data = existing
        }
        // A run killed while writing leaves a partial last line: cut it; the question is asked again.
        if let last = data.last, last != 0x0A {
            let keep = data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
            data = data.prefix(keep)
            guard fm.createFile(atPath: path, contents: data) else {
                throw EvaluationError.failed("cannot rewrite \(path) to drop its unfinished last line — check the file's permissions")
            }
        }
        var done: [String: QAMetrics.Outcome] = [:]
        if let (recorded, outcomes) = try Self.parse(data, path: path) {
            guard recorded == run else {
                throw EvaluationError.failed("\(path) holds another run (\(Self.differences(recorded, run))) — use a new --records file, or repeat that run's options to resume it")
            }
            done = outcomes
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            guard fm.createFile(atPath: path, contents: try encoder.encode(["run": run]) + Data([0x0A])) else {
                throw EvaluationError.failed("cannot create \(path) — check that its folder exists and is writable")
            }
        }
        self.done = done
        guard let h = FileHandle(forWritingAtPath: path) else {
            throw EvaluationError.failed("cannot open \(path) for writing — check the file's permissions")
        }
        h.seekToEndOfFile()
        handle = h
    }

    /// Another run's file, read only (`--paired`): its header and outcomes. A partial last line,
    /// from a run still writing or killed, is left out.
    package static func read(_ path: String) throws -> (run: Run, done: [String: QAMetrics.Outcome]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.failed("cannot read \(path) — pass an eval qa --records file")
        }
        let whole = data.last == 0x0A ? data : data.prefix(data.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0)
        guard let parsed = try parse(whole, path: path) else {
            throw EvaluationError.failed("\(path) is empty — pass an eval qa --records file that holds questions")
        }
        return parsed
    }

    /// The header and records of whole lines; nil for no lines at all.
    private static func parse(_ data: Data, path: String) throws -> (run: Run, done: [String: QAMetrics.Outcome])? {
        let lines = data.split(separator: 0x0A)
        guard let header = lines.first else { return nil }
        let decoder = JSONDecoder()
        guard var run = try? decoder.decode([String: Run].self, from: Data(header))["run"] else {
            throw EvaluationError.failed("\(path) line 1 is not an eval qa records header — pass a new file to --records")
        }
        run.pipeline = run.pipeline ?? 1
        run.arithmetic = run.arithmetic ?? PromptArithmetic.rowExact.rawValue
        var done: [String: QAMetrics.Outcome] = [:]
        for (i, line) in lines.dropFirst().enumerated() {
            guard let r = try? decoder.decode(Record.self, from: Data(line)) else {
                throw EvaluationError.failed("\(path) line \(i + 2) is not a question record — the file was edited or damaged; move it aside and start again")
            }
            done[r.id] = r.outcome
        }
        return (run, done)
    }

    /// Appends one question's record as a whole line.
    package func append(_ record: Record) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try handle.write(contentsOf: try encoder.encode(record) + Data([0x0A]))
    }

    /// "seed 1 here, 2 in the file"-style list of the fields that differ.
    package static func differences(_ recorded: Run, _ now: Run) -> String {
        let mirrorA = Mirror(reflecting: recorded), mirrorB = Mirror(reflecting: now)
        func show(_ value: Any) -> String {   // 2, not Optional(2)
            let m = Mirror(reflecting: value)
            return m.displayStyle == .optional ? m.children.first.map { "\($0.value)" } ?? "none" : "\(value)"
        }
        return zip(mirrorA.children, mirrorB.children).compactMap { a, b in
            show(a.value) == show(b.value) ? nil : "\(a.label ?? "?"): \(show(a.value)) in the file, \(show(b.value)) now"
        }.joined(separator: "; ")
    }
}
