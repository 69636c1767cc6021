import Foundation

/// The WordPiece model, stage three: greedy longest-match-first over a vocabulary, with `##`
/// marking a piece that continues a word.
///
/// The vocabulary is keyed by UTF-8 bytes, not `String`: Swift compares strings by canonical
/// equivalence, so a precomposed Hangul syllable and its NFD jamo would be one key, while the
/// reference treats them as different entries.
public struct WordPiece: Sendable {
    public let unknownID: Int32
    public let continuingPrefix: [UInt8]
    public let maxInputCharsPerWord: Int
    private let vocab: [[UInt8]: Int32]
    /// Longest vocabulary entry in scalars (without prefix): bounds each match attempt.
    private let longestEntry: Int

    public init(vocab: [String: Int], unknownToken: String = "[UNK]", continuingPrefix: String = "##",
                maxInputCharsPerWord: Int = 100) throws {
        var v: [[UInt8]: Int32] = [:]
        v.reserveCapacity(vocab.count)
        var longest = 1
        for (k, id) in vocab {
            v[Array(k.utf8)] = Int32(id)
            longest = max(longest, k.unicodeScalars.count)
        }
        guard let unk = v[Array(unknownToken.utf8)] else { throw WordPieceError.missingSpecialToken(unknownToken) }
        self.vocab = v
        self.unknownID = unk
        self.continuingPrefix = Array(continuingPrefix.utf8)
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.longestEntry = longest
    }

    /// The id of an exact vocabulary entry.
    public func id(of token: String) -> Int32? { vocab[Array(token.utf8)] }

    /// Appends the pieces of one word to `ids`. A word longer than `maxInputCharsPerWord`, or one
    /// with a position no vocabulary entry matches, becomes a single `[UNK]`, as in the reference.
    public func tokenize(word: [Unicode.Scalar], into ids: inout [Int32]) {
        if word.count > maxInputCharsPerWord { ids.append(unknownID); return }
        // UTF-8 of the word with the byte offset of each scalar, so candidates are byte slices.
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        for s in word { bytes.append(contentsOf: String(s).utf8); offsets.append(bytes.count) }
        let mark = ids.count
        var start = 0
        var key: [UInt8] = []
        while start < word.count {
            var end = min(word.count, start + longestEntry)
            var found: Int32? = nil
            while end > start {
                key.removeAll(keepingCapacity: true)
                if start > 0 { key.append(contentsOf: continuingPrefix) }
                key.append(contentsOf: bytes[offsets[start]..<offsets[end]])
                if let id = vocab[key] { found = id; break }
                end -= 1
            }
            guard let id = found else {
                ids.removeSubrange(mark...)
                ids.append(unknownID)
                return
            }
            ids.append(id)
            start = end
        }
    }
}

/// Errors building a WordPiece tokenizer.
public enum WordPieceError: Error, Equatable, LocalizedError {
    /// A special token ([UNK], [CLS], [SEP], [PAD]) is not in the vocabulary.
    case missingSpecialToken(String)
    /// tokenizer.json is not a WordPiece tokenizer or lacks a field.
    case unsupported(String)

    public var errorDescription: String? {
        switch self {
        case .missingSpecialToken(let t): "special token \(t) is not in the vocabulary — the tokenizer.json does not belong to a BERT model"
        case .unsupported(let d): "tokenizer.json: \(d) — only BERT WordPiece tokenizers are supported here"
        }
    }
}
