import Foundation
import Assistant
import StrataCore

/// `eval kb --replay DETAILS`: the model's drafts recorded by an earlier `--details` run, given
/// back in place of the model, so a change to what happens around the model (retrieval, focus,
/// the support and agreement checks) is measured on the same drafts in seconds instead of a
/// model run of half an hour. The drafts were written for the prompts of that run: a change that
/// alters what the model reads (the pack, retrieval, focus) makes the replay an approximation,
/// which is why it is a tool for the checks and not a benchmark result.
package struct ReplayGenerator: TextGenerator {
    package let modelID: String
    /// Question text → the draft recorded for it.
    let drafts: [String: String]
    /// Question texts, longest first: the one found in the prompt is the question asked.
    let questions: [String]

    /// Reads `details` (lines with `id` and `draft`, as `eval kb --details` writes them) and
    /// `questions` (the set they answered, for each id's text). A question whose id has no
    /// recorded line replays an empty draft, which the pipeline refuses.
    package init(details path: String, questions: [KBQuestion]) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EvaluationError.failed("\(path): the file is missing or unreadable — give a file written by 'eval kb --details'")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw EvaluationError.failed("\(path): it is not UTF-8 text — give a file written by 'eval kb --details'")
        }
        struct Line: Decodable { var id: String; var draft: String; var selection: String? }
        let byID = Dictionary(questions.map { ($0.id, $0.question) }, uniquingKeysWith: { a, _ in a })
        var drafts: [String: String] = [:]
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: true).enumerated() {
            guard let line = try? JSONDecoder().decode(Line.self, from: Data(raw.utf8)) else {
                throw EvaluationError.failed("\(path): line \(n + 1) is not a details line (JSON with id and draft) — give a file written by 'eval kb --details'")
            }
            // Answering by quotation keeps the model's reply apart from the quoted draft.
            if let q = byID[line.id] { drafts[q] = line.selection ?? line.draft }
        }
        guard !drafts.isEmpty else {
            throw EvaluationError.failed("\(path): none of its ids is in the question set — replay the details of a run on the same questions")
        }
        self.drafts = drafts
        self.questions = drafts.keys.sorted { $0.count > $1.count }
        modelID = "replay of " + URL(fileURLWithPath: path).lastPathComponent
    }

    package func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        let prompt = request.messages.last { $0.role == .user }?.content ?? ""
        let text = questions.first { prompt.contains($0) }.flatMap { drafts[$0] } ?? ""
        if !text.isEmpty { _ = onPiece(text) }
        return GenerationResult(text: text, promptTokens: 0, generatedTokens: 0, promptSeconds: 0,
                                generationSeconds: 0, stopReason: .endOfSequence)
    }
}
