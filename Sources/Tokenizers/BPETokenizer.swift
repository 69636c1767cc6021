import Foundation

/// Byte-level BPE tokenizer (GPT-2 family: SmolLM2, Qwen2, Llama 3), matching llama.cpp's ids.
///
/// Stages: special tokens are cut out of the text first (longest first, as llama.cpp does),
/// each remaining fragment is split into words by the pre-tokenizer, each word's bytes are
/// mapped to their byte tokens and merged by rank. Immutable after init, so it can be shared
/// between threads; per-call scratch and the per-word cache live in the call.
public final class BPETokenizer: Sendable {
    /// Token kinds as numbered in GGUF `tokenizer.ggml.token_type`.
    public enum TokenKind: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public let vocabularySize: Int
    public let preTokenizer: BPEPreTokenizer
    public let bos: Int32?
    public let eos: Int32?
    /// End of turn (`<|im_end|>`, `<|eot_id|>`, ...), found by name as llama.cpp does.
    public let eot: Int32?
    public let addBOS: Bool
    public let addEOS: Bool
    /// Every token that ends generation: EOS, EOT and the other end markers present in the vocabulary.
    public let endOfGeneration: Set<Int32>

    private let tokens: [String]
    private let kinds: [TokenKind]
    private let index: BPEVocabularyIndex
    private let merges: BPEMerges
    /// The token of each single byte (its GPT-2 spelling), -1 when the vocabulary lacks it.
    private let byteTokens: [Int32]
    /// Tokens cut out of text before BPE, longest first; `controlOnly` ones only when parsing special text.
    private let specials: [(id: Int32, bytes: [UInt8], controlOnly: Bool)]

    /// Names llama.cpp takes as the end-of-turn token, in order of preference.
    static let endOfTurnNames = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>", "_<EOT>"]
    /// Spellings llama.cpp (0c1e570) makes end-of-generation *and control* tokens whatever their
    /// type in the file. That is why Qwen's ordinary "</s>" is cut out of text as a special token.
    static let endOfGenerationNames = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                                       "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
                                       "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>"]

    /// - Parameters:
    ///   - tokens: vocabulary in id order, in GPT-2 byte spelling.
    ///   - merges: "left right" pairs, best first.
    ///   - tokenTypes: `tokenizer.ggml.token_type` values (all normal when nil).
    ///   - preTokenizer: `tokenizer.ggml.pre` (nil means GPT-2's).
    public init(tokens: [String], merges mergeLines: [String], tokenTypes: [Int]?, preTokenizer: String?,
                bos: Int?, eos: Int?, eot: Int? = nil, addBOS: Bool, addEOS: Bool) throws {
        guard !tokens.isEmpty, tokens.count < Int(Int32.max) else { throw TokenizerError.emptyVocabulary }
        guard let pre = BPEPreTokenizer(ggmlName: preTokenizer) else {
            throw TokenizerError.unsupportedPreTokenizer(preTokenizer ?? "")
        }
        if let types = tokenTypes, types.count != tokens.count {
            throw TokenizerError.mismatchedCounts(what: "token types", count: types.count, tokens: tokens.count)
        }
        self.tokens = tokens
        self.vocabularySize = tokens.count
        self.preTokenizer = pre
        self.addBOS = addBOS
        self.addEOS = addEOS
        func checked(_ id: Int?, _ name: String) throws -> Int32? {
            guard let id else { return nil }
            guard id >= 0, id < tokens.count else {
                throw TokenizerError.invalidSpecialToken(name: name, id: id, vocabularySize: tokens.count)
            }
            return Int32(id)
        }
        self.bos = try checked(bos, "bos")
        self.eos = try checked(eos, "eos")

        let index = BPEVocabularyIndex(tokens)
        self.index = index

        var kinds = (tokenTypes ?? []).map { TokenKind(rawValue: $0) ?? .normal }
        if kinds.isEmpty { kinds = Array(repeating: .normal, count: tokens.count) }
        // As llama.cpp: the end-of-turn marker is a control token even when the file says otherwise.
        var eotID = try checked(eot, "eot")
        if eotID == nil { eotID = Self.endOfTurnNames.lazy.compactMap { index.lookup($0) }.first }
        if let e = eotID { kinds[Int(e)] = .control }
        self.eot = eotID
        var eog = Set([self.eos, eotID].compactMap { $0 })
        for name in Self.endOfGenerationNames {
            if let id = index.lookup(name) { eog.insert(id); kinds[Int(id)] = .control }
        }
        self.kinds = kinds
        self.endOfGeneration = eog

        var bytes = [Int32](repeating: -1, count: 256)
        for b in 0..<256 {
            let spelling = String(Character(Unicode.Scalar(BPEByteEncoding.scalarForByte[b])!))
            bytes[b] = index.lookup(spelling) ?? -1
        }
        self.byteTokens = bytes

        self.merges = try BPEMerges(lines: mergeLines, index: index)

        var specials: [(Int32, [UInt8], Bool)] = []
        for (i, k) in kinds.enumerated() where k == .control || k == .userDefined || k == .unknown {
            guard !tokens[i].isEmpty else { continue }
            specials.append((Int32(i), Array(tokens[i].utf8), k != .userDefined))
        }
        specials.sort { $0.1.count != $1.1.count ? $0.1.count > $1.1.count : $0.0 < $1.0 }
        self.specials = specials
    }

    // MARK: Encoding

    /// Token ids of `text`.
    /// - Parameters:
    ///   - addSpecial: add BOS/EOS as the model's metadata asks.
    ///   - parseSpecial: recognise control tokens written in the text (`<|im_start|>`); when false
    ///     they are tokenized as ordinary text (user-defined tokens are always recognised, as in llama.cpp).
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = true) -> [Int32] {
        var out: [Int32] = []
        if addSpecial, addBOS, let bos { out.append(bos) }
        var utf8 = Array(text.utf8)
        utf8.withUnsafeMutableBufferPointer { buf in
            var state = EncodeState()
            for fragment in partition(UnsafeBufferPointer(buf), parseSpecial: parseSpecial) {
                switch fragment {
                case .token(let id): out.append(id)
                case .text(let range): encodeText(UnsafeBufferPointer(buf), range, &state, &out)
                }
            }
        }
        if addSpecial, addEOS, let eos { out.append(eos) }
        return out
    }

    private enum Fragment { case text(Range<Int>), token(Int32) }

    private struct EncodeState {
        var text = ScalarText()
        var ends: [Int] = []
        var ids: [Int32] = []
        var scratch = BPEMerges.Scratch()
        var cache: [[UInt8]: [Int32]] = [:]
    }

    /// Cuts special tokens out of the text: each token, longest first, splits every text fragment
    /// at its occurrences left to right (llama.cpp's `tokenizer_st_partition`).
    private func partition(_ bytes: UnsafeBufferPointer<UInt8>, parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        guard let base = bytes.baseAddress else { return fragments }
        for special in specials where parseSpecial || !special.controlOnly {
            var next: [Fragment] = []
            var changed = false
            for f in fragments {
                guard case .text(let range) = f else { next.append(f); continue }
                var start = range.lowerBound
                while start < range.upperBound,
                      let at = Self.find(special.bytes, in: base, start..<range.upperBound) {
                    if at > start { next.append(.text(start..<at)) }
                    next.append(.token(special.id))
                    start = at + special.bytes.count
                    changed = true
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            if changed { fragments = next }
        }
        return fragments
    }

    /// First occurrence of `needle` in `base[range]` (memmem is not exported by Glibc's module).
    private static func find(_ needle: [UInt8], in base: UnsafePointer<UInt8>, _ range: Range<Int>) -> Int? {
        let n = needle.count
        guard n > 0, range.count >= n else { return nil }
        let first = needle[0]
        return needle.withUnsafeBufferPointer { nb -> Int? in
            var i = range.lowerBound
            let last = range.upperBound - n
            while i <= last {
                if base[i] == first && memcmp(base + i + 1, nb.baseAddress! + 1, n - 1) == 0 { return i }
                i += 1
            }
            return nil
        }
    }

    private func encodeText(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, _ s: inout EncodeState, _ out: inout [Int32]) {
        s.text.load(bytes, range)
        s.ends.removeAll(keepingCapacity: true)
        preTokenizer.split(s.text, 0..<s.text.scalars.count, into: &s.ends)
        var start = 0
        for end in s.ends {
            let lo = s.text.byteOffsets[start], hi = s.text.byteOffsets[end]
            start = end
            let word = Array(bytes[lo..<hi])
            if let cached = s.cache[word] { out.append(contentsOf: cached); continue }
            s.ids.removeAll(keepingCapacity: true)
            for b in word { s.ids.append(byteTokens[Int(b)]) }
            var result: [Int32] = []
            merges.apply(&s.ids, into: &result, scratch: &s.scratch)
            result.removeAll { $0 < 0 }  // bytes the vocabulary cannot spell are dropped, as in llama.cpp
            if s.cache.count < 100_000 { s.cache[word] = result }
            out.append(contentsOf: result)
        }
    }

    // MARK: Decoding

    /// The bytes token `id` stands for. Control tokens give their text only when `renderSpecial`.
    public func piece(_ id: Int32, renderSpecial: Bool = true) -> [UInt8] {
        guard id >= 0, Int(id) < tokens.count else { return [] }
        let text = tokens[Int(id)]
        switch kinds[Int(id)] {
        case .normal: return BPEByteEncoding.decode(text) ?? Array(text.utf8)
        case .userDefined: return Array(text.utf8)
        case .control, .unknown: return renderSpecial ? Array(text.utf8) : []
        case .unused, .byte: return []
        }
    }

    /// The text of `ids` (invalid UTF-8 across the whole sequence becomes U+FFFD).
    public func decode(_ ids: [Int32], renderSpecial: Bool = false) -> String {
        var bytes: [UInt8] = []
        for id in ids { bytes.append(contentsOf: piece(id, renderSpecial: renderSpecial)) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The vocabulary spelling of `id` (GPT-2 byte characters), nil when out of range.
    public func tokenText(_ id: Int32) -> String? {
        id >= 0 && Int(id) < tokens.count ? tokens[Int(id)] : nil
    }

    /// The id of a vocabulary spelling (e.g. "<|im_start|>").
    public func id(of tokenText: String) -> Int32? { index.lookup(tokenText) }

    public func kind(_ id: Int32) -> TokenKind? {
        id >= 0 && Int(id) < kinds.count ? kinds[Int(id)] : nil
    }

    public func isControl(_ id: Int32) -> Bool { kind(id) == .control }

    public func isEndOfGeneration(_ id: Int32) -> Bool { endOfGeneration.contains(id) }

    /// `<|im_end|>` when the vocabulary has it (ChatML turn end).
    public var imEnd: Int32? { index.lookup("<|im_end|>") }
    /// `<|im_start|>` when the vocabulary has it.
    public var imStart: Int32? { index.lookup("<|im_start|>") }

    /// Number of merges usable over this vocabulary.
    public var mergeCount: Int { merges.count }
}

/// Why a tokenizer could not be built.
public enum TokenizerError: Error, LocalizedError, Equatable {
    /// The vocabulary has no tokens.
    case emptyVocabulary
    /// `tokenizer.ggml.pre` names a pre-tokenizer this build does not implement.
    case unsupportedPreTokenizer(String)
    /// Two parallel arrays disagree in length.
    case mismatchedCounts(what: String, count: Int, tokens: Int)
    /// A special token id outside the vocabulary.
    case invalidSpecialToken(name: String, id: Int, vocabularySize: Int)
    /// A merge line that is not "left right".
    case invalidMerge(index: Int, line: String)
    /// The vocabulary is not one this tokenizer reads (e.g. SentencePiece).
    case unsupportedModel(String)
    /// A required metadata key is missing.
    case missingMetadata(String)

    public var errorDescription: String? {
        switch self {
        case .emptyVocabulary:
            return "the tokenizer vocabulary is empty — the model file lacks tokenizer.ggml.tokens; re-convert it with llama.cpp"
        case .unsupportedPreTokenizer(let p):
            return "pre-tokenizer \"\(p)\" (tokenizer.ggml.pre) is not supported; supported: "
                + BPEPreTokenizer.allCases.map(\.rawValue).joined(separator: ", ") + " — use a SmolLM2, Qwen2 or Llama 3 model"
        case .mismatchedCounts(let w, let c, let t):
            return "the model has \(c) \(w) for \(t) tokens — the file is inconsistent; re-convert it"
        case .invalidSpecialToken(let n, let id, let v):
            return "\(n) token id \(id) is outside the vocabulary of \(v) tokens — the file is inconsistent; re-convert it"
        case .invalidMerge(let i, let l):
            return "merge #\(i) \"\(l)\" is not two tokens separated by a space — the file is damaged; re-convert it"
        case .unsupportedModel(let m):
            return "tokenizer model \"\(m)\" (tokenizer.ggml.model) is not supported, only byte-level BPE (\"gpt2\") — use a SmolLM2, Qwen2 or Llama 3 GGUF"
        case .missingMetadata(let k):
            return "the model file has no \(k) — it is not a complete llama.cpp GGUF; re-convert it"
        }
    }
}
