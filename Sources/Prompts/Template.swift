import Foundation

/// A value a template variable can take.
public enum TemplateValue: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    case text(String)
    case flag(Bool)
    /// Items of a `{{#name}}…{{/name}}` section; each item's keys are visible inside the section.
    case list([[String: TemplateValue]])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }

    /// Whether `{{#name}}` renders its body (and `{{^name}}` does not).
    var isTruthy: Bool {
        switch self {
        case .text(let s): !s.isEmpty
        case .flag(let b): b
        case .list(let l): !l.isEmpty
        }
    }
}

/// A parsed template. The syntax is a small subset of Mustache, chosen so a prompt author can
/// read it without a manual (see Prompts/README.md):
///
///     {{name}}                 the value of `name` (an error if there is none — never "")
///     {{#name}} … {{/name}}    a list: the body once per item, with the item's keys and
///                              `index` (1-based), `first`, `last`; a flag or text: once if set
///     {{^name}} … {{/name}}    the body only if `name` is an empty list, false or ""
///     {{! comment }}           dropped
///
/// A line holding only a section or comment tag disappears entirely, so sections do not leave
/// blank lines in the prompt. There is no escaping: prompts are plain text.
public struct Template: Sendable {
    indirect enum Node: Sendable {
        case text(String)
        case variable(String, line: Int)
        case section(String, inverted: Bool, body: [Node], line: Int)
    }

    let nodes: [Node]
    /// Where the template came from, for errors.
    public let pack: String
    public let file: String

    public init(_ source: String, pack: String, file: String) throws {
        self.pack = pack; self.file = file
        var parser = Parser(source: source, pack: pack, file: file)
        nodes = try parser.parseAll()
    }

    /// Every variable and section name the template refers to, in order of first use.
    public var variableNames: [String] {
        var seen: [String] = []
        func walk(_ ns: [Node]) {
            for n in ns {
                switch n {
                case .text: break
                case .variable(let v, _): if !seen.contains(v) { seen.append(v) }
                case .section(let v, _, let body, _):
                    if !seen.contains(v) { seen.append(v) }
                    walk(body)
                }
            }
        }
        walk(nodes)
        return seen
    }

    /// Renders with `values`; a variable with no value anywhere in scope is an error.
    public func render(_ values: [String: TemplateValue]) throws -> String {
        var out = ""
        try render(nodes, scopes: [values], into: &out)
        return out
    }

    private func lookup(_ name: String, _ scopes: [[String: TemplateValue]]) -> TemplateValue? {
        for scope in scopes.reversed() { if let v = scope[name] { return v } }
        return nil
    }

    private func render(_ ns: [Node], scopes: [[String: TemplateValue]], into out: inout String) throws {
        for n in ns {
            switch n {
            case .text(let s):
                out += s
            case .variable(let name, let line):
                guard let v = lookup(name, scopes) else {
                    throw PackError.missingVariable(pack: pack, file: file, line: line, variable: name)
                }
                switch v {
                case .text(let s): out += s
                case .flag, .list:
                    throw PackError.variableType(pack: pack, file: file, line: line, variable: name,
                                                 detail: "is a list or flag; use it as a section {{#\(name)}}…{{/\(name)}}")
                }
            case .section(let name, let inverted, let body, let line):
                guard let v = lookup(name, scopes) else {
                    throw PackError.missingVariable(pack: pack, file: file, line: line, variable: name)
                }
                if inverted {
                    if !v.isTruthy { try render(body, scopes: scopes, into: &out) }
                    continue
                }
                switch v {
                case .list(let items):
                    for (i, item) in items.enumerated() {
                        var scope = item
                        if scope["index"] == nil { scope["index"] = .text(String(i + 1)) }
                        scope["first"] = .flag(i == 0)
                        scope["last"] = .flag(i == items.count - 1)
                        try render(body, scopes: scopes + [scope], into: &out)
                    }
                case .flag, .text:
                    if v.isTruthy { try render(body, scopes: scopes, into: &out) }
                }
            }
        }
    }
}

/// Turns template text into nodes, tracking line numbers for errors.
private struct Parser {
    let chars: [Character]
    let pack: String
    let file: String
    var pos = 0
    var line = 1

    init(source: String, pack: String, file: String) {
        chars = Array(source); self.pack = pack; self.file = file
    }

    mutating func parseAll() throws -> [Template.Node] {
        let (nodes, close) = try parse(until: nil)
        if let close { throw syntax("'{{/\(close.name)}}' closes a section that was never opened", close.line) }
        return nodes
    }

    private func syntax(_ detail: String, _ at: Int) -> PackError {
        .templateSyntax(pack: pack, file: file, line: at, detail: detail)
    }

    private func startsTag(at i: Int) -> Bool {
        i + 1 < chars.count && chars[i] == "{" && chars[i + 1] == "{"
    }

    /// True when the tag spanning [start, end) is alone on its line (only spaces around it).
    private func standalone(_ start: Int, _ end: Int) -> Bool {
        var i = start - 1
        while i >= 0, chars[i] == " " || chars[i] == "\t" { i -= 1 }
        guard i < 0 || chars[i] == "\n" else { return false }
        var j = end
        while j < chars.count, chars[j] == " " || chars[j] == "\t" || chars[j] == "\r" { j += 1 }
        return j == chars.count || chars[j] == "\n"
    }

    /// Parses nodes until the matching close tag (returned) or the end of the text.
    mutating func parse(until open: String?) throws -> ([Template.Node], (name: String, line: Int)?) {
        var nodes: [Template.Node] = []
        var text = ""
        func flush() { if !text.isEmpty { nodes.append(.text(text)); text = "" } }
        while pos < chars.count {
            guard startsTag(at: pos) else {
                if chars[pos] == "\n" { line += 1 }
                text.append(chars[pos]); pos += 1
                continue
            }
            let tagStart = pos, tagLine = line
            var end = pos + 2
            while end + 1 < chars.count, !(chars[end] == "}" && chars[end + 1] == "}") {
                if chars[end] == "\n" { throw syntax("'{{' is not closed on the same line", tagLine) }
                end += 1
            }
            guard end + 1 < chars.count else { throw syntax("'{{' is never closed with '}}'", tagLine) }
            let inner = String(chars[(tagStart + 2)..<end]).trimmingCharacters(in: .whitespaces)
            let tagEnd = end + 2
            let sigil = inner.first
            let name = (sigil == "#" || sigil == "^" || sigil == "/" || sigil == "!")
                ? String(inner.dropFirst()).trimmingCharacters(in: .whitespaces) : inner
            if sigil != "!" {
                guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                    throw syntax("'{{\(inner)}}' is not a valid tag (names use letters, digits, _ - .)", tagLine)
                }
            }
            pos = tagEnd
            let isBlockTag = sigil == "#" || sigil == "^" || sigil == "/" || sigil == "!"
            if isBlockTag && standalone(tagStart, tagEnd) {
                // Drop the indentation before the tag and the newline after it.
                while let last = text.last, last == " " || last == "\t" { text.removeLast() }
                while pos < chars.count, chars[pos] != "\n" { pos += 1 }
                if pos < chars.count { pos += 1; line += 1 }
            }
            switch sigil {
            case "!": continue
            case "/":
                flush()
                guard let open else { return (nodes, (name, tagLine)) }
                guard open == name else {
                    throw syntax("'{{/\(name)}}' closes '\(open)' — sections must close in order", tagLine)
                }
                return (nodes, (name, tagLine))
            case "#", "^":
                flush()
                let (body, close) = try parse(until: name)
                guard close != nil else { throw syntax("section '{{\(sigil!)\(name)}}' is never closed with '{{/\(name)}}'", tagLine) }
                nodes.append(.section(name, inverted: sigil == "^", body: body, line: tagLine))
            default:
                flush()
                nodes.append(.variable(name, line: tagLine))
            }
        }
        flush()
        return (nodes, nil)
    }
}
