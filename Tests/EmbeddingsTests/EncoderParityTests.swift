import XCTest
@testable import Embeddings

/// Our vectors against sentence-transformers (PyTorch) on the 64 reference strings.
final class EncoderParityTests: XCTestCase {
    func testEveryReferenceEmbeddingMatches() throws {
        let ref = try Fixtures.json("embeddings.json")
        let enc = try Fixtures.encoder()
        let cases = try XCTUnwrap(ref["embeddings"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 64)
        let texts = cases.map { $0["text"] as! String }
        // One batched call: exercises sorting, packing and the per-sequence attention.
        let got = try enc.embed(texts)
        var worstCos = 1.0, worstAbs: Float = 0
        for (i, c) in cases.enumerated() {
            let expected = (c["embedding"] as! [Double]).map(Float.init)
            XCTAssertEqual(got[i].count, 384)
            let cos = cosine(got[i], expected)
            let maxAbs = zip(got[i], expected).map { abs($0 - $1) }.max()!
            worstCos = min(worstCos, cos); worstAbs = max(worstAbs, maxAbs)
            XCTAssertGreaterThanOrEqual(cos, 0.9999, "\(c["id"]!)")
            XCTAssertLessThanOrEqual(maxAbs, 1e-4, "\(c["id"]!)")
        }
        print("MiniLM parity over 64 strings: min cosine \(worstCos), max abs diff \(worstAbs)")
        XCTAssertEqual(enc.modelID.hasPrefix("all-MiniLM-L6-v2@"), true)
        XCTAssertEqual(enc.dimension, 384)
    }

    /// Batch 1 and batch 32 give the same vectors (packing must not leak between sequences).
    func testBatchedEqualsSingle() throws {
        let enc = try Fixtures.encoder()
        let texts = ["Hello world", "2024年营收增长3.5%", "", "How do I reset my password?",
                     String(repeating: "long text ", count: 300)]
        let batched = try enc.embed(texts)
        for (i, t) in texts.enumerated() {
            let single = try enc.embed([t])[0]
            XCTAssertLessThanOrEqual(zip(single, batched[i]).map { abs($0 - $1) }.max()!, 1e-5)
        }
        XCTAssertEqual(try enc.embed([]).count, 0)
        XCTAssertEqual(try enc.embedFlat(texts).count, texts.count * 384)
    }

    func testHelloWorldKnownValuesAndUnitNorm() throws {
        let enc = try Fixtures.encoder()
        let v = try enc.embed(["Hello world"])[0]
        let known: [Float] = [-0.03447726, 0.03102322, 0.006734969, 0.02610899, -0.03936195]
        for (a, b) in zip(v, known) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertEqual(v.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5)
    }

    /// Retrieval sanity on pairs.json: each query's best passage is the reference's.
    func testPairsArgmaxMatchesReference() throws {
        let ref = try Fixtures.json("pairs.json")
        let enc = try Fixtures.encoder()
        guard let pairs = ref["pairs"] as? [[String: Any]], let argmax = ref["argmax_passage_per_query"] as? [Int] else {
            throw XCTSkip("pairs.json layout differs: keys \(ref.keys.sorted())")
        }
        let q = try enc.embed(pairs.map { $0["query"] as! String })
        let p = try enc.embed(pairs.map { $0["passage"] as! String })
        for (i, qv) in q.enumerated() {
            let best = p.indices.max { cosine(qv, p[$0]) < cosine(qv, p[$1]) }!
            XCTAssertEqual(best, argmax[i], "query \(i)")
        }
    }

    /// A 100k-character text is truncated to 256 tokens and embeds without trouble.
    func testHugeTextIsTruncated() throws {
        let enc = try Fixtures.encoder()
        let text = String(repeating: "数据 data ", count: 12_500)
        XCTAssertGreaterThanOrEqual(text.count, 100_000)
        XCTAssertEqual(enc.tokenize(text).count, 256)
        let v = try enc.embed([text])[0]
        XCTAssertTrue(v.allSatisfy { $0.isFinite })
    }
}
