/// The BERT pre-tokeniser (`BertPreTokenizer`), stage two of WordPiece: splits on whitespace and
/// makes every punctuation character a word of its own.
public struct BertPreTokenizer: Sendable, Equatable {
    public init() {}

    /// The words of `text`, each as its Unicode scalars.
    public func split(_ text: String) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for c in text.unicodeScalars {
            if c.properties.isWhitespace || c == "\t" || c == "\n" || c == "\r" {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if Self.isPunctuation(c) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([c])
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// ASCII !-/ :-@ [-` {-~ (which includes symbols such as $ + < = > ^ ` | ~) and Unicode P*.
    public static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        let v = c.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        if v < 128 { return false }
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
}
