import Foundation
import XCTest
import GGUF
import LLM
@testable import Tokenizers

/// Behaviour beyond the golden files: streaming, splitting, errors, speed.
final class BPETokenizerTests: XCTestCase {
    var smol: BPETokenizer { get throws { try BPEGoldenTests.tokenizer(BPEGoldenTests.smolPath) } }

    func testByteMapIsABijectionOverAllBytes() {
        let bytes = (0..<256).map { UInt8($0) }
        let spelled = BPEByteEncoding.encode(bytes)
        XCTAssertEqual(spelled.unicodeScalars.count, 256)
        XCTAssertEqual(BPEByteEncoding.decode(spelled), bytes)
        XCTAssertEqual(BPEByteEncoding.encode([0x20, 0x0A]), "ĠĊ")
        XCTAssertNil(BPEByteEncoding.decode("中"))
    }

    func testSpecialTokensAndEndOfGeneration() throws {
        let tok = try smol
        XCTAssertEqual(tok.imStart, 1)
        XCTAssertEqual(tok.imEnd, 2)
        XCTAssertEqual(tok.eos, 2)
        XCTAssertEqual(tok.eot, 2)
        XCTAssertTrue(tok.isControl(1))
        XCTAssertFalse(tok.isControl(tok.encode("Hello")[0]))
        XCTAssertTrue(tok.isEndOfGeneration(2))
        XCTAssertTrue(tok.isEndOfGeneration(0), "<|endoftext|> ends generation")
        XCTAssertEqual(tok.vocabularySize, 49152)
        XCTAssertEqual(tok.encode("<|im_start|>user"), [1, 4093])
        XCTAssertNotEqual(tok.encode("<|im_start|>user", parseSpecial: false).first, 1)
        // Control tokens are invisible in user-facing text unless asked for.
        XCTAssertEqual(tok.decode([1, 4093, 2]), "user")
        XCTAssertEqual(tok.decode([1, 4093, 2], renderSpecial: true), "<|im_start|>user<|im_end|>")
        XCTAssertEqual(tok.piece(-1), [])
        XCTAssertEqual(tok.piece(Int32(tok.vocabularySize)), [])
    }

    func testSmolLMSplitsEveryDigit() throws {
        let tok = try smol
        let ids = tok.encode("x 12345", addSpecial: false)
        XCTAssertEqual(ids.suffix(5).map { tok.decode([$0]) }, ["1", "2", "3", "4", "5"])
    }

    func testStreamingNeverEmitsHalfACharacter() throws {
        let tok = try smol
        let text = "机器学习 🦙👍🏽 naïve 中文"
        let ids = tok.encode(text, addSpecial: false)
        var stream = StreamingDetokenizer(tokenizer: tok)
        var out = ""
        var sawHeldBytes = false
        for id in ids {
            let chunk = stream.push(id)
            XCTAssertFalse(chunk.contains("\u{FFFD}"), "chunk \(chunk.debugDescription) has a broken character")
            if stream.pendingByteCount > 0 { sawHeldBytes = true }
            out += chunk
        }
        out += stream.flush()
        XCTAssertEqual(out, text)
        XCTAssertTrue(sawHeldBytes, "this text splits characters over tokens, so bytes must have been held back")
    }

    /// A generation cut at max tokens in the middle of a character ends without U+FFFD.
    func testFinishDropsAnUnfinishedCharacter() throws {
        let tok = try smol
        let ids = tok.encode("学习", addSpecial: false)
        var cut: [Int32] = []
        var stream = StreamingDetokenizer(tokenizer: tok)
        for id in ids {
            cut.append(id)
            _ = stream.push(id)
            if stream.pendingByteCount > 0 { break }   // stopped with half a character held
        }
        try XCTSkipIf(stream.pendingByteCount == 0, "this vocabulary has whole-character tokens for the text")
        var again = StreamingDetokenizer(tokenizer: tok)
        var out = cut.map { again.push($0) }.joined()
        out += again.finish()
        XCTAssertFalse(out.contains("\u{FFFD}"), out.debugDescription)
        XCTAssertEqual(again.pendingByteCount, 0)
        var flushed = StreamingDetokenizer(tokenizer: tok)
        XCTAssertTrue((cut.map { flushed.push($0) }.joined() + flushed.flush()).contains("\u{FFFD}"),
                      "flush, by contrast, shows what was held")
    }

    func testStreamingHoldsOnlyWhatCanStillComplete() {
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xE4, 0xB8]), 1)    // "a" + 2/3 of 中
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0xE4, 0xB8, 0xAD]), 3)    // 中 complete
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0xF0, 0x9F, 0xA6]), 0)    // 3/4 of an emoji
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x61, 0xFF]), 2)          // never valid: emit
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([0x80, 0x80, 0x80, 0x80, 0x80]), 5)
        XCTAssertEqual(StreamingDetokenizer.completePrefixLength([]), 0)
    }

    func testPreTokenizerNamesAndErrors() throws {
        XCTAssertEqual(BPEPreTokenizer(ggmlName: nil), .gpt2)
        XCTAssertEqual(BPEPreTokenizer(ggmlName: "qwen2"), .qwen2)
        XCTAssertEqual(BPEPreTokenizer(ggmlName: "smollm"), .smollm)
        XCTAssertNil(BPEPreTokenizer(ggmlName: "chatglm-bpe"))
        XCTAssertThrowsError(try BPETokenizer(tokens: ["a"], merges: [], tokenTypes: nil, preTokenizer: "chatglm-bpe",
                                              bos: nil, eos: nil, addBOS: false, addEOS: false)) { e in
            XCTAssertTrue(e.localizedDescription.contains("chatglm-bpe"))
        }
        XCTAssertThrowsError(try BPETokenizer(tokens: [], merges: [], tokenTypes: nil, preTokenizer: nil,
                                              bos: nil, eos: nil, addBOS: false, addEOS: false))
        XCTAssertThrowsError(try BPETokenizer(tokens: ["a", "b"], merges: [], tokenTypes: [1], preTokenizer: nil,
                                              bos: nil, eos: nil, addBOS: false, addEOS: false))
        XCTAssertThrowsError(try BPETokenizer(tokens: ["a", "b"], merges: [], tokenTypes: nil, preTokenizer: nil,
                                              bos: 7, eos: nil, addBOS: true, addEOS: false)) { e in
            XCTAssertEqual(e as? TokenizerError, .invalidSpecialToken(name: "bos", id: 7, vocabularySize: 2))
        }
        XCTAssertThrowsError(try BPETokenizer(tokens: ["a", "b"], merges: ["ab"], tokenTypes: nil, preTokenizer: nil,
                                              bos: nil, eos: nil, addBOS: false, addEOS: false))
    }

    /// A hand-made vocabulary: merges apply by rank, leftmost first, and BOS/EOS are added when asked.
    func testMergeOrderOnATinyVocabulary() throws {
        let tokens = ["a", "b", "c", "ab", "bc", "abc", "Ġ", "Ġa", "<s>", "</s>"]
        let tok = try BPETokenizer(tokens: tokens, merges: ["b c", "a b", "a bc", "Ġ a"],
                                   tokenTypes: [1, 1, 1, 1, 1, 1, 1, 1, 3, 3], preTokenizer: "gpt2",
                                   bos: 8, eos: 9, addBOS: true, addEOS: true)
        XCTAssertEqual(tok.mergeCount, 4)
        // "abc": rank 0 is "b c" -> a + bc, then "a bc" -> abc.
        XCTAssertEqual(tok.encode("abc"), [8, 5, 9])
        XCTAssertEqual(tok.encode("abc", addSpecial: false), [5])
        // "abab": "a b" applies at both places (leftmost first).
        XCTAssertEqual(tok.encode("abab", addSpecial: false), [3, 3])
        XCTAssertEqual(tok.encode("ab a", addSpecial: false), [3, 7])
        XCTAssertEqual(tok.encode("", addSpecial: false), [])
        XCTAssertEqual(tok.encode("<s>a", addSpecial: false), [8, 0])
        // A byte the vocabulary cannot spell is dropped, as llama.cpp does.
        XCTAssertEqual(tok.encode("aza", addSpecial: false), [0, 0])
    }

    /// One megabyte of mixed English, Chinese and code tokenizes well under a second
    /// (bound kept loose for a shared 2-core machine; bench-tokenizer prints the real figure).
    func testOneMegabyteIsFast() throws {
        let tok = try smol
        let unit = "The quick brown fox 跳过了懒狗。 func f(x: Int) -> Int { return x * 42 }\n"
        let text = String(repeating: unit, count: 1_000_000 / unit.utf8.count + 1)
        let start = Date()
        let ids = tok.encode(text, addSpecial: false)
        let seconds = Date().timeIntervalSince(start)
        print(String(format: "BPE encode: %.2f MB in %.3f s", Double(text.utf8.count) / 1e6, seconds))
        XCTAssertGreaterThan(ids.count, 200_000)
        XCTAssertEqual(tok.decode(ids), text)
        XCTAssertLessThan(seconds, 3.0)
    }

    func testPathologicalLongWordIsNotQuadratic() throws {
        let tok = try smol
        let text = String(repeating: "a", count: 200_000)
        let start = Date()
        let ids = tok.encode(text, addSpecial: false)
        XCTAssertLessThan(Date().timeIntervalSince(start), 3.0)
        XCTAssertEqual(tok.decode(ids), text)
    }
}
