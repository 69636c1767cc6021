import Foundation

/// The BERT normaliser of Hugging Face `tokenizers` (`BertNormalizer`), stage one of WordPiece.
///
/// Steps, in the reference order: clean text (drop NUL, U+FFFD and control/format/private/
/// unassigned characters, keep \t \n \r as whitespace, map every whitespace to a space), put a
/// space around each CJK ideograph, strip accents (NFD then drop Mn marks), lower-case.
/// Everything works on Unicode scalars, as the Rust reference works on `char`s: Swift's
/// `Character` (grapheme clusters) would merge e.g. a letter with a following combining mark.
public struct BertNormalizer: Sendable, Equatable {
    public var cleanText: Bool
    public var handleChineseChars: Bool
    public var stripAccents: Bool
    public var lowercase: Bool

    /// `stripAccents: nil` follows `lowercase`, as in the reference.
    public init(cleanText: Bool = true, handleChineseChars: Bool = true, stripAccents: Bool? = nil, lowercase: Bool = true) {
        self.cleanText = cleanText
        self.handleChineseChars = handleChineseChars
        self.stripAccents = stripAccents ?? lowercase
        self.lowercase = lowercase
    }

    public func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for c in text.unicodeScalars {
            if cleanText {
                if c.value == 0 || c.value == 0xFFFD || Self.isControl(c) { continue }
                if Self.isWhitespace(c) { scalars.append(" "); continue }
            }
            if handleChineseChars && Self.isChineseChar(c) {
                scalars.append(" "); scalars.append(c); scalars.append(" ")
            } else {
                scalars.append(c)
            }
        }
        var out = String(scalars)
        if stripAccents {
            // Only non-ASCII text can change under NFD; skipping it keeps English fast.
            if !out.utf8.allSatisfy({ $0 < 0x80 }) {
                var kept = String.UnicodeScalarView()
                for c in out.decomposedStringWithCanonicalMapping.unicodeScalars
                where c.properties.generalCategory != .nonspacingMark { kept.append(c) }
                out = String(kept)
            }
        }
        if lowercase {
            var lowered = String.UnicodeScalarView()
            for c in out.unicodeScalars {
                if c.isASCII {
                    lowered.append(c.value >= 65 && c.value <= 90 ? Unicode.Scalar(c.value + 32)! : c)
                } else {
                    lowered.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
                }
            }
            out = String(lowered)
        }
        return out
    }

    /// Whitespace as BERT sees it: \t \n \r and the Unicode White_Space property.
    public static func isWhitespace(_ c: Unicode.Scalar) -> Bool {
        c == "\t" || c == "\n" || c == "\r" || c.properties.isWhitespace
    }

    /// Control as BERT sees it: any "other" category (Cc, Cf, Cn, Co, Cs) except \t \n \r.
    public static func isControl(_ c: Unicode.Scalar) -> Bool {
        if c == "\t" || c == "\n" || c == "\r" { return false }
        switch c.properties.generalCategory {
        case .control, .format, .unassigned, .privateUse, .surrogate: return true
        default: return false
        }
    }

    /// The CJK Unified Ideograph blocks BERT splits one character per token (not kana or hangul).
    public static func isChineseChar(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F,
             0x2B740...0x2B81F, 0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: return true
        default: return false
        }
    }
}
