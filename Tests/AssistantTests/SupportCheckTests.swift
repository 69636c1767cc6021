import XCTest
@testable import Assistant

final class SupportCheckTests: XCTestCase {
    let passages = [
        Fixtures.passage(1, "a.md", "Card refunds", "Card refunds are returned to the original card within 5 working days."),
        Fixtures.passage(2, "b.md", "Fees", "Refunds carry no processing fee."),
    ]

    func testSupportedCitedSentence() throws {
        let v = try SupportChecker().check("Card refunds are returned within 5 working days [1].", passages: passages)
        XCTAssertEqual(v.count, 1)
        XCTAssertTrue(v[0].supported)
        XCTAssertEqual(v[0].source, 1)
    }

    func testInventedNumberIsCaught() throws {
        let v = try SupportChecker().check("Card refunds are returned within 7 working days [1].", passages: passages)
        XCTAssertFalse(v[0].supported)
        XCTAssertEqual(v[0].note, "the number 7 does not appear in [1]")
    }

    /// Qwen's answer to a SQuAD 2.0 question the paragraph cannot answer: four of its five key
    /// terms are in the source, the city is not.
    func testInventedNameIsCaught() throws {
        let source = [Fixtures.passage(1, "h.md", "Huguenot", "In that city they purchased plantations from the British Landgrave Edmund Bellinger of England.")]
        let v = try SupportChecker().check("Edmund Bellinger was from the English city of London. [1]", passages: source)
        XCTAssertFalse(v[0].supported)
        XCTAssertEqual(v[0].note, "the name London does not appear in [1]")
        // "English" is there as "England"; a name at the start of a sentence is not checked.
        XCTAssertTrue(try SupportChecker().check("Edmund Bellinger was an English landgrave. [1]", passages: source)[0].supported)
        XCTAssertEqual(TextAnalysis.names("The Huguenots settled in Charleston, South Carolina, and I saw it."), ["Huguenots", "Charleston", "South", "Carolina"])
        XCTAssertEqual(TextAnalysis.names("光荣属于 HBM 与 Huaxin"), ["HBM", "Huaxin"])
    }

    /// The checker itself, not only `ask`, treats "the sources do not say" as no answer, so report
    /// sections drop it too.
    func testASentenceSayingTheSourcesDoNotAnswerIsNoSupport() throws {
        let v = try SupportChecker().check("The sources do not mention card refunds [1].", passages: passages)
        XCTAssertFalse(v[0].supported)
        XCTAssertTrue(v[0].neutral)
        XCTAssertEqual(v[0].note, "says the sources do not hold the answer: not an answer")
    }

    func testNumberMustBeInTheCitedPassageNotAnother() throws {
        // 5 exists in [1] but the sentence relies on [2], and [1] does not support the rest.
        let v = try SupportChecker().check("Refunds carry no processing fee, and 5 percent is kept [2].", passages: passages)
        XCTAssertFalse(v[0].supported)
        XCTAssertEqual(v[0].note, "the number 5 does not appear in [2]")
    }

    func testUncitedSentenceAttributedToBestSource() throws {
        let v = try SupportChecker().check("Refunds carry no processing fee.", passages: passages)
        XCTAssertTrue(v[0].supported)
        XCTAssertEqual(v[0].cited, [])
        XCTAssertEqual(v[0].source, 2)
    }

    func testUnrelatedSentenceUnsupportedAndNonexistentCitationNoted() throws {
        let v = try SupportChecker().check("The office cafeteria serves pizza on Fridays [7].", passages: passages)
        XCTAssertFalse(v[0].supported)
        XCTAssertEqual(v[0].note, "cites [7], which is not one of the 2 sources; only 0% of its key terms appear in [1]")
    }

    func testEmbeddingSimilarityRescuesParaphrase() throws {
        struct FixedEmbedder: TextEmbedder {
            let modelID = "fixed"; let dimension = 2
            // Everything maps to the same direction: maximal similarity.
            func embed(_ texts: [String]) throws -> [[Float]] { texts.map { _ in [1, 0] } }
        }
        let s = "Money goes back to the card quickly [1]."
        XCTAssertFalse(try SupportChecker().check(s, passages: passages)[0].supported)
        let v = try SupportChecker(embedder: FixedEmbedder()).check(s, passages: passages)[0]
        XCTAssertEqual(v.semantic ?? 0, 1, accuracy: 1e-6)
        XCTAssertTrue(v.supported, v.note ?? "")
    }

    func testChineseBigramSupport() throws {
        let zh = [Fixtures.passage(1, "z.md", "退款", "信用卡退款在5个工作日内退回原卡。")]
        XCTAssertTrue(try SupportChecker().check("信用卡退款在5个工作日内退回[1]。", passages: zh)[0].supported)
        XCTAssertFalse(try SupportChecker().check("信用卡退款在8个工作日内退回[1]。", passages: zh)[0].supported)
        XCTAssertFalse(try SupportChecker().check("公司食堂周五供应披萨[1]。", passages: zh)[0].supported)
    }
}

extension SupportCheckTests {
    func testWrongCitationReattributed() throws {
        let v = try SupportChecker().check("Refunds carry no processing fee [1].", passages: passages)[0]
        XCTAssertTrue(v.supported)
        XCTAssertTrue(v.reattributed)
        XCTAssertEqual(v.cited, [2])
    }

    func testNoPassagesMeansUnsupported() throws {
        let v = try SupportChecker().check("Refunds carry no fee [1].", passages: [])
        XCTAssertFalse(v[0].supported)
    }
}

extension SupportCheckTests {
    func testCopiedSourceHeaderIsNotAnAnswer() throws {
        let v = try SupportChecker().check("[1] Card refunds\nCard refunds are returned to the original card within 5 working days.", passages: passages)
        XCTAssertEqual(v.count, 2)
        XCTAssertFalse(v[0].supported)
        XCTAssertEqual(v[0].note, "repeats the header of source [1], not an answer")
        XCTAssertTrue(v[1].supported)
    }
}
