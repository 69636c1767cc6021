import XCTest
@testable import Knowledge

/// Page furniture left out of HTML, and the PDF layout rules on hand-made pages.
final class LayoutTests: XCTestCase {
    /// Regression (issue 20): a `<nav>` line was the top hit for a loan question.
    func testHTMLNavigationHeaderFooterAsideAndCookieBannerAreLeftOut() throws {
        let page = """
            <html><head><title>Loans</title></head><body>
            <header><a href="/">Harbor Bank</a><nav><ul><li>Personal loans</li><li>Loan calculator</li><li>Loan rates</li></ul></nav></header>
            <div class="cookie-consent"><div>We use cookies to tailor loan offers.</div><button>Accept</button></div>
            <main><article><header><h1>Personal loans</h1></header>
            <p>A personal loan of up to RMB 300,000 is repaid over one to five years.</p></article></main>
            <div role="navigation">Loan FAQ | Loan rates</div>
            <aside>Related: loan rates, loan FAQ</aside>
            <footer>Loans are subject to approval. Harbor Bank.</footer>
            </body></html>
            """
        let (title, chunks) = try TextChunker.chunk(page, type: .html, fileName: "loans.html")
        XCTAssertEqual(title, "Loans")
        XCTAssertEqual(chunks.map(\.text), ["A personal loan of up to RMB 300,000 is repaid over one to five years."])
        XCTAssertEqual(chunks.map(\.headingPath), ["Personal loans"], "a header inside the article keeps its heading")
        let store = try KnowledgeStore(path: ":memory:")
        let d = try TempDir()
        try d.write("loans.html", page)
        _ = Ingestor(store: store).ingest(paths: [d.url.path])
        XCTAssertEqual(try store.keywordSearch("loan rates", groups: []).map(\.text), chunks.map(\.text))
    }

    func testRunningLinesAndPageNumbersAreDropped() {
        let body = [["Deposits grew.", "Loans grew too."], ["Fees fell.", "Costs were flat."], ["Outlook is stable.", "Dividend unchanged."]]
        var pages = (1...3).map { n in ["ACME Bank Annual Report 2026", ""] + body[n - 1] + ["", "Page \(n) of 3"] }
        pages[1].append("- \(2) -")
        PDFLayout.dropRunningLines(&pages)
        XCTAssertEqual(pages.map { $0.filter { !$0.isEmpty } }, body)
        XCTAssertTrue(PDFLayout.isPageNumber("第 12 页"))
        XCTAssertFalse(PDFLayout.isPageNumber("12 months"))
    }

    func testNumberedHeadingsAndTables() {
        XCTAssertEqual(PDFLayout.headingLevel("3.2 Capital adequacy"), 2)
        XCTAssertEqual(PDFLayout.headingLevel("1 Overview"), 1)
        XCTAssertEqual(PDFLayout.headingLevel("第三章 风险管理"), 1)
        XCTAssertNil(PDFLayout.headingLevel("12 months later the bank grew."))
        XCTAssertNil(PDFLayout.headingLevel("12 months later"))
        let md = PDFLayout.markdown(["Rates are below.", "", "Term      Rate", "3 months  1.10%", "1 year    1.45%", "", "2 Loans", "", "Text."])
        XCTAssertEqual(md, "Rates are below.\n\nTerm: 3 months\nRate: 1.10%\n\nTerm: 1 year\nRate: 1.45%\n\n# 2 Loans\n\nText.")
    }

    func testTwoColumnsAreReadLeftThenRight() {
        let l = ["Left one starts the story and", "left two carries it on to the", "left three, the end of column.", "", "Left four.", "Left five.", "Left six."]
        let r = ["Right one continues after.", "Right two.", "Right three.", "", "Right four.", "Right five.", "Right six."]
        let lines = ["A TITLE THAT RUNS ACROSS BOTH COLUMNS OF THE PAGE AND BEYOND"] + zip(l, r).map { $0.padding(toLength: 42, withPad: " ", startingAt: 0) + $1 }
        let ordered = PDFLayout.readingOrder(lines).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        XCTAssertEqual(ordered, ["A TITLE THAT RUNS ACROSS BOTH COLUMNS OF THE PAGE AND BEYOND"] + l.filter { !$0.isEmpty } + r.filter { !$0.isEmpty })
    }

    // Lines below are pdftotext -layout output of the policies that scripts/convert-knowledge.sh
    // prints (reportlab, A4, 10 pt), cut down.

    /// Regression (issue 20, the converted knowledge base): a sentence wrapped at the line end was
    /// two units, and the answer quoted the half without the figure.
    func testWrappedLinesAreJoinedIntoTheirParagraphAndListItem() {
        let page = [
            "Raise the dispute within 60 days of the transaction date for debit cards, or of the statement date on",
            "which the transaction appeared for credit cards.",
            "Short last line of a paragraph.",
            "",
            "• Provisional credit: for unauthorised transactions and duplicate charges, we post a provisional",
            "credit within 5 business days while we investigate. If the transaction is found genuine, call us on 400-820-",
            "6688.",
            "",
            "• Time needed: most domestic disputes are settled within 45 days.",
            "",
            "After the list.",
        ]
        XCTAssertEqual(PDFLayout.markdown(page), """
            Raise the dispute within 60 days of the transaction date for debit cards, or of the statement date on which the transaction appeared for credit cards.
            Short last line of a paragraph.

            - Provisional credit: for unauthorised transactions and duplicate charges, we post a provisional credit within 5 business days while we investigate. If the transaction is found genuine, call us on 400-820-6688.
            - Time needed: most domestic disputes are settled within 45 days.

            After the list.
            """, "a list's items are adjacent lines, however the layout spaced them")
    }

    /// Chinese wraps anywhere: after a digit ("5" + "万元") or a closing bracket ("）" + "发起"),
    /// and joins without a space (the blanks pdftotext leaves between Han characters go too).
    func testWrappedChineseLinesJoinWithoutSpace() {
        let page = [
            "挂失之前：海港用卡保障承担 挂失前72小时内 的盗刷损失，每卡最高：标准卡、金卡及借记卡 5",
            "万元，白金卡、环球旅行卡及尊享卡 10万元；前提是您未泄露密码或短信验证码，并在发现卡片丢",
            "失后72小时内挂失。",
            "",
            "如自商户退款之日起已超过15个工作日仍未到账，请在海港银行App（我的→我的申请→退款查询）",
            "发起退款查询，或致电400-820-6688，您会收到业务编号（如HB-2026-00123）。",
        ]
        XCTAssertEqual(PDFLayout.markdown(page), """
            挂失之前：海港用卡保障承担挂失前72小时内的盗刷损失，每卡最高：标准卡、金卡及借记卡 5万元，白金卡、环球旅行卡及尊享卡 10万元；前提是您未泄露密码或短信验证码，并在发现卡片丢失后72小时内挂失。

            如自商户退款之日起已超过15个工作日仍未到账，请在海港银行App（我的→我的申请→退款查询）发起退款查询，或致电400-820-6688，您会收到业务编号（如HB-2026-00123）。
            """)
    }

    /// Regression (issue 20): a cell wrapped onto a second line ended the table, so its rows were
    /// left as padded lines, or the second line of a row was read as the table's header.
    func testTableCellsWrappedOntoMoreLinesStayInTheirRow() {
        let en = [
            "4 What happens next",
            " Status                                                Meaning",
            "",
            " investigating                                         We review your evidence and contact the merchant's",
            "                                                       bank.",
            "",
            " chargeback_submitted                                  We have filed a chargeback through the card network.",
            "",
            " resolved                                              Decision made; the case is closed with the outcome.",
            "",
            "",
            "Text after the table.",
        ]
        XCTAssertEqual(PDFLayout.markdown(en), """
            # 4 What happens next

            Status: investigating
            Meaning: We review your evidence and contact the merchant's bank.

            Status: chargeback_submitted
            Meaning: We have filed a chargeback through the card network.

            Status: resolved
            Meaning: Decision made; the case is closed with the outcome.

            Text after the table.
            """)
        let zh = [
            "账户       开立方式       功能与限额",
            "",
            "一类账户（借   本人到网点面签    全功能账户，可存取现金、转账、购买理财，限额见《借记卡常见问题》",
            "记卡）",
            "",
            "二类账户（电   App在线开立，   与绑定账户之间转账不限额；其他转入转出及消费合计每日1万元、每年20",
            "子账户）     刷脸认证       万元；可购买本行存款和理财",
            "",
            "三类账户     App在线开立    小额支付，余额不超过2,000元",
            "",
            "",
            "按监管规定，同一客户在本行只能开立一个一类账户；已有一类账户的，新开账户只能为二类或三",
            "类账户。",
        ]
        XCTAssertEqual(PDFLayout.markdown(zh), """
            账户: 一类账户（借记卡）
            开立方式: 本人到网点面签
            功能与限额: 全功能账户，可存取现金、转账、购买理财，限额见《借记卡常见问题》

            账户: 二类账户（电子账户）
            开立方式: App在线开立，刷脸认证
            功能与限额: 与绑定账户之间转账不限额；其他转入转出及消费合计每日1万元、每年20万元；可购买本行存款和理财

            账户: 三类账户
            开立方式: App在线开立
            功能与限额: 小额支付，余额不超过2,000元

            按监管规定，同一客户在本行只能开立一个一类账户；已有一类账户的，新开账户只能为二类或三类账户。
            """)
        // Rows on consecutive lines: a line with an empty first column continues the row above;
        // a line with only a first cell is text after the table.
        let tight = ["Term        Note", "3 months    Opens 1 December", "            for new money", "1 year      Unchanged", "Source: rate sheet."]
        XCTAssertEqual(PDFLayout.markdown(tight), """
            Term: 3 months
            Note: Opens 1 December for new money

            Term: 1 year
            Note: Unchanged

            Source: rate sheet.
            """)
    }

    /// Regression: a left-column line that reached one column further into the gutter than the
    /// others ("central" in report.pdf) was read as one line across the page, mixing both columns.
    func testALeftColumnLineReachingIntoTheGutterIsStillCut() {
        let left = (0..<40).map { i -> String in
            let start = "left line \(i) of the first column", length = i == 3 ? 56 : i == 7 ? 57 : 50
            return start + String(repeating: "a", count: length - start.count)
        }
        let right = (0..<40).map { "right line \($0) of the second column, as long as the first" }
        let lines = zip(left, right).map { " " + $0.padding(toLength: 60, withPad: " ", startingAt: 0) + $1 }
        XCTAssertEqual(PDFLayout.readingOrder(lines).map { $0.trimmingCharacters(in: .whitespaces) }, left + right)
    }
}
