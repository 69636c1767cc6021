import Foundation
import Prompts
import Runtime

/// `--packs DIR`, shared by every command that reads prompt packs.
let packsOption = OptionSpec.value("packs", "DIR", "also look for prompt packs in DIR (repeatable; searched first)")

extension ParsedArguments {
    var packLibrary: PackLibrary { runtime.packLibrary }
}

struct PacksListCommand: CLICommand {
    static let name = "packs list"
    static let summary = "list the prompt packs"
    static let usage = "Usage: strata packs list [--packs DIR]\n\nShows every pack found on the search path, with its scenario and languages."
    static let options = [packsOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("'packs list' takes no arguments", command: name) }
        let lib = args.packLibrary
        let folders = lib.packFolders()
        if folders.isEmpty {
            throw CLIError.failed("no prompt packs found in \(lib.searchPaths.map(\.path).joined(separator: ", ")) — pass --packs DIR")
        }
        var failed = false
        for folder in folders {
            do {
                let p = try PromptPack.load(from: folder)
                let line = "\(p.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(p.scenario.rawValue.padding(toLength: 17, withPad: " ", startingAt: 0)) \(p.languages.joined(separator: ",").padding(toLength: 7, withPad: " ", startingAt: 0)) \(p.description)"
                print(line)
            } catch {
                failed = true
                print("\(folder.lastPathComponent.padding(toLength: 18, withPad: " ", startingAt: 0)) INVALID: \(error.localizedDescription)")
            }
        }
        return failed ? 1 : 0
    }
}

struct PacksShowCommand: CLICommand {
    static let name = "packs show"
    static let summary = "show a prompt pack's settings and templates"
    static let usage = "Usage: strata packs show NAME [--packs DIR]"
    static let options = [packsOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.count == 1 else {
            throw CLIError.usage("give exactly one pack name (see 'strata packs list')", command: name)
        }
        let p = try args.packLibrary.pack(named: args.positionals[0])
        print("""
        name:        \(p.name)
        folder:      \(p.directory.path)
        scenario:    \(p.scenario.rawValue)
        description: \(p.description)
        languages:   \(p.languages.joined(separator: ", "))
        adapter:     \(p.adapter ?? "none (base model)")
        retrieval:   k=\(p.retrieval.k) mode=\(p.retrieval.mode.rawValue) min_evidence=\(p.retrieval.minEvidence) min_coverage=\(p.retrieval.minCoverage)
        generation:  temperature=\(p.generation.temperature) max_tokens=\(p.generation.maxTokens) stop=\(p.generation.stop.map { $0.debugDescription }.joined(separator: " "))
        data:        \(p.data.isEmpty ? "none" : p.data.keys.sorted().joined(separator: ", "))
        """)
        for lang in p.languages { print("refusal.\(lang):  \(p.refusal(language: lang))") }
        for stem in p.templates.keys.sorted() {
            let t = p.templates[stem]!
            print("\n--- \(stem).md (variables: \(t.variableNames.joined(separator: ", ")))")
            let sample = p.scenario.sampleValues(language: stem.hasSuffix(".zh") ? "zh" : p.languages[0],
                                                 refusal: p.refusal(language: stem.hasSuffix(".zh") ? "zh" : p.languages[0]))
            print(try t.render(sample), terminator: "")
        }
        return 0
    }
}

struct PacksCheckCommand: CLICommand {
    static let name = "packs check"
    static let summary = "validate every prompt pack and render its templates"
    static let usage = """
    Usage: strata packs check [--packs DIR]

    Loads every pack on the search path and renders each template in each language with sample
    values of its scenario. Exits 1 when any pack is invalid, naming pack, file and key.
    """
    static let options = [packsOption]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        guard args.positionals.isEmpty else { throw CLIError.usage("'packs check' takes no arguments", command: name) }
        let results = args.packLibrary.check()
        if results.isEmpty { throw CLIError.failed("no prompt packs found — pass --packs DIR") }
        for r in results {
            if let e = r.error { print("FAIL \(r.name): \(e.localizedDescription)") }
            else { print("ok   \(r.name) (\(r.renderedTemplates.joined(separator: " ")))") }
        }
        let bad = results.filter { !$0.ok }.count
        print("\(results.count - bad) of \(results.count) packs valid")
        return bad == 0 ? 0 : 1
    }
}
