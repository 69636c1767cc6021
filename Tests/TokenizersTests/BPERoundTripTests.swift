import Foundation
import XCTest
import GGUF
import LLM
@testable import Tokenizers

/// Random text of every character class survives encode -> decode, and loading refuses
/// tokenizers it cannot reproduce.
final class BPERoundTripTests: XCTestCase {
    /// Pieces chosen to hit every branch of the pre-tokenizers: contractions, digits, CJK, marks,
    /// emoji with ZWJ and variation selectors, unusual whitespace, lone CR, control characters.
    static let alphabet: [String] = ["a", "Z", "é", "ß", "中", "文", "。", "，", "1", "٣", "Ⅻ", "½", " ", "  ", "\t", "\n",
                                     "\r\n", "\r", "\u{00A0}", "\u{3000}", "\u{2028}", "'s", "'LL", "'", "!", "?!", "...",
                                     "🦙", "👍🏽", "❤️\u{200D}🔥", "e\u{0301}", "\u{0000}", "\u{0085}", "<|", "|>", "<|im_start|>",
                                     "<|im_end|>", "</s>", "x", "Hello", "世界", "0x1F", "\u{FFFD}", "\u{10FFFF}"]

    func testRandomTextRoundTrips() throws {
        var tokenizers = [try BPEGoldenTests.tokenizer(BPEGoldenTests.smolPath)]
        if FileManager.default.fileExists(atPath: BPEGoldenTests.qwenPath) {
            tokenizers.append(try BPEGoldenTests.tokenizer(BPEGoldenTests.qwenPath))
        }
        var state: UInt64 = 0xC0FFEE
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(state >> 33)
        }
        for tok in tokenizers {
            for _ in 0..<1500 {
                let text = (0..<(1 + next() % 12)).map { _ in Self.alphabet[next() % Self.alphabet.count] }.joined()
                for parse in [true, false] {
                    let ids = tok.encode(text, addSpecial: false, parseSpecial: parse)
                    XCTAssertTrue(ids.allSatisfy { $0 >= 0 && Int($0) < tok.vocabularySize })
                    XCTAssertEqual(tok.decode(ids, renderSpecial: true), text, "\(text.debugDescription) parseSpecial \(parse)")
                }
            }
        }
    }

    func gguf(_ set: (inout GGUFWriter) throws -> Void) throws -> GGUFFile {
        var w = try GGUFWriter()
        try w.set("general.architecture", .string("llama"))
        try set(&w)
        let path = NSTemporaryDirectory() + "strata-tok-\(UUID().uuidString).gguf"
        try w.write(to: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try GGUFFile(path: path)
    }

    func testLoadingRefusesWhatItCannotReproduce() throws {
        let spm = try gguf { w in
            try w.set("tokenizer.ggml.model", .string("llama"))
            try w.set("tokenizer.ggml.tokens", .array([.string("<unk>"), .string("▁a")]))
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: spm)) { e in
            XCTAssertEqual(e as? TokenizerError, .unsupportedModel("llama"))
            XCTAssertTrue(e.localizedDescription.contains("SmolLM2"))
        }
        let noTokenizer = try gguf { _ in }
        XCTAssertThrowsError(try BPETokenizer(gguf: noTokenizer)) { e in
            XCTAssertEqual(e as? TokenizerError, .missingMetadata("tokenizer.ggml.model"))
        }
        let badMerges = try gguf { w in
            try w.set("tokenizer.ggml.model", .string("gpt2"))
            try w.set("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
            try w.set("tokenizer.ggml.merges", .array([.int32(1)]))
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: badMerges)) { e in
            XCTAssertEqual(e as? TokenizerError, .missingMetadata("tokenizer.ggml.merges (an array of strings)"))
        }
        let unknownPre = try gguf { w in
            try w.set("tokenizer.ggml.model", .string("gpt2"))
            try w.set("tokenizer.ggml.pre", .string("chatglm-bpe"))
            try w.set("tokenizer.ggml.tokens", .array([.string("a"), .string("b")]))
            try w.set("tokenizer.ggml.merges", .array([.string("a b")]))
        }
        XCTAssertThrowsError(try BPETokenizer(gguf: unknownPre)) { e in
            XCTAssertEqual(e as? TokenizerError, .unsupportedPreTokenizer("chatglm-bpe"))
        }
        // A minimal valid byte-level vocabulary written by our own writer loads and encodes.
        let tiny = try gguf { w in
            try w.set("tokenizer.ggml.model", .string("gpt2"))
            try w.set("tokenizer.ggml.tokens", .array(["h", "i", "hi", "Ġ", "Ġhi"].map { .string($0) }))
            try w.set("tokenizer.ggml.merges", .array(["h i", "Ġ hi"].map { .string($0) }))
            try w.set("tokenizer.ggml.token_type", .array([1, 1, 1, 1, 1].map { .int32($0) }))
        }
        XCTAssertEqual(try BPETokenizer(gguf: tiny).encode("hi hi"), [2, 4])
    }
}
