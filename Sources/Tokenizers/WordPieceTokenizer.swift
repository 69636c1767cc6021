import Foundation

/// A BERT tokenizer read from a Hugging Face `tokenizer.json`: normaliser, pre-tokeniser,
/// WordPiece model and the `[CLS] … [SEP]` template, with truncation.
///
/// Truncation keeps the first `maxLength - 2` pieces: sentence-transformers overrides the
/// `truncation`/`padding` blocks of tokenizer.json with its own `max_seq_length`, so those
/// blocks are ignored here and the caller passes the limit.
public struct WordPieceTokenizer: Sendable {
    public let normalizer: BertNormalizer
    public let preTokenizer: BertPreTokenizer
    public let model: WordPiece
    public let clsID: Int32
    public let sepID: Int32
    public let padID: Int32
    public let vocabularySize: Int

    /// Reads `tokenizer.json` at `path`.
    public init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw WordPieceError.unsupported("cannot read \(path): \(error.localizedDescription)")
        }
        try self.init(json: data)
    }

    /// Parses the contents of a `tokenizer.json`.
    public init(json data: Data) throws {
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw WordPieceError.unsupported("not a JSON object")
        }
        guard let m = root["model"] as? [String: Any], (m["type"] as? String) == "WordPiece",
              let vocab = m["vocab"] as? [String: Int] else {
            throw WordPieceError.unsupported("model.type is not WordPiece or model.vocab is missing")
        }
        if let n = root["normalizer"] as? [String: Any] {
            guard (n["type"] as? String) == "BertNormalizer" else {
                throw WordPieceError.unsupported("normalizer \(n["type"] ?? "?") is not BertNormalizer")
            }
            normalizer = BertNormalizer(cleanText: n["clean_text"] as? Bool ?? true,
                                        handleChineseChars: n["handle_chinese_chars"] as? Bool ?? true,
                                        stripAccents: n["strip_accents"] as? Bool,
                                        lowercase: n["lowercase"] as? Bool ?? true)
        } else {
            normalizer = BertNormalizer()
        }
        preTokenizer = BertPreTokenizer()
        model = try WordPiece(vocab: vocab, unknownToken: m["unk_token"] as? String ?? "[UNK]",
                              continuingPrefix: m["continuing_subword_prefix"] as? String ?? "##",
                              maxInputCharsPerWord: m["max_input_chars_per_word"] as? Int ?? 100)
        guard let cls = model.id(of: "[CLS]") else { throw WordPieceError.missingSpecialToken("[CLS]") }
        guard let sep = model.id(of: "[SEP]") else { throw WordPieceError.missingSpecialToken("[SEP]") }
        clsID = cls
        sepID = sep
        padID = model.id(of: "[PAD]") ?? 0
        vocabularySize = vocab.count
    }

    /// The pieces of `text` without special tokens and without truncation.
    public func pieces(_ text: String) -> [Int32] {
        var ids: [Int32] = []
        for word in preTokenizer.split(normalizer.normalize(text)) { model.tokenize(word: word, into: &ids) }
        return ids
    }

    /// `[CLS] pieces [SEP]`, keeping the first `maxLength - 2` pieces (`maxLength` ≥ 2), as
    /// sentence-transformers truncates. The whole text is normalised (a 100k-character input
    /// costs a few milliseconds), but word-piecing stops once the budget is full.
    public func encode(_ text: String, maxLength: Int = 256) -> [Int32] {
        let budget = max(0, maxLength - 2)
        let source = text
        var ids: [Int32] = [clsID]
        var content: [Int32] = []
        for word in preTokenizer.split(normalizer.normalize(String(source))) {
            model.tokenize(word: word, into: &content)
            if content.count >= budget { break }
        }
        ids.append(contentsOf: content.prefix(budget))
        ids.append(sepID)
        return ids
    }
}
