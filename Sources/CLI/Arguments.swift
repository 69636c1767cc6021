import Foundation
import Knowledge
import Runtime

/// One option a command accepts: `--name VALUE` or a bare `--flag`.
struct OptionSpec: Sendable {
    let name: String          // without the leading dashes
    let short: Character?
    let valueName: String?    // nil for a flag
    let help: String

    static func flag(_ name: String, short: Character? = nil, _ help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: nil, help: help)
    }
    static func value(_ name: String, short: Character? = nil, _ valueName: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, short: short, valueName: valueName, help: help)
    }
}

/// Options every command accepts.
let globalOptions: [OptionSpec] = [
    .value("db", "PATH", "the knowledge database (default: $STRATA_DB or ./strata.db)"),
    .value("config", "FILE", "settings file (JSON: db, model, embedder, adapters, packs; default: $STRATA_CONFIG)"),
    .flag("help", short: "h", "show this help"),
]

/// A command line parsed against a command's option list.
struct ParsedArguments: Sendable {
    var values: [String: [String]] = [:]
    var flags: Set<String> = []
    var positionals: [String] = []
    let command: String
    /// The run's settings and shared resources, set once the command line is parsed.
    var runtime: Runtime!

    func has(_ flag: String) -> Bool { flags.contains(flag) }
    func value(_ name: String) -> String? { values[name]?.last }
    func all(_ name: String) -> [String] { values[name] ?? [] }

    func int(_ name: String, default fallback: Int) throws -> Int {
        guard let raw = value(name) else { return fallback }
        guard let v = Int(raw.replacingOccurrences(of: "_", with: "")) else {
            throw CLIError.usage("--\(name) takes a whole number, got '\(raw)'", command: command)
        }
        return v
    }
    func double(_ name: String, default fallback: Double) throws -> Double {
        guard let raw = value(name) else { return fallback }
        guard let v = Double(raw), v.isFinite else {
            throw CLIError.usage("--\(name) takes a number, got '\(raw)'", command: command)
        }
        return v
    }
    func optionalInt(_ name: String) throws -> Int? {
        guard value(name) != nil else { return nil }
        return try int(name, default: 0)
    }
    func optionalDouble(_ name: String) throws -> Double? {
        guard value(name) != nil else { return nil }
        return try double(name, default: 0)
    }

    /// The database path: --db, then $STRATA_DB, then the config file's, then ./strata.db.
    var databasePath: String { runtime.configuration.databasePath }

    /// The options the runtime resolves (with the environment and the config file).
    var runtimeFlags: RuntimeConfiguration.Flags {
        RuntimeConfiguration.Flags(database: value("db"), model: value("model"), embedder: value("embedder"),
                                   adapters: value("adapters"), packs: all("packs"), config: value("config"),
                                   llmURL: value("llm-url"), llmModel: value("llm-model"),
                                   embedderURL: value("embedder-url"), embedderModel: value("embedder-model"))
    }

    /// Access groups given with --as (comma separated, repeatable).
    var groups: [String] {
        all("as").flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
            .filter { !$0.isEmpty }
    }

    /// The groups a write gives its documents with --groups (comma separated, repeatable),
    /// normalised; empty when --groups was given with no name (callers refuse that).
    var documentGroups: [String] {
        AccessGroups.normalize(all("groups").flatMap { $0.split(separator: ",").map(String.init) })
    }
}

enum ArgumentParser {
    /// Parses `args` against `specs` (plus the global options). Unknown options are errors;
    /// `--` ends option parsing; `--name=value` and `--name value` both work.
    static func parse(_ args: [String], specs: [OptionSpec], command: String) throws -> ParsedArguments {
        let all = specs + globalOptions
        var result = ParsedArguments(command: command)
        var i = 0
        var optionsDone = false
        while i < args.count {
            let arg = args[i]
            i += 1
            if optionsDone || !arg.hasPrefix("-") || arg == "-" || isNegativeNumber(arg) {
                result.positionals.append(arg)
                continue
            }
            if arg == "--" { optionsDone = true; continue }
            var name: String
            var inline: String? = nil
            if arg.hasPrefix("--") {
                name = String(arg.dropFirst(2))
                if let eq = name.firstIndex(of: "=") {
                    inline = String(name[name.index(after: eq)...])
                    name = String(name[..<eq])
                }
            } else {
                let chars = Array(arg.dropFirst())
                guard chars.count == 1, let spec = all.first(where: { $0.short == chars[0] }) else {
                    throw CLIError.usage("unknown option '\(arg)'", command: command)
                }
                name = spec.name
            }
            guard let spec = all.first(where: { $0.name == name }) else {
                let near = all.map(\.name).filter { $0.hasPrefix(String(name.prefix(3))) }
                let hint = near.isEmpty ? "" : " (did you mean --\(near[0])?)"
                throw CLIError.usage("unknown option '--\(name)'\(hint)", command: command)
            }
            if spec.valueName == nil {
                if inline != nil { throw CLIError.usage("--\(name) takes no value", command: command) }
                result.flags.insert(name)
            } else {
                let v: String
                if let inline { v = inline } else {
                    guard i < args.count else {
                        throw CLIError.usage("--\(name) needs a value (\(spec.valueName!))", command: command)
                    }
                    v = args[i]
                    i += 1
                }
                result.values[name, default: []].append(v)
            }
        }
        return result
    }

    private static func isNegativeNumber(_ s: String) -> Bool {
        s.count > 1 && Double(s) != nil
    }
}
