import XCTest
@testable import Assistant

/// The support check ties each stated value to the row or sentence of its source that is about
/// the question (issue #19, item 5). The cases are the wrong answers the issue quotes.
final class SubjectTieTests: XCTestCase {
    let limits = Fixtures.transferLimits

    func testTheNeighbouringRowsNumberIsCaught() throws {
        let p = [Fixtures.passage(1, "mobile-banking.en.md", "Transfer limits", limits)]
        let q = "What is the daily limit for mobile transfers with face verification?"
        let wrong = try SupportChecker().check("The daily limit is 50,000 [1].", passages: p, question: q)
        XCTAssertFalse(wrong[0].supported)
        XCTAssertTrue(wrong[0].untied)
        XCTAssertTrue(wrong[0].note?.contains("50000 is in [1], but in a row or sentence about something else") == true, wrong[0].note ?? "")
        let right = try SupportChecker().check("With face verification the daily limit is RMB 200,000 [1].", passages: p, question: q)
        XCTAssertTrue(right[0].supported, right[0].note ?? "")
        // Without the question the check cannot know the subject: the old behaviour.
        XCTAssertTrue(try SupportChecker().check("The daily limit is 50,000 [1].", passages: p)[0].supported)
    }

    func testAnotherSentencesTimeIsCaught() throws {
        let text = "Remittances submitted by 16:00 on a business day are sent the same day. Branch counters close at 15:00 on Saturdays."
        let p = [Fixtures.passage(1, "remittance.en.md", "Cut-off", text)]
        let q = "What is the cut-off time for sending an international remittance the same day?"
        XCTAssertFalse(try SupportChecker().check("The cut-off is 15:00 [1].", passages: p, question: q)[0].supported)
        XCTAssertTrue(try SupportChecker().check("Remittances submitted by 16:00 are sent the same day [1].", passages: p, question: q)[0].supported)
    }

    /// Two facts from two sentences: the date's sentence names less of the question than the
    /// rate's, but no other date competes with it, so nothing is dropped.
    func testTwoFactsFromTwoSentencesStay() throws {
        let text = "The year-end 6-month special pays 1.40% p.a. It starts on 1 December 2026. The minimum is RMB 50,000. The standard 6-month rate is 1.05%."
        let p = [Fixtures.passage(1, "deposits.en.md", "Specials", text)]
        let q = "What rate does the 6-month special pay, when does it start and what is the minimum?"
        let v = try SupportChecker().check("The 6-month special pays 1.40% from 1 December 2026, with a minimum of RMB 50,000 [1].", passages: p, question: q)
        XCTAssertTrue(v[0].supported, v[0].note ?? "")
        XCTAssertFalse(try SupportChecker().check("The 6-month special pays 1.05% [1].", passages: p, question: q)[0].supported)
    }

    /// The model borrowed the ChiNext sentence's wording for the STAR Market's figures: the
    /// values are the STAR Market's, and the question names the STAR Market.
    func testBorrowedWordingDoesNotMoveTheSubject() throws {
        let text = "ChiNext: average daily assets of at least RMB 100,000 over the previous 20 trading days and 24 months of trading experience. STAR Market: RMB 500,000 and 24 months. Margin financing: RMB 500,000 and 6 months; margin interest is 5.60% a year."
        let p = [Fixtures.passage(1, "securities-trading.en.md", "Requirements", text)]
        let q = "want to trade STAR Market shares — what are the requirements to unlock it?"
        let v = try SupportChecker().check("To unlock STAR Market shares, you need average daily assets of at least RMB 500,000 over the previous 24 months and 24 months of trading experience [1].", passages: p, question: q)
        XCTAssertTrue(v[0].supported, v[0].note ?? "")
        XCTAssertFalse(try SupportChecker().check("For the STAR Market you need RMB 100,000 [1].", passages: p, question: q)[0].supported)
    }

    /// Chinese: the face-verification row of the Chinese table.
    func testChineseRows() throws {
        let text = "| 验证方式 | 单笔限额 | 日累计限额 |\n|---|---|---|\n| 短信验证码 | 5万元 | 5万元 |\n| 人脸识别 | 20万元 | 20万元 |"
        let p = [Fixtures.passage(1, "mobile-banking.zh.txt", "转账限额", text)]
        let q = "刷脸转账一天最多能转多少？"
        XCTAssertFalse(try SupportChecker().check("人脸识别每日限额为5万元[1]。", passages: p, question: q)[0].supported)
        XCTAssertTrue(try SupportChecker().check("人脸识别日累计限额为20万元[1]。", passages: p, question: q)[0].supported)
    }

    /// A record (one CSV row) is one unit: nothing in it competes.
    func testARowIsOneUnit() throws {
        let row = "product_id: DEP-3Y\nname_en: 3-Year Time Deposit\nrate_pct: 1.55\nmin_amount: 50\npromo_rate_pct: 1.75"
        let p = Fixtures.passage(1, "/kb/business/products.csv", "DEP-3Y", row)
        XCTAssertEqual(SubjectTie.untied(sentence: "The 3-year deposit pays 1.55% [1].", question: "3-year deposit rate?", passage: p), [])
        // The same lines in a Markdown file are sentences that compete.
        let md = Fixtures.passage(2, "/kb/rates.md", "Rates", "The standard rate is 1.55%.\nThe promotional 3-year rate is 1.75%.")
        XCTAssertEqual(SubjectTie.untied(sentence: "The 3-year rate is 1.55% [2].", question: "promotional 3-year rate?", passage: md), ["1.55"])
    }

    func testValueKinds() {
        XCTAssertEqual(SubjectTie.values("RMB 50,000 by 16:00 at 1.40%, 3-7 business days, 2026-12-01, 1 December, 20万元").map(\.kind),
                       [.money, .time, .percent, .count, .duration, .date, .date, .money])
    }
}

/// What the model reads of a long passage.
final class PassageFocusTests: XCTestCase {
    func testKeepsTheAnswerUnderItsHeadingAndTheTableHeader() throws {
        var text = "## Opening hours\nBranches open 09:00-17:00 on weekdays.\n"
        for i in 1...30 { text += "Unrelated sentence number \(i) about something else entirely. " }
        text += "\n## What are the transfer limits?\n| Verification | Per day |\n|---|---|\n| SMS code | RMB 50,000 |\n| Face verification | RMB 200,000 |\n"
        let p = Fixtures.passage(1, "mobile-banking.en.md", "Mobile", text)
        let out = try PassageFocus.focus([p], question: "daily limit with face verification", budget: 60)[0].text
        XCTAssertTrue(out.contains("| Face verification | RMB 200,000 |"), out)
        XCTAssertTrue(out.contains("| Verification | Per day |"), out)        // the row keeps its header
        XCTAssertFalse(out.contains("Unrelated sentence number 17"), out)
        XCTAssertLessThan(out.count, text.count / 2)
    }

    func testShortPassagesAndRecordsAreKeptWhole() throws {
        let short = Fixtures.passage(1, "a.md", "A", "One sentence. Another sentence.")
        XCTAssertEqual(try PassageFocus.focus([short], question: "x", budget: 60)[0].text, short.text)
        let row = Fixtures.passage(2, "/kb/business/products.csv", "DEP-3Y", String(repeating: "field: value words here\n", count: 40))
        XCTAssertEqual(try PassageFocus.focus([row], question: "field", budget: 60)[0].text, row.text)
    }
}
