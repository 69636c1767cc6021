import XCTest
@testable import Embeddings
import Tokenizers

/// Our WordPiece ids against the Hugging Face `tokenizers` + sentence-transformers golden file.
final class WordPieceParityTests: XCTestCase {
    func testEveryReferenceStringTokenizesIdentically() throws {
        let ref = try Fixtures.json("tokenization.json")
        let enc = try Fixtures.encoder()
        let strings = try XCTUnwrap(ref["strings"] as? [[String: Any]])
        XCTAssertEqual(strings.count, 64)
        var failures = 0
        for s in strings {
            let id = s["id"] as! String, text = s["text"] as! String
            let expected = (s["input_ids"] as! [Int]).map(Int32.init)
            let got = enc.tokenize(text)
            if got != expected {
                failures += 1
                XCTFail("\(id) \(text.debugDescription): got \(got.prefix(40)) expected \(expected.prefix(40))")
            }
            if let untrunc = s["num_tokens_untruncated"] as? Int {
                XCTAssertEqual(enc.tokenizer.pieces(text.trimmingCharacters(in: .whitespacesAndNewlines)).count + 2, untrunc, id)
            }
        }
        XCTAssertEqual(failures, 0)
    }

    /// The batch example: padding to the longest with [PAD]=0 and a 0/1 mask, as the reference.
    func testBatchExamplePadsToLongest() throws {
        let ref = try Fixtures.json("tokenization.json")
        let enc = try Fixtures.encoder()
        let b = try XCTUnwrap(ref["batch_example"] as? [String: Any])
        let texts = b["texts"] as! [String]
        let expected = (b["input_ids"] as! [[Int]]).map { $0.map(Int32.init) }
        let masks = b["attention_mask"] as! [[Int]]
        let ids = texts.map(enc.tokenize)
        let width = ids.map(\.count).max()!
        for (i, row) in ids.enumerated() {
            let padded = row + Array(repeating: enc.tokenizer.padID, count: width - row.count)
            XCTAssertEqual(padded, expected[i])
            XCTAssertEqual(masks[i], row.map { _ in 1 } + Array(repeating: 0, count: width - row.count))
        }
    }

    /// The stages on their own, on cases the README calls out.
    func testStages() {
        let n = BertNormalizer()
        XCTAssertEqual(n.normalize("Straße İstanbul"), "straße istanbul")
        XCTAssertEqual(n.normalize("zero\u{200B}width soft\u{AD}hyphen"), "zerowidth softhyphen")
        XCTAssertEqual(n.normalize("a\u{00A0}b\u{3000}c"), "a b c")
        XCTAssertEqual(n.normalize("营收"), " 营  收 ")
        XCTAssertEqual(n.normalize("Café"), "cafe")
        let p = BertPreTokenizer()
        XCTAssertEqual(p.split("a,b  $c").map { String(String.UnicodeScalarView($0)) }, ["a", ",", "b", "$", "c"])
        XCTAssertEqual(p.split(" \t ").count, 0)
    }

    func testTruncationKeepsFirstPiecesAndSep() throws {
        let enc = try Fixtures.encoder()
        let ids = enc.tokenize(String(repeating: "embedding ", count: 10_000))
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, 101)
        XCTAssertEqual(ids.last, 102)
        XCTAssertEqual(enc.tokenizer.encode("hello world", maxLength: 3), [101, 7592, 102])
        XCTAssertEqual(enc.tokenizer.encode("hello world", maxLength: 2), [101, 102])
    }

    func testTokenizerRejectsNonWordPieceJSON() {
        XCTAssertThrowsError(try WordPieceTokenizer(json: Data("{\"model\":{\"type\":\"BPE\"}}".utf8))) { e in
            XCTAssertTrue("\(e.localizedDescription)".contains("WordPiece"), e.localizedDescription)
        }
        XCTAssertThrowsError(try WordPieceTokenizer(json: Data("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{\"a\":0}}}".utf8)))
        XCTAssertThrowsError(try WordPieceTokenizer(json: Data("not json".utf8)))
    }
}
