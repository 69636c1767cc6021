import XCTest
@testable import Assistant

/// The agreement check (RefusalLayers.agreement): a small model's answer stands only when the
/// values it states are those of the source sentence that best matches the question.
final class AgreementCheckTests: XCTestCase {
    let limits = Fixtures.transferLimits

    func testTheRightRowsValueAgreesAndTheNeighboursDoesNot() {
        let p = [Fixtures.passage(1, "mobile-banking.en.md", "Transfer limits", limits)]
        let q = "What is the daily limit for mobile transfers with face verification?"
        XCTAssertNil(KnowledgeQA.disagreement("The daily limit with face verification is RMB 200,000 [1].", question: q, passages: p))
        // Written another way, still the same value.
        XCTAssertNil(KnowledgeQA.disagreement("It is 20万 a day [1].", question: q, passages: p))
        let wrong = KnowledgeQA.disagreement("The daily limit is 50,000 [1].", question: q, passages: p)
        XCTAssertTrue(wrong?.contains("states 50000") == true, wrong ?? "agreed")
        XCTAssertTrue(wrong?.contains("Face verification") == true, wrong ?? "agreed")
    }

    /// The reading is a line about the question's currency and term: the RMB 3-month row holds
    /// more of "美元存三个月利率多少" than the USD record does, but it is another product. A
    /// currency an amount is in ("wiring 5,000 USD") says what the customer has, not the line.
    func testTheReadingIsALineAboutTheQuestionsCurrencyAndTerm() {
        let p = [Fixtures.passage(1, "time-deposits.zh.md", "定期存款利率", "| 期限 | 挂牌利率（人民币） | 起存金额 |\n|---|---|---|\n| 三个月 | 0.85% | 50元 |\n| 一年 | 1.20% | 50元 |"),
                 Fixtures.passage(2, "products.csv", "USD-3M", "product id: USD-3M\nname zh: 美元三个月定期存款\nrate pct: 2.60\ncurrency: USD")]
        let q = "美元存三个月利率多少"
        XCTAssertNil(KnowledgeQA.disagreement("美元三个月定期利率2.60% [2]。", question: q, passages: p))
        XCTAssertNotNil(KnowledgeQA.disagreement("三个月定期利率0.85% [1]。", question: q, passages: p))
        XCTAssertNotNil(KnowledgeQA.disagreement("利率0.85% [1]。", question: "六个月定期利率多少", passages: Array(p.prefix(1))),
                        "no line is about six months")
        // A size is a qualifier too: the small box's fee is no reading of the large box's.
        let boxes = [Fixtures.passage(1, "fees.html", "Other services", "Small safe deposit box: RMB 300 a year. 小号保管箱：每年300元。")]
        XCTAssertNotNil(KnowledgeQA.disagreement("300元 [1]", question: "大号保管箱一年多少钱", passages: boxes))
        XCTAssertNil(KnowledgeQA.disagreement("300元 [1]", question: "小号保管箱一年多少钱", passages: boxes))
        XCTAssertEqual(Qualifiers.sizes(in: "a 3-year large-denomination CD"), [], "a product name, not a size")
        let fees = [Fixtures.passage(1, "remittance.md", "Fees", "Outward remittance commission: 0.1% of the amount, min RMB 50, max RMB 260.")]
        XCTAssertNil(KnowledgeQA.disagreement("The commission is 0.1%, min RMB 50 [1].", question: "outward remittance of 5,000 USD: commission?", passages: fees))
    }

    func testAnAnswerWithoutAValueOrWithAnInventedOneDisagrees() {
        let p = [Fixtures.passage(1, "refunds.md", "Card refunds", "Card refunds are returned to the original card within 5 working days.")]
        let q = "How long do card refunds take?"
        XCTAssertNotNil(KnowledgeQA.disagreement("Refunds are returned to the card [1].", question: q, passages: p))
        XCTAssertNotNil(KnowledgeQA.disagreement("Card refunds take 7 working days [1].", question: q, passages: p))
        XCTAssertNil(KnowledgeQA.disagreement("Within 5 working days [1].", question: q, passages: p))
        // The question's own value echoed back is no answer.
        XCTAssertNotNil(KnowledgeQA.disagreement("The Steady 90 offer runs [1].", question: "Until when does the Steady 90 offer run?",
                                                 passages: [Fixtures.passage(1, "funds.md", "Steady 90", "The Steady 90 offer runs until 30 November.")]))
        XCTAssertNil(KnowledgeQA.disagreement("The Steady 90 offer runs until 30 November [1].", question: "Until when does the Steady 90 offer run?",
                                              passages: [Fixtures.passage(1, "funds.md", "Steady 90", "The Steady 90 offer runs until 30 November.")]))
        // A record's code is its name, not a value.
        XCTAssertNotNil(KnowledgeQA.disagreement("branch id: SZ-002 name en: Shenzhen Nanshan Branch [1]", question: "When does the Nanshan branch open on Sunday?",
                                                 passages: [Fixtures.passage(1, "branches.csv", "SZ-002", "branch id: SZ-002\nsunday hours: 10:00-16:00")]))
        XCTAssertNotNil(KnowledgeQA.disagreement("branch id: BJ-002name en: Beijing [1]", question: "中关村支行周六几点下班",
                                                 passages: [Fixtures.passage(1, "branches.csv", "BJ-002", "branch id: BJ-002\nname zh: 北京中关村支行\nsaturday hours: 09:00-15:30")]))
        XCTAssertNil(KnowledgeQA.disagreement("请致电，您会收到业务编号（如HB-2026-00123）[1]。", question: "退款查询要打什么电话",
                                              passages: [Fixtures.passage(1, "refunds.md", "退款", "退款查询请致电客服。")]))
        // Citation markers are not values.
        XCTAssertNil(KnowledgeQA.disagreement("Within 5 working days [1] [2].", question: q, passages: p))
    }

    /// On by default, for every model; off on request.
    func testOnByDefaultAndOffOnRequest() throws {
        func ask(_ agreement: Bool) throws -> Answer {
            var o = AskOptions(); o.layers.agreement = agreement
            // The source says 7 in its other sentence: without the subject tie the support check
            // passes it, so only the agreement check can tell.
            o.layers.subjectTie = false
            let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: FixtureRetriever(entries: [
                .init(passage: Fixtures.passage(11, "refunds.md", "Card refunds",
                                                "Card refunds are returned to the original card within 5 working days. Disputes take 7 working days."),
                      groups: []),
            ]), generator: ScriptedGenerator(["Card refunds take 7 working days [1]."]))
            return try qa.ask("How long do card refunds take?", options: o)
        }
        XCTAssertTrue(AskOptions().layers.agreement)
        let checked = try ask(true)
        XCTAssertTrue(checked.refused)
        XCTAssertEqual(checked.refusalReason, .disagrees)
        XCTAssertTrue(checked.explanation.hasPrefix("agreement check: the answer states 7"), checked.explanation)
        XCTAssertFalse(try ask(false).refused)
    }

    /// An answer in words stands where the line answering the question states no value, and is
    /// held where it does, whatever the question's form.
    func testAWordAnswerStandsOnlyWhereTheLineStatesNoValue() {
        let p = [Fixtures.passage(1, "accounts.md", "Opening an account", "Bring your resident ID card and a mainland phone number.")]
        XCTAssertNil(KnowledgeQA.disagreement("Bring your resident ID card and a phone number [1].", question: "What documents do I need to open an account?", passages: p))
        // …and a quantity asked gets the value of the line that answers it, when that line has one.
        let fees = [Fixtures.passage(1, "accounts.md", "Cards", "A replacement debit card costs RMB 10. Cash refunds are paid on the same day.")]
        XCTAssertNotNil(KnowledgeQA.disagreement("You can get a new card [1].", question: "How much does a replacement debit card cost?", passages: fees))
        XCTAssertNil(KnowledgeQA.disagreement("A replacement costs RMB 10 [1].", question: "How much does a replacement debit card cost?", passages: fees))
        XCTAssertNil(KnowledgeQA.disagreement("On the same day [1].", question: "When are cash refunds paid?", passages: fees))
        // A yes/no question: "No" is not what a line stating the penalty and its window says.
        let loans = [Fixtures.passage(1, "loans.md", "Early repayment", "Repaying a mortgage early within 12 months of drawdown costs 1% of the amount repaid.")]
        let held = KnowledgeQA.disagreement("No, there is no penalty [1].", question: "Do I pay a penalty for repaying my mortgage early?", passages: loans)
        XCTAssertNotNil(held)
        XCTAssertTrue(held?.contains("states 1, 12") == true, held ?? "")
        XCTAssertNil(KnowledgeQA.disagreement("Yes: 1% of the amount repaid within 12 months [1].", question: "Do I pay a penalty for repaying my mortgage early?", passages: loans))
    }

    /// A model whose file declares the languages it reads is not asked in another one: the
    /// customer is told what to do, not that the knowledge base is silent.
    func testAQuestionInALanguageTheModelDoesNotReadIsNotPutToIt() throws {
        final class EnglishOnly: TextGenerator, @unchecked Sendable {
            let modelID = "SmolLM2-135M-Instruct.Q4_1.gguf@25056c8d7fcb"
            let languages: [String]? = ["en"]
            var asked = 0
            func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
                asked += 1
                return GenerationResult(text: "Card refunds are returned to the original card within 5 working days [1].", promptTokens: 1,
                                        generatedTokens: 1, promptSeconds: 0, generationSeconds: 0, stopReason: .endOfSequence)
            }
        }
        let gen = EnglishOnly()
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: Fixtures.retriever, generator: gen)
        let zh = try qa.ask("信用卡退款需要几天？")
        XCTAssertTrue(zh.refused)
        XCTAssertEqual(zh.refusalReason, .modelLanguage)
        XCTAssertEqual(gen.asked, 0)
        XCTAssertTrue(zh.text.hasPrefix("当前模型（SmolLM2-135M-Instruct.Q4_1.gguf）只读en"), zh.text)
        XCTAssertTrue(zh.citations.isEmpty)
        XCTAssertEqual(QAMetrics.Layer(.modelLanguage), .gate)
        let en = try qa.ask("How long do card refunds take?")
        XCTAssertFalse(en.refused, en.explanation)
        XCTAssertEqual(gen.asked, 1)
    }
}
