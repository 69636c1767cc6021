import Foundation

/// The packs found on a list of folders. Users add a pack by adding a folder; the first folder
/// that holds a pack of a given name wins, so `--packs DIR` can override a shipped pack.
public struct PackLibrary: Sendable {
    public let searchPaths: [URL]

    public init(searchPaths: [URL]) { self.searchPaths = searchPaths }

    /// `extra` (from --packs), then $STRATA_PACKS, then ./Prompts, then the Prompts folder of the
    /// source tree this binary was built from (so a development build finds the shipped packs
    /// from any directory).
    public static func standard(extra: [String] = [], environment: [String: String] = ProcessInfo.processInfo.environment) -> PackLibrary {
        var paths = extra.map { URL(fileURLWithPath: $0) }
        if let env = environment["STRATA_PACKS"] {
            paths += env.split(separator: ":").map { URL(fileURLWithPath: String($0)) }
        }
        paths.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("Prompts"))
        paths.append(shippedPacks)
        var seen = Set<String>()
        return PackLibrary(searchPaths: paths.filter { seen.insert($0.standardizedFileURL.path).inserted })
    }

    /// `<project>/Prompts`, found from this source file's location at build time.
    public static var shippedPacks: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Prompts")
    }

    /// Pack folders (those holding a pack.json), first occurrence of each name, sorted by name.
    public func packFolders() -> [URL] {
        var byName: [String: URL] = [:]
        for dir in searchPaths {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            for entry in entries.sorted() where byName[entry] == nil {
                let folder = dir.appendingPathComponent(entry)
                if FileManager.default.fileExists(atPath: folder.appendingPathComponent("pack.json").path) {
                    byName[entry] = folder
                }
            }
        }
        return byName.keys.sorted().map { byName[$0]! }
    }

    public func pack(named name: String) throws -> PromptPack {
        guard let folder = packFolders().first(where: { $0.lastPathComponent == name }) else {
            throw PackError.notFound(name: name, searched: searchPaths.map(\.path))
        }
        return try PromptPack.load(from: folder)
    }

    /// The outcome of checking one pack folder.
    public struct CheckResult: Sendable {
        public let name: String
        public let folder: URL
        /// Every template rendered for every language, nil when the pack did not load.
        public let renderedTemplates: [String]
        public let error: (any Error)?
        public var ok: Bool { error == nil }
    }

    /// Loads every pack and renders each of its templates in each language with the sample
    /// values of its scenario, so a misspelt variable is found before a user asks a question.
    public func check() -> [CheckResult] {
        packFolders().map { folder in
            do {
                let pack = try PromptPack.load(from: folder)
                var rendered: [String] = []
                for lang in pack.languages {
                    let values = pack.scenario.sampleValues(language: lang, refusal: pack.refusal(language: lang))
                    for role in PromptPack.requiredRoles + PromptPack.optionalRoles where pack.template(role, language: lang) != nil {
                        _ = try pack.render(role, language: lang, values: values)
                        rendered.append("\(role).\(lang)")
                    }
                }
                return CheckResult(name: pack.name, folder: folder, renderedTemplates: rendered, error: nil)
            } catch {
                return CheckResult(name: folder.lastPathComponent, folder: folder, renderedTemplates: [], error: error)
            }
        }
    }
}

extension ScenarioKind {
    /// The variables the scenario gives its templates (documented in Prompts/README.md).
    public var variables: [String] {
        ["question", "refusal", "language", "sources: index path heading lines text", "has_sources", "refusal_rule", "lines (select.md)"]
    }

    /// Values shaped exactly like the ones the scenario renders with, for `packs check`.
    public func sampleValues(language: String, refusal: String) -> [String: TemplateValue] {
        let zh = language == "zh"
        let sources: [[String: TemplateValue]] = [
            ["index": "1", "path": "Knowledge/policies/refunds.md", "heading": zh ? "退款 › 信用卡退款" : "Refunds › Card refunds",
             "lines": "12–30", "text": zh ? "信用卡退款在 5 个工作日内退回原卡。" : "Card refunds are returned to the card within 5 working days."],
            ["index": "2", "path": "Knowledge/policies/fees.md", "heading": zh ? "费用" : "Fees",
             "lines": "1–8", "text": zh ? "退款不收取手续费。" : "Refunds carry no fee."],
        ]
        return [
            "question": .text(zh ? "信用卡退款需要多久？" : "How long does a card refund take?"),
            "refusal": .text(refusal),
            "language": .text(language),
            "sources": .list(sources),
            "has_sources": .flag(true),
            "refusal_rule": .flag(true),
            // kb-qa's select template (answering by quotation): the sources as numbered lines.
            "lines": .text(zh ? "1. 信用卡退款: 信用卡退款在 5 个工作日内退回原卡。\n2. 费用: 退款不收取手续费。"
                              : "1. Card refunds: Card refunds are returned to the card within 5 working days.\n2. Fees: Refunds carry no fee."),
        ]
    }
}
