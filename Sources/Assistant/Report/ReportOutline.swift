import Foundation
import Prompts

/// What a report is about; it picks the default outline.
public enum TopicKind: String, Sendable, Codable, CaseIterable {
    case company, sector, comparison
}

/// One section to write: its title and extra search words that find its evidence
/// ("risks" also searches "downside", "pressure").
public struct OutlineSection: Sendable, Codable, Equatable {
    public var title: String
    public var hints: [String]
    public init(title: String, hints: [String] = []) { self.title = title; self.hints = hints }
}

/// The default outlines of the research-report pack (`outlines.json`, named `outlines` under the
/// pack's `data`), so wording and search hints are edited as data, not code.
public struct ReportOutlines: Sendable {
    struct Kind: Codable { var markers: [String]; var en: [OutlineSection]; var zh: [OutlineSection] }
    let kinds: [String: Kind]

    /// Loads the pack's outline file; a pack without one, or a malformed one, is an error naming it.
    public init(pack: PromptPack) throws {
        guard let url = pack.data["outlines"] else {
            throw ReportError.outline("the pack '\(pack.name)' has no \"outlines\" data file — add \"data\": {\"outlines\": \"outlines.json\"} to its pack.json")
        }
        guard let bytes = FileManager.default.contents(atPath: url.path) else {
            throw ReportError.outline("cannot read \(url.path) — restore the pack's outlines.json")
        }
        do { kinds = try JSONDecoder().decode([String: Kind].self, from: bytes) } catch {
            throw ReportError.outline("\(url.path) is not a valid outline file (\(error.localizedDescription)) — each kind needs \"markers\", \"en\" and \"zh\" lists of {\"title\", \"hints\"}")
        }
        for k in TopicKind.allCases where kinds[k.rawValue] == nil {
            throw ReportError.outline("\(url.path) has no outline for '\(k.rawValue)' — add one")
        }
    }

    /// Comparison when the topic names two things against each other, company when it names a
    /// firm, else sector. Markers are matched case-insensitively as substrings.
    public func classify(_ topic: String) -> TopicKind {
        let t = topic.lowercased()
        for k in [TopicKind.comparison, .company] where kinds[k.rawValue]!.markers.contains(where: { t.contains($0.lowercased()) }) {
            return k
        }
        return .sector
    }

    public func sections(for kind: TopicKind, language: String) -> [OutlineSection] {
        let k = kinds[kind.rawValue]!
        return language == "zh" ? k.zh : k.en
    }
}

public enum ReportOutline {
    /// Reads an outline file: one section title per line; blank lines, `#` comments and list
    /// markers ("- ", "1. ") are ignored, so a Markdown list works as well as plain lines.
    public static func parse(_ text: String, source: String = "the outline") throws -> [OutlineSection] {
        var out: [OutlineSection] = []
        for raw in text.components(separatedBy: .newlines) {
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            for marker in ["- ", "* ", "• "] where line.hasPrefix(marker) { line = String(line.dropFirst(marker.count)) }
            if let dot = line.firstIndex(where: { $0 == "." || $0 == "、" || $0 == ")" }),
               !line[..<dot].isEmpty, line[..<dot].allSatisfy(\.isNumber) {
                line = String(line[line.index(after: dot)...])
            }
            line = line.trimmingCharacters(in: .whitespaces)
            guard !line.isEmpty else { continue }
            guard line.count <= 120 else {
                throw ReportError.outline("\(source): “\(line.prefix(40))…” is too long for a section title (over 120 characters) — one title per line")
            }
            if !out.contains(where: { $0.title == line }) { out.append(OutlineSection(title: line)) }
        }
        guard !out.isEmpty else { throw ReportError.outline("\(source) has no section titles — write one title per line") }
        return out
    }

    /// 2–4 search queries for a section: title with topic, the topic's key words with the title,
    /// and the section's hints with the topic (the model can add more via `extra`).
    public static func queries(topic: String, section: OutlineSection, extra: [String] = []) -> [String] {
        var qs = ["\(topic) \(section.title)"]
        if !section.hints.isEmpty { qs.append("\(topic) " + section.hints.prefix(4).joined(separator: " ")) }
        qs.append(section.title + " " + section.hints.prefix(2).joined(separator: " "))
        if section.hints.count > 2 { qs.append("\(topic) " + section.hints.dropFirst(2).joined(separator: " ")) }
        for e in extra { qs.append("\(topic) \(e)") }
        var seen = Set<String>()
        return qs.map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && seen.insert($0.lowercased()).inserted }
            .prefix(4).map { $0 }
    }
}

/// Errors of report drafting.
public enum ReportError: Error, LocalizedError, Equatable {
    /// The outline (file or pack data) is missing or unusable.
    case outline(String)
    /// The topic is empty.
    case emptyTopic
    /// A business table given with --table cannot be read.
    case table(String)

    public var errorDescription: String? {
        switch self {
        case .outline(let m), .table(let m): m
        case .emptyTopic: "the report topic is empty — give a topic in quotes, e.g. strata report \"semiconductors\""
        }
    }
}
