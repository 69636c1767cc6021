import Foundation
import XCTest
@testable import Assistant
import Knowledge
import Prompts

/// Replies that sound like a bank (#19 item 9): the customer's language only, localised values,
/// the day asked about, partial names, and the checks that keep it so.
final class SupportReplyTests: XCTestCase {
    /// The test encoder (hashed n-grams) is no sentence encoder: its cosines run lower than
    /// MiniLM's, so the similarity floor is off here and these tests look at slots and replies;
    /// the routing of the same messages with the real encoder is in `SupportSessionTests`.
    func assistant(_ generator: (any TextGenerator)? = nil, knowledge: KnowledgeQA? = nil) throws -> ServiceAssistant {
        try ServiceAssistantTests.makeAssistant(generator, knowledge: knowledge, minSimilarity: 0)
    }

    func testMoneyFeesAndRatesAreShownAsABankWritesThem() {
        XCTAssertEqual(ReplyValues.money("200000", currency: "CNY", language: "zh"), "20万元")
        XCTAssertEqual(ReplyValues.money("200000", currency: "CNY", language: "en"), "RMB 200,000")
        XCTAssertEqual(ReplyValues.money("1120.5", currency: "USD", language: "zh"), "1,120.50美元")
        XCTAssertEqual(ReplyValues.money("1120.5", currency: "USD", language: "en"), "USD 1,120.50")
        XCTAssertEqual(ReplyValues.money("4680", currency: "CNY", language: "zh"), "4,680元")
        XCTAssertEqual(ReplyValues.money("15000", currency: "CNY", language: "zh"), "1.5万元")
        XCTAssertEqual(ReplyValues.fee("0.02%, min 2, max 50", currency: "CNY", language: "zh"), "0.02%（最低2元，最高50元）")
        XCTAssertEqual(ReplyValues.fee("0.02%, min 2, max 50", currency: "CNY", language: "en"), "0.02% (min RMB 2, max RMB 50)")
        XCTAssertEqual(ReplyValues.fee("1%, min 10", currency: "CNY", language: "en"), "1% (min RMB 10)")
        XCTAssertEqual(ReplyValues.fee("0", currency: "CNY", language: "zh"), "免费")
        XCTAssertEqual(ReplyValues.fee("0", currency: "CNY", language: "en"), "free")
        XCTAssertEqual(ReplyValues.fee("see branch", currency: "CNY", language: "en"), "see branch")
        XCTAssertEqual(ReplyValues.half("First 5 withdrawals each month free / 每月前5笔免费", language: "zh"), "每月前5笔免费")
        XCTAssertEqual(ReplyValues.half("First 5 withdrawals each month free / 每月前5笔免费", language: "en"), "First 5 withdrawals each month free")
        XCTAssertEqual(ReplyValues.half("Visa / Mastercard", language: "zh"), "Visa / Mastercard", "two names, not two languages")
        let rows = BusinessRows(columns: ["rate_pct", "status", "name_en", "name_zh"], rows: [[.real(1.3), .text("processing"), .text("Gold"), .text("金卡")]])
        let v = ReplyValues(values: ["status": ["processing": ["en": "being processed", "zh": "处理中"]]], formats: ["rate_pct": "rate"])
        XCTAssertEqual(v.display(rows, row: 0, language: "zh"), ["rate_pct": "1.30%", "status": "处理中", "name_en": "Gold", "name_zh": "金卡", "name": "金卡"])
        XCTAssertEqual(v.display(rows, row: 0, language: "en")["name"], "Gold")
    }

    func testForeignWordsInAReplyAreFoundButNamesAndCodesPass() {
        XCTAssertEqual(ReplyLanguage.foreignText(in: "徐家汇支行周日closed。", language: "zh"), "closed")
        XCTAssertEqual(ReplyLanguage.foreignText(in: "案件HB-2026-00123（refund）当前状态：processing", language: "zh"), "refund")
        XCTAssertEqual(ReplyLanguage.foreignText(in: "可在Harbor Mobile办理", language: "zh"), "Harbor Mobile")
        XCTAssertNil(ReplyLanguage.foreignText(in: "海港全球通Visa借记卡境外ATM取现每笔15元，顺丰单号SF1402265731，Visa/Mastercard为ARN。", language: "zh"))
        XCTAssertEqual(ReplyLanguage.foreignText(in: "Sunday: 不营业", language: "en"), "不营业")
        XCTAssertNil(ReplyLanguage.foreignText(in: "Case HB-2026-00123 is being processed.", language: "en"))
        XCTAssertFalse(ReplyLanguage.matches("商户退款已于2026-11-20提交卡组织，预计3-7个工作日内入账。", language: "en"))
    }

    /// The issue: an English case-status question got a Chinese reply, and the fact check passed it.
    func testAReplyInTheOtherLanguageFailsTheFactCheck() throws {
        let g = ScriptedReplyGenerator("商户退款已于2026-11-20提交卡组织，预计3-7个工作日内（最迟2026-12-01）入账。")
        let a = try assistant(g).answer("What is the status of my case HB-2026-00123?")
        XCTAssertEqual(a.intent, "case_status")
        XCTAssertEqual(a.factCheck?.passed, false)
        XCTAssertTrue(a.factCheck?.unsupported.contains { $0.contains("customer's language") } ?? false, "\(a.factCheck?.unsupported ?? [])")
        XCTAssertEqual(a.path, .template)
        XCTAssertTrue(a.reply.hasPrefix("Your refund case HB-2026-00123 (RMB 1,299) is being processed"), a.reply)
        // Mixed in: a Chinese reply carrying an English status.
        let m = try assistant(ScriptedReplyGenerator("您的退款案件HB-2026-00123当前状态：processing。")).answer("我的案件HB-2026-00123进度如何")
        XCTAssertEqual(m.path, .template)
        XCTAssertTrue(m.factCheck?.unsupported.contains("mixes in 'processing'") ?? false, "\(m.factCheck?.unsupported ?? [])")
    }

    func testBranchHoursForTheDayAskedIncludingClosed() throws {
        let a = try assistant()
        let sat = try a.answer("北京中关村支行周六几点开门？")
        XCTAssertEqual(sat.intent, "branch_hours")
        XCTAssertEqual(sat.slots["branch"]?.value, "BJ-002")
        XCTAssertEqual(sat.slots["day"]?.value, "sat")
        XCTAssertTrue(sat.reply.hasPrefix("北京中关村支行周六的营业时间为09:30-15:30。"), sat.reply)
        XCTAssertNil(ReplyLanguage.foreignText(in: sat.reply, language: "zh"), sat.reply)
        let city = try a.answer("杭州有支行吗？周日营业吗")
        XCTAssertEqual(city.slots["day"]?.value, "sun")
        XCTAssertTrue(city.reply.contains("杭州钱江分行") && city.reply.contains("周日不营业"), city.reply)
        XCTAssertFalse(city.reply.contains("closed") || city.reply.contains("09:00-17:00"), city.reply)
        let en = try a.answer("Is the Zhongguancun branch open on Saturday?")
        XCTAssertEqual(en.slots["branch"]?.value, "BJ-002")
        XCTAssertEqual(en.slots["branch"]?.how, "partial")
        XCTAssertTrue(en.reply.hasPrefix("Beijing Zhongguancun Branch is open on Saturday: 09:30-15:30."), en.reply)
        XCTAssertNil(ReplyLanguage.foreignText(in: en.reply, language: "en"), en.reply)
        let closed = try a.answer("Is the Nanjing Road branch open on Sunday?")
        XCTAssertTrue(closed.reply.hasPrefix("Nanjing Road Branch is closed on Sunday"), closed.reply)
        // No day: the whole week, with "closed" in the customer's language.
        let week = try a.answer("徐家汇支行营业时间")
        XCTAssertTrue(week.reply.contains("周日不营业") && !week.reply.contains("closed"), week.reply)
    }

    /// A day is a slot of the branch intents now, so "…周日营业吗" after a branch's hours looked
    /// like a follow-up about that branch although it names a city.
    func testANewCityIsANewQuestionNotAFollowUp() throws {
        let a = try assistant()
        var s = ServiceSession()
        _ = try a.answer("北京中关村支行周六几点开门？", session: &s)
        let city = try a.answer("杭州有支行吗？周日营业吗", session: &s)
        XCTAssertFalse(city.followUp)
        XCTAssertEqual(city.intent, "branches_in_city")
        XCTAssertTrue(city.reply.contains("杭州钱江分行"), city.reply)
        let day = try a.answer("那周六呢？", session: &s)
        XCTAssertTrue(day.followUp)
        XCTAssertEqual(day.slots["city"]?.value, "Hangzhou")
        XCTAssertTrue(day.reply.contains("周六营业时间09:00-16:00"), day.reply)
    }

    func testWeekdaysAreReadInBothLanguagesAndRelativeToToday() {
        func day(_ s: String) -> String? { SlotFiller.weekday(in: s, today: "2026-11-23")?.value }   // a Monday
        XCTAssertEqual(day("星期天开门吗"), "sun")
        XCTAssertEqual(day("open on Sundays?"), "sun")
        XCTAssertEqual(day("礼拜六几点关门"), "sat")
        XCTAssertEqual(day("明天营业吗"), "tue")
        XCTAssertEqual(day("is it open today"), "mon")
        XCTAssertEqual(day("工作日几点开门"), "weekday")
        XCTAssertNil(day("周末营业吗"), "a weekend is two days: the reply shows both")
        XCTAssertNil(day("what are the opening hours"))
    }

    func testNamesGivenInPartFillTheSlotOnlyWhenTheyNameOneValue() throws {
        let a = try assistant()
        XCTAssertEqual(try a.answer("美元一年定期利息多少").slots["product"]?.value, "USD-1Y", "not the RMB 1-year deposit")
        XCTAssertEqual(try a.answer("一年定期利率是多少").slots["product"]?.value, "DEP-1Y")
        XCTAssertEqual(try a.answer("国贸支行周六开不开？").slots["branch"]?.value, "BJ-003")
        XCTAssertEqual(try a.answer("phone number of the Futian branch").slots["branch"]?.value, "SZ-001")
        // Three Beijing branches: asking which one beats guessing.
        let b = try a.answer("opening hours of the Beijing branch")
        XCTAssertNil(b.slots["branch"])
        XCTAssertEqual(b.path, .clarify)
    }

    func testRepliesCarryLocalisedValuesAndTheirConditions() throws {
        let a = try assistant()
        let cd = try a.answer("三年期大额存单利率多少？起存多少钱？")
        XCTAssertEqual(cd.reply, "三年期大额存单：年利率1.85%，起存金额20万元。", "the ended mid-year special is not offered")
        let cdEn = try a.answer("What is the interest rate of the 3-year CD?")
        XCTAssertTrue(cdEn.reply.contains("1.85%") && cdEn.reply.contains("RMB 200,000") && !cdEn.reply.contains("CNY"), cdEn.reply)
        let upcoming = try a.answer("六个月定期利率多少")
        XCTAssertTrue(upcoming.reply.contains("年利率1.40%") && upcoming.reply.contains("2026-12-01至2027-01-31，尚未开始"), upcoming.reply)
        let atm = try a.answer("他行ATM取现收费吗")
        XCTAssertTrue(atm.reply.contains("他行ATM取现（境内）：2元。每月前5笔免费"), atm.reply)
        XCTAssertNil(ReplyLanguage.foreignText(in: atm.reply, language: "zh"), atm.reply)
        let promo = try a.answer("现在有什么优惠活动")
        XCTAssertTrue(promo.reply.contains("新增资金1万至100万元") && !promo.reply.contains("promotion"), promo.reply)
        let status = try a.answer("我的案件HB-2026-00123进度如何")
        XCTAssertTrue(status.reply.hasPrefix("您的退款案件HB-2026-00123（金额1,299元）当前状态：处理中"), status.reply)
        let fee = try a.answer("白金卡境外刷卡手续费多少")
        XCTAssertTrue(fee.reply.contains("境外交易手续费0%") && fee.reply.contains("取现金额的1%，最低10元"), fee.reply)
    }

    /// The issue: "What documents do I need to open an account?", an example of its own intent,
    /// was refused by the evidence gate (its words are not the policy's).
    func testARecognisedDocumentIntentIsNotRefusedByTheCoverageGate() throws {
        let bring = Fixtures.passage(44, "Knowledge/policies/account-opening.en.md", "Personal Account Opening Policy › What to bring",
                                     "Chinese citizens: your valid resident ID card and a mobile number registered in your name.")
        let g = ScriptedGenerator(["Chinese citizens need a valid resident ID card and a mobile number registered in their name [1]."])
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: ClosureRetriever { _ in [bring] }, generator: g)
        XCTAssertFalse(EvidenceGate(minScore: 0, minCoverage: 0.3).decide(query: "What documents do I need to open an account?", passages: [bring]).pass,
                       "the gate alone refuses this wording")
        let a = try assistant(knowledge: qa).answer("What documents do I need to open an account?")
        XCTAssertEqual(a.intent, "account_opening")
        XCTAssertEqual(a.path, .knowledge)
        XCTAssertTrue(a.reply.contains("resident ID card"), a.reply)
    }

    /// #18: a 1,000,000-character message ran for minutes.
    func testAMessageLongerThanATurnHoldsIsRefusedQuickly() throws {
        let a = try assistant()
        let start = Date()
        XCTAssertThrowsError(try a.answer(String(repeating: "金卡年费", count: 250_000))) { e in
            XCTAssertEqual(e as? ServiceError, .messageTooLong(characters: 1_000_000, limit: ServiceAssistant.maxMessageCharacters))
            XCTAssertTrue((e as? ServiceError)?.isMessageError ?? false)
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertNoThrow(try a.answer(String(repeating: "年", count: ServiceAssistant.maxMessageCharacters)))
    }

    func testBenchmarkScoringGradesFactsLanguageAndRefusals() throws {
        let c = try SupportCase.parse(#"{"id":"x","lang":"zh","question":"三年期大额存单起存多少","expect":"answer","facts":[["20万","200,000"],["1.85"]],"wrong":[["2.00%"]]}"#, number: 1)
        XCTAssertEqual(SupportScorer.score(c, path: .template, reply: "起存金额20万元，年利率1.85%。").grade, .right)
        XCTAssertEqual(SupportScorer.score(c, path: .template, reply: "起存金额20万元，年利率1.85%，promotion ended。").grade, .partly, "all facts, but English mixed in")
        XCTAssertEqual(SupportScorer.score(c, path: .template, reply: "起存金额20万元。").grade, .partly)
        XCTAssertEqual(SupportScorer.score(c, path: .template, reply: "年利率2.00%。").grade, .wrong)
        XCTAssertEqual(SupportScorer.score(c, path: .template, reply: "The minimum is RMB 200,000 at 1.85%.").grade, .wrong, "other language")
        XCTAssertEqual(SupportScorer.score(c, path: .outOfScope, reply: "抱歉").grade, .refused)
        let oos = try SupportCase.parse(#"{"id":"y","lang":"en","question":"poem?","expect":"refuse","facts":[],"wrong":[]}"#, number: 2)
        XCTAssertEqual(SupportScorer.score(oos, path: .outOfScope, reply: "…").grade, .right)
        XCTAssertEqual(SupportScorer.score(oos, path: .template, reply: "…").grade, .wrong)
        XCTAssertEqual(SupportScorer.normalise("RMB 1,000,000 "), "rmb1000000")
        XCTAssertEqual(SupportScorer.normalise("3, 7 and 1,2345"), "3,7and1,2345")
        XCTAssertThrowsError(try SupportCase.parse(#"{"id":"z","lang":"fr","question":"q","expect":"answer","facts":[["a"]],"wrong":[]}"#, number: 7)) {
            XCTAssertTrue($0.localizedDescription.hasPrefix("line 7: lang must be"), $0.localizedDescription)
        }
        XCTAssertThrowsError(try SupportCase.parse(#"{"id":"z","lang":"en","question":"q","expect":"answer","facts":[],"wrong":[]}"#, number: 8))
        XCTAssertThrowsError(try SupportCase.parse("not json", number: 9)) { XCTAssertTrue($0.localizedDescription.contains("line 9"), $0.localizedDescription) }
    }
}
