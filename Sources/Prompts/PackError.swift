import Foundation

/// What can be wrong with a prompt pack. Every case names the pack and the file, and where it
/// applies the key or template variable, so the author can go straight to the line to fix.
public enum PackError: Error, LocalizedError, Equatable, Sendable {
    /// No pack of that name on any search path.
    case notFound(name: String, searched: [String])
    /// pack.json (or a data file) is not valid JSON.
    case invalidJSON(pack: String, file: String, detail: String)
    /// A key the format does not define (often a typo).
    case unknownKey(pack: String, file: String, key: String, known: [String])
    /// A required key is absent.
    case missingKey(pack: String, file: String, key: String)
    /// A key holds a value of the wrong JSON type.
    case wrongType(pack: String, file: String, key: String, expected: String, found: String)
    /// A key holds a value of the right type but outside what is allowed.
    case invalidValue(pack: String, file: String, key: String, detail: String)
    /// A template or data file the pack needs is absent.
    case missingFile(pack: String, file: String, detail: String)
    /// A template does not parse (unclosed or mismatched section).
    case templateSyntax(pack: String, file: String, line: Int, detail: String)
    /// A template uses a variable the renderer was given no value for.
    case missingVariable(pack: String, file: String, line: Int, variable: String)
    /// A variable is used as text but holds a list, or as a section but holds something else.
    case variableType(pack: String, file: String, line: Int, variable: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .notFound(let name, let searched):
            "no prompt pack named '\(name)' (searched \(searched.joined(separator: ", "))) — run 'strata packs list' to see the packs, or add a folder with --packs DIR"
        case .invalidJSON(let p, let f, let d):
            "pack '\(p)', \(f): not valid JSON (\(d)) — fix the syntax"
        case .unknownKey(let p, let f, let k, let known):
            "pack '\(p)', \(f): unknown key '\(k)' — remove it or use one of: \(known.joined(separator: ", "))"
        case .missingKey(let p, let f, let k):
            "pack '\(p)', \(f): missing required key '\(k)' — add it (see Prompts/README.md)"
        case .wrongType(let p, let f, let k, let e, let found):
            "pack '\(p)', \(f): key '\(k)' should be \(e), found \(found)"
        case .invalidValue(let p, let f, let k, let d):
            "pack '\(p)', \(f): key '\(k)': \(d)"
        case .missingFile(let p, let f, let d):
            "pack '\(p)': missing file \(f) — \(d)"
        case .templateSyntax(let p, let f, let l, let d):
            "pack '\(p)', \(f) line \(l): \(d)"
        case .missingVariable(let p, let f, let l, let v):
            "pack '\(p)', \(f) line \(l): template variable '{{\(v)}}' has no value — check its spelling against the variables listed in Prompts/README.md"
        case .variableType(let p, let f, let l, let v, let d):
            "pack '\(p)', \(f) line \(l): variable '\(v)' \(d)"
        }
    }
}
