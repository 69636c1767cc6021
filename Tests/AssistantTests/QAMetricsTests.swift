import XCTest
@testable import Assistant

final class QAMetricsTests: XCTestCase {
    func testSquadNormalisation() {
        XCTAssertEqual(QAMetrics.tokens("The  Normans, in the 10th century!"), ["normans", "in", "10th", "century"])
        XCTAssertEqual(QAMetrics.tokens("光荣和ω-force"), ["光", "荣", "和", "ω", "force"])
        XCTAssertEqual(QAMetrics.exactMatch("the France.", ["France"]), 1)
        XCTAssertEqual(QAMetrics.exactMatch("", []), 1)
        XCTAssertEqual(QAMetrics.exactMatch("France", []), 0)
    }

    func testF1ByHand() {
        // prediction {in, 10th, century}, gold {10th, and, 11th, centuries}: common 1 → P 1/3, R 1/4 → F1 2/7.
        XCTAssertEqual(QAMetrics.f1("in 10th century", ["10th and 11th centuries"]), 2.0 / 7.0, accuracy: 1e-9)
        XCTAssertEqual(QAMetrics.f1("in 10th century", ["10th and 11th centuries", "10th century"]), 0.8, accuracy: 1e-9)
        // Chinese per character: 光荣 vs 光荣和ω-force → common 2, P 1, R 2/5 → F1 4/7.
        XCTAssertEqual(QAMetrics.f1("光荣", ["光荣和ω-force"]), 4.0 / 7.0, accuracy: 1e-9)
    }

    func testSummary() {
        let o = [
            QAMetrics.Outcome(answerable: true, goldRetrieved: true, refused: false, em: 1, f1: 1, citesGold: true, seconds: 1),
            QAMetrics.Outcome(answerable: true, goldRetrieved: false, refused: true, refusedBy: .gate, em: 0, f1: 0, citesGold: nil, seconds: 1),
            QAMetrics.Outcome(answerable: false, goldRetrieved: false, refused: true, refusedBy: .supportCheck, em: 1, f1: 1, citesGold: nil, seconds: 1),
            QAMetrics.Outcome(answerable: false, goldRetrieved: false, refused: false, em: 0, f1: 0, citesGold: nil, seconds: 3),
        ]
        let s = QAMetrics.summarize(o)
        XCTAssertEqual(s.recallAtK, 0.5)
        XCTAssertEqual(s.answerableF1, 0.5)
        XCTAssertEqual(s.overallF1, 0.5)
        XCTAssertEqual(s.refusalPrecision, 0.5)
        XCTAssertEqual(s.refusalRecall, 0.5)
        XCTAssertEqual(s.refusalF1, 0.5)
        XCTAssertEqual(s.citationAccuracy, 1)
        XCTAssertEqual(s.secondsPerQuestion, 1.5)
        XCTAssertEqual(s.byLayer[.gate], QAMetrics.LayerCount(refused: 1, toRefuse: 0))
        XCTAssertEqual(s.byLayer[.supportCheck], QAMetrics.LayerCount(refused: 1, toRefuse: 1))
        XCTAssertNil(s.byLayer[.prompt])
        XCTAssertEqual(s.refusedWithCitation, 0)
    }

    func testRefusalReasonsMapToLayers() {
        XCTAssertEqual(QAMetrics.Layer(.lowCoverage), .gate)
        XCTAssertEqual(QAMetrics.Layer(.noPassages), .gate)
        XCTAssertEqual(QAMetrics.Layer(.modelDeclined), .prompt)
        XCTAssertEqual(QAMetrics.Layer(.unsupported), .supportCheck)
        XCTAssertEqual(QAMetrics.Layer(.empty), .empty)
    }

    func testLexicalRetrieverRanksAndRespectsGroups() throws {
        let docs = [
            LexicalRetriever.Document(passage: Fixtures.passage(1, "a", "", "Card refunds take five days.")),
            LexicalRetriever.Document(passage: Fixtures.passage(2, "b", "", "Salary bands are secret refunds."), groups: ["hr"]),
            LexicalRetriever.Document(passage: Fixtures.passage(3, "c", "", "信用卡退款需要五天。")),
        ]
        let r = LexicalRetriever(docs)
        XCTAssertEqual(try r.retrieve("card refunds", groups: [], k: 5).map(\.chunkID), [1])
        XCTAssertEqual(Set(try r.retrieve("refunds", groups: ["hr"], k: 5).map(\.chunkID)), [1, 2])
        XCTAssertEqual(try r.retrieve("信用卡退款", groups: [], k: 5).map(\.chunkID), [3])
        XCTAssertEqual(try r.retrieve("card refunds", groups: [], k: 5).first?.keywordRank, 1)
    }

    func testExtractiveGeneratorCopiesBestSentence() throws {
        let gen = ExtractiveGenerator()
        let msg = "Sources:\n[1] A (a.md)\nThe sky is blue. Cards are refunded in five days.\n\n[2] B (b.md)\nCash is paid at once.\n\nQuestion: When are cards refunded?"
        let r = try gen.generate(GenerationRequest(messages: [ChatMessage(.user, msg)])) { _ in true }
        XCTAssertEqual(r.text, "Cards are refunded in five days. [1]")
        let none = try gen.generate(GenerationRequest(messages: [ChatMessage(.user, "Sources:\n[1] A\nThe sky is blue.\n\nQuestion: Who won the cup?")])) { _ in true }
        XCTAssertEqual(none.text, "")
    }

    func testPairedDifference() throws {
        // Every question 0.25 better: the interval is that point.
        let same = try XCTUnwrap(QAMetrics.pairedDifference([0.5, 1, 0.25], [0.25, 0.75, 0]))
        XCTAssertEqual(same.mean, 0.25, accuracy: 1e-12)
        XCTAssertEqual(same.low, 0.25, accuracy: 1e-12)
        XCTAssertEqual(same.high, 0.25, accuracy: 1e-12)
        // Half the questions won (+1), half tied, 400 of them: mean 0.5, and the bootstrap's 95%
        // interval matches the normal one, 0.5 ± 1.96·sqrt(0.25/400) = ±0.049, within resampling noise.
        let a = (0..<400).map { Double($0 % 2) }, b = [Double](repeating: 0, count: 400)
        let d = try XCTUnwrap(QAMetrics.pairedDifference(a, b))
        XCTAssertEqual(d.questions, 400)
        XCTAssertEqual(d.mean, 0.5, accuracy: 1e-12)
        XCTAssertEqual(d.low, 0.451, accuracy: 0.01)
        XCTAssertEqual(d.high, 0.549, accuracy: 0.01)
        // Seeded: the same input gives the same interval; swapping the runs mirrors it.
        XCTAssertEqual(QAMetrics.pairedDifference(a, b), d)
        let swapped = try XCTUnwrap(QAMetrics.pairedDifference(b, a))
        XCTAssertEqual(swapped.mean, -0.5, accuracy: 1e-12)
        XCTAssertEqual(swapped.high, -d.low, accuracy: 1e-12)
        XCTAssertNil(QAMetrics.pairedDifference([], []))
    }
}
