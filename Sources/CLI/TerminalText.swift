import Foundation

/// Text from documents, file names, questions and models is printed through here: a control
/// character could otherwise drive the terminal (set its title, clear the screen, hide text,
/// reverse what follows with a bidi override) or, in `strata log`, disguise an entry.
///
/// Each such character becomes a visible escape — `\uXXXX`, and in one-line mode `\n`, `\r`,
/// `\t` — which is also what JSON calls the same character, so a JSON document stays exact JSON
/// with the same values (JSONEncoder already escapes C0 controls; it leaves DEL, C1 and the bidi
/// controls raw, and those are rewritten here).
enum TerminalText {
    /// For text that may span lines (answers, passages, tables): newlines and tabs are kept.
    static func block(_ s: String) -> String { escape(s, keepLines: true) }

    /// For what must stay on one line (a file name, a heading, a question in the log).
    static func line(_ s: String) -> String { escape(s, keepLines: false) }

    static func needsEscape(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return v < 0x20 || (0x7F...0x9F).contains(v) || (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v)
    }

    private static func escape(_ s: String, keepLines: Bool) -> String {
        guard s.unicodeScalars.contains(where: needsEscape) else { return s }
        var out = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            guard needsEscape(u), !(keepLines && (u == "\n" || u == "\t")) else { out.append(u); continue }
            switch u {
            case "\n": out.append(contentsOf: "\\n".unicodeScalars)
            case "\r": out.append(contentsOf: "\\r".unicodeScalars)
            case "\t": out.append(contentsOf: "\\t".unicodeScalars)
            default: out.append(contentsOf: String(format: "\\u%04X", u.value).unicodeScalars)
            }
        }
        return String(out)
    }
}

// Every `print` of the CLI goes through the sanitiser: these shadow the standard library's within
// this module, so no command can print stored text raw by forgetting a call. File names and
// other one-line values are passed through `TerminalText.line` where they are printed.

func print(_ items: Any..., separator: String = " ", terminator: String = "\n") {
    Swift.print(TerminalText.block(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator)
}

func print<Target: TextOutputStream>(_ items: Any..., separator: String = " ", terminator: String = "\n", to output: inout Target) {
    Swift.print(TerminalText.block(items.map { "\($0)" }.joined(separator: separator)), terminator: terminator, to: &output)
}
