import XCTest
@testable import Assistant

final class TextAnalysisTests: XCTestCase {
    func testLanguageDetection() {
        XCTAssertEqual(TextAnalysis.detectLanguage("How long does a card refund take?"), "en")
        XCTAssertEqual(TextAnalysis.detectLanguage("信用卡退款需要多久？"), "zh")
        XCTAssertEqual(TextAnalysis.detectLanguage("VPN 怎么配置"), "zh")
        XCTAssertEqual(TextAnalysis.detectLanguage("What does 退款 mean in the Shanghai office policy?"), "en")
    }

    func testKeyTermsUseBigramsForChineseAndFoldPlurals() {
        XCTAssertEqual(TextAnalysis.keyTerms("How long do refunds take?"), ["refund"])
        XCTAssertEqual(TextAnalysis.keyTerms("信用卡退款"), ["信用", "用卡", "卡退", "退款"])
        XCTAssertEqual(TextAnalysis.keyTerms("什么是退款"), ["么是", "是退", "退款"])
    }

    func testNumbersIgnoreCitationsAndSeparators() {
        XCTAssertEqual(TextAnalysis.numbers("It costs 1,250.50 EUR over 3 days [2]."), ["1250.50", "3"])
        XCTAssertEqual(TextAnalysis.numbers("在5个工作日内[1]"), ["5"])
    }

    func testCitations() {
        XCTAssertEqual(TextAnalysis.citations("a [2] b [1, 3][2]"), [2, 1, 3])
        XCTAssertEqual(TextAnalysis.stripCitations("a [2] b"), "a  b")
    }

    func testSentencesKeepTrailingCitations() {
        XCTAssertEqual(TextAnalysis.sentences("Refunds take 5 days. [1] Fees cost 2.5 EUR [2]. Yes!"),
                       ["Refunds take 5 days. [1]", "Fees cost 2.5 EUR [2].", "Yes!"])
        XCTAssertEqual(TextAnalysis.sentences("退款需要5天[1]。无需手续费。"), ["退款需要5天[1]。", "无需手续费。"])
        // A citation opening the next line belongs to that line (a copied source header).
        XCTAssertEqual(TextAnalysis.sentences("Paid the same day.\n\n[2] Card refunds\nFive days."),
                       ["Paid the same day.", "[2] Card refunds", "Five days."])
    }
}
