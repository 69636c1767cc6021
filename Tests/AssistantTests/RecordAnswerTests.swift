import Foundation
import XCTest
@testable import Assistant
import Knowledge
import Prompts

/// `ask` reaching the business tables: a question naming one record unmistakably is answered by
/// its lookup; anything less (a typo, a shared part of a name, a synonym under another currency or
/// term, a question the lookup does not answer) is left to the documents, where the checks can
/// refuse it.
final class RecordAnswerTests: XCTestCase {
    func service() throws -> ServiceAssistant { try ServiceAssistantTests.makeAssistant() }

    func testABranchNamedExactlyWithADayIsAnsweredFromItsRecordAndCitesIt() throws {
        let a = try XCTUnwrap(try service().recordAnswer("Is the Xujiahui Branch open on Sunday?"))
        XCTAssertTrue(a.text.contains("closed on Sunday"), a.text)
        XCTAssertEqual(a.citations.count, 1)
        XCTAssertTrue(a.citations[0].path.hasSuffix("business/branches.csv"), a.citations[0].path)
        XCTAssertTrue(a.citations[0].heading.contains("Xujiahui Branch"), a.citations[0].heading)
        XCTAssertEqual(a.citations[0].label, "\(a.citations[0].path) › \(a.citations[0].heading)", "a record has no lines to name")
        let zh = try XCTUnwrap(try service().recordAnswer("徐家汇支行礼拜天开门不"))
        XCTAssertEqual(zh.language, "zh")
        XCTAssertTrue(zh.text.contains("不营业"), zh.text)
    }

    func testACaseReferenceIsAnsweredFromItsRecord() throws {
        let a = try XCTUnwrap(try service().recordAnswer("what's going on with my case HB-2026-00158 and what do I need to do?"))
        XCTAssertTrue(a.text.contains("IBAN"), a.text)
        XCTAssertTrue(a.citations[0].path.hasSuffix("business/cases.csv"), a.citations[0].path)
        XCTAssertTrue(a.citations[0].heading.contains("HB-2026-00158"), a.citations[0].heading)
    }

    func testARecordNamedButAQuestionItsLookupDoesNotAnswerIsLeftToTheDocuments() throws {
        // The classifier knows only the pack's intents and calls each of these branch hours.
        for q in ["Is there parking at the Hongqiao Hub Branch?", "Does the Xujiahui Branch have safe deposit boxes?",
                  "Does the Nanjing Road Branch open on public holidays?", "徐家汇支行可以办理外币兑换吗"] {
            XCTAssertNil(try service().recordAnswer(q), q)
        }
    }

    func testANameMatchedOnlyInPartOrByATypoIsLeftToTheDocuments() throws {
        // "Diamond" is no card of ours: the Gold card's fee would be a wrong answer.
        for q in ["What's the annual fee on the Harbor Diamond credit card?", "What's the rate on a 7-day notice deposit?",
                  "Is the Xujiahiu Branch open on Sunday?"] {
            XCTAssertNil(try service().recordAnswer(q), q)
        }
        XCTAssertNil(try service().recordAnswer("What is the status of case HB-2026-99999?"), "an unknown reference has no row")
    }

    /// Part of a name that no other record shares names the record ("中关村支行" for 北京中关村支行,
    /// "深圳福田" for 深圳福田分行); a part every term deposit shares ("time deposit") does not.
    func testAPartOfANameNoOtherRecordSharesNamesTheRecord() throws {
        // The hashed stand-in encoder puts these Chinese phrasings out of scope at the pack's
        // similarity floor (the real encoder does not): this test is about the name, not the intent.
        let service = try ServiceAssistantTests.makeAssistant(minSimilarity: 0)
        let zgc = try XCTUnwrap(try service.recordAnswer("中关村支行周六几点开门"))
        XCTAssertTrue(zgc.text.contains("09:30-15:30"), zgc.text)
        XCTAssertTrue(zgc.citations[0].heading.contains("北京中关村支行"), zgc.citations[0].heading)
        XCTAssertNotNil(try service.recordAnswer("深圳福田那家周日几点开门"))
        XCTAssertNil(try service.recordAnswer("What's the rate on a 6-month USD time deposit?"))
        XCTAssertEqual(SlotFiller.longestCommonRun(Array("中关村支行周六"), Array("北京中关村支行")), "中关村支行")
    }

    /// A pack synonym names its record ("car loan", "标准卡") unless the question puts another
    /// currency or term on it: then the synonym's record is a neighbour of what was asked.
    /// Out of scope by the classifier's doubt, a question that names one record unmistakably is
    /// answered through the best-ranked guess whose record slots it names: the record settles
    /// which lookup. The guess is held to the same tests as a recognised intent.
    func testANamedRecordSettlesTheClassifiersDoubtBetweenItsGuesses() throws {
        let service = try ServiceAssistantTests.makeAssistant()
        var session = ServiceSession()
        let q = "中关村支行周六几点开门"
        let plain = try service.respond(q, session: &session)
        XCTAssertNil(plain.decision.intent, "the hashed stand-in encoder puts this phrasing out of scope")
        XCTAssertTrue(plain.decision.top.map(\.intent).contains("branch_hours"), "\(plain.decision.top)")
        let a = try XCTUnwrap(try service.recordAnswer(q))
        XCTAssertTrue(a.text.contains("09:30-15:30"), a.text)
        XCTAssertTrue(a.detail.contains("intent branch_hours"), a.detail)
        // A guess still needs the record named exactly or by a part no other record shares, and a
        // question its lookup answers.
        for q in ["周六几点开门", "中关村那边的支行能换外币吗", "Diamond card annual fee?", "支行周六几点开门"] {
            XCTAssertNil(try service.recordAnswer(q), q)
        }
    }

    func testASynonymNamesItsRecordUnlessTheQuestionsCurrencyOrTermContradictsIt() throws {
        let service = try ServiceAssistantTests.makeAssistant(minSimilarity: 0)
        let car = try XCTUnwrap(try service.recordAnswer("What's the interest rate on the car loan?"))
        XCTAssertTrue(car.text.contains("3.60%"), car.text)
        XCTAssertTrue(car.citations[0].heading.contains("Harbor EV Auto Loan"), car.citations[0].heading)
        let usd = try XCTUnwrap(try service.recordAnswer("What's the rate on a USD deposit for one year?"))
        XCTAssertTrue(usd.text.contains("2.80%"), usd.text)
        // Each of these finds a synonym ("六个月定期", "一年定期", "1 year deposit") or a name of
        // an RMB or a 1-year record.
        for q in ["美元六个月定期利率多少", "港币一年定期利率多少", "What's the rate on a 1 year deposit in euros?",
                  "What's the rate on a USD deposit for six months?", "What's the rate of the 1-Year Time Deposit in US dollars?"] {
            XCTAssertNil(try service.recordAnswer(q), q)
        }
    }

    func testQualifiersReadCurrenciesAndTermsInBothLanguages() {
        XCTAssertEqual(Qualifiers.currencies(in: "美元存三个月要多少元起"), ["USD", "CNY"])
        XCTAssertEqual(Qualifiers.currencies(in: "USD deposit for a year"), ["USD"])
        XCTAssertEqual(Qualifiers.currencies(in: "a museum dollhouse"), [], "letters inside a word are no code")
        XCTAssertEqual(Qualifiers.currencies(in: "wiring 5,000 USD, or $300, or 30万元 into my 美元 account", amounts: false), ["USD"])
        XCTAssertEqual(Qualifiers.currencies(in: "wiring 5,000 USD, or $300, or 30万元", amounts: false), [])
        XCTAssertEqual(Qualifiers.terms(in: "USD deposit for a year"), ["12m"])
        XCTAssertEqual(Qualifiers.terms(in: "a 7-day notice deposit, or the 3 month promo?"), ["7d", "3m"])
        XCTAssertEqual(Qualifiers.terms(in: "Harbor Steady 90-Day Holding (R2)"), ["90d"])
        XCTAssertEqual(Qualifiers.terms(in: "两年的大额存单和半年定期，十二个月"), ["24m", "6m", "12m"])
        XCTAssertEqual(Qualifiers.terms(in: "2028年的房贷，12月1日开始，today or Saturday"), [], "a calendar year, a date and a weekday are no term")
        XCTAssertNil(Qualifiers.contradiction("annual fee of the classic card per year", record: "CC-CLASSIC · Harbor Classic Credit Card · 100"))
        XCTAssertNotNil(Qualifiers.contradiction("五年期大额存单利率多少", record: "CD-3Y · 3-Year Large-Denomination CD · 三年期大额存单 · CNY"))
        XCTAssertNil(Qualifiers.contradiction("三年期大额存单利率多少", record: "CD-3Y · 3-Year Large-Denomination CD · 三年期大额存单 · CNY"))
    }

    func testAskAnswersFromTheRecordWithoutTheModelAndRecordsItAndCanBeTurnedOff() throws {
        let model = ScriptedReplyGenerator("The branch is open every day [1].")
        let pack = try PromptPack.load(from: ServiceAssistantTests.root.appendingPathComponent("Prompts/kb-qa"))
        XCTAssertEqual(pack.records, "customer-service")
        let audit = InMemoryAuditLog()
        let qa = KnowledgeQA(pack: pack, retriever: ClosureRetriever { _ in [ServiceAssistantTests.refundPolicy] }, generator: model,
                             audit: audit, records: ServiceRecordLookup(try service()))
        let a = try qa.ask("Is the Xujiahui Branch open on Sunday?")
        XCTAssertFalse(a.refused)
        XCTAssertTrue(a.text.contains("closed on Sunday"), a.text)
        XCTAssertEqual(a.model, "business lookup")
        XCTAssertTrue(model.prompts.isEmpty, "no model is asked what the record states")
        XCTAssertEqual(try audit.recent(1).last?.modelID, "business lookup")
        XCTAssertEqual(try audit.recent(1).last?.answer, a.text)

        var off = AskOptions()
        off.records = false
        off.layers.evidenceGate = false   // the stand-in retriever's refund passage would be gated
        _ = try qa.ask("Is the Xujiahui Branch open on Sunday?", options: off)
        XCTAssertEqual(model.prompts.count, 1, "--no-records: the documents path and its model")
    }
}
