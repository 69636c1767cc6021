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
}
