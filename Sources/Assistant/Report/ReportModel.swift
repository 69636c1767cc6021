import Foundation

/// One entry of the references list, numbered once across the whole report.
public struct ReportReference: Sendable, Codable, Equatable {
    public var number: Int
    /// The knowledge-base chunk it points at (0 for a business-table extract, which is no chunk).
    public var chunkID: Int64
    public var path: String
    public var heading: String
    public var startLine: Int
    public var endLine: Int

    /// `Knowledge/research/semiconductors.md › Outlook (lines 40–58)`
    public var label: String {
        "\(path)\(heading.isEmpty ? "" : " › \(heading)") (lines \(startLine)–\(endLine))"
    }
}

/// A written section: its sentences carry global citation numbers.
public struct ReportSection: Sendable, Codable, Equatable {
    public var title: String
    public var queries: [String]
    /// Passages that passed selection (what the model saw), in prompt order.
    public var evidenceChunkIDs: [Int64]
    /// Final text (Markdown paragraphs and bullets), citations as [n] into the references list.
    public var text: String
    /// True when no relevant evidence was found: `text` is then the one-line notice.
    public var empty: Bool
    /// Sentences of the final text that came from the model (after the support check).
    public var modelSentences: Int
    /// Key evidence sentences quoted from the passages to ground the section.
    public var evidenceSentences: Int
    /// Model sentences dropped (or marked) by the support check.
    public var unsupportedSentences: Int
    public var generatedTokens: Int
    public var generationSeconds: Double
}

/// Figures printed at the end of every run, so a weak model's report is measured, not guessed.
public struct ReportQuality: Sendable, Codable, Equatable {
    public var sectionsWritten = 0
    public var sectionsEmpty = 0
    /// Characters of the report body (summary + sections, without the references), whitespace excluded.
    public var characters = 0
    /// Of which Han characters (the ≥ 4,000 target of a Chinese report).
    public var hanCharacters = 0
    public var sentences = 0
    /// Share of content sentences carrying at least one [n].
    public var citedShare = 0.0
    /// Share of content sentences that passed the support check against the passage they cite.
    public var supportedShare = 0.0
    public var distinctSources = 0
    /// Sentences removed because they repeated an earlier one (or looped).
    public var repeatedSentencesRemoved = 0
    public var modelSentences = 0
    /// Model sentences the support check rejected (dropped, or kept marked with --mark-unsupported).
    public var modelSentencesUnsupported = 0
    public var evidenceSentences = 0
    /// Sentences of the executive summary written by the model (0: the summary is the best
    /// cited finding of each section).
    public var summaryModelSentences = 0
    public var tokensGenerated = 0
    public var seconds = 0.0

    public init() {}

    /// One block of lines for stderr / the end of a run.
    public var summary: String {
        func pct(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
        return """
        sections written \(sectionsWritten), empty \(sectionsEmpty)
        characters \(characters) (Han \(hanCharacters)), sentences \(sentences) (model \(modelSentences), quoted evidence \(evidenceSentences), summary \(sentences - modelSentences - evidenceSentences), \(summaryModelSentences > 0 ? "written by the model" : "best finding per section"))
        model sentences rejected by the support check \(modelSentencesUnsupported)
        cited \(pct(citedShare)), supported \(pct(supportedShare)), distinct sources \(distinctSources), repeated sentences removed \(repeatedSentencesRemoved)
        tokens generated \(tokensGenerated) in \(String(format: "%.1f", seconds)) s
        """
    }
}

/// The structured report (`strata report --json`).
public struct Report: Sendable, Codable {
    public var topic: String
    public var language: String
    public var kind: TopicKind
    public var summary: String
    public var sections: [ReportSection]
    public var references: [ReportReference]
    public var quality: ReportQuality
    public var model: String
    public var adapter: String?
    /// False when the run was cancelled (Ctrl-C) before every section was written.
    public var complete: Bool
    /// Titles of the outline sections not written because the run stopped.
    public var unwritten: [String]

    /// The report as a Markdown document.
    public var markdown: String {
        let zh = language == "zh"
        var s = "# \(topic)\n\n"
        if !complete {
            s += zh ? "> **未完成**：生成被中断，以下仅包含已完成的部分（未写：\(unwritten.joined(separator: "、"))）。\n\n"
                    : "> **Incomplete**: generation was interrupted; only the finished sections follow (not written: \(unwritten.joined(separator: ", "))).\n\n"
        }
        if !summary.isEmpty { s += "## \(zh ? "摘要" : "Executive summary")\n\n\(summary)\n\n" }
        for (i, sec) in sections.enumerated() { s += "## \(i + 1). \(sec.title)\n\n\(sec.text)\n\n" }
        if !references.isEmpty {
            s += "## \(zh ? "参考资料" : "References")\n\n"
            for r in references { s += "[\(r.number)] \(r.label)\n" }
        }
        return s
    }
}

/// Progress of a report run, for stderr.
public enum ReportProgress: Sendable {
    case sectionStarted(index: Int, of: Int, title: String)
    case evidence(count: Int, queries: [String])
    case sectionFinished(tokens: Int, seconds: Double)
    case summary
}
