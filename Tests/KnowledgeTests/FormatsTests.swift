import XCTest
@testable import Knowledge

/// PDF, OCR, Office and e-mail fixtures ingested end to end: the text, the table rows and the
/// page / slide / sheet each chunk cites.
final class FormatsTests: XCTestCase {
    func ingest(_ names: [String], options: IngestOptions = IngestOptions()) throws -> (KnowledgeStore, IngestReport) {
        let store = try KnowledgeStore(path: ":memory:")
        return (store, Ingestor(store: store).ingest(paths: names.map { Fixtures.formats + "/" + $0 }, options: options))
    }

    func chunks(_ store: KnowledgeStore, _ name: String) throws -> [ChunkRecord] {
        try store.chunks(documentID: XCTUnwrap(try store.document(path: Fixtures.formats + "/" + name), name).id)
    }

    func testTwoColumnPDFReadsInOrderWithPagesHeadingsAndTableRows() throws {
        try Fixtures.require("pdftotext", package: "poppler-utils")
        let (store, r) = try ingest(["report.pdf"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertEqual(try store.document(path: Fixtures.formats + "/report.pdf")?.title, "Capital report 3Q26")
        let c = try chunks(store, "report.pdf")
        let all = c.map(\.text).joined(separator: "\n")
        // Running header and "Page N" footers are gone; the first column is read before the second.
        XCTAssertFalse(all.contains("Jiangnan Bank - Capital Report 3Q26"), all)
        XCTAssertFalse(all.contains("Page 1") || all.contains("Page 2"), all)
        // Lines wrapped at the column's edge are one paragraph again, and no line mixes columns.
        XCTAssertTrue(c[0].text.hasPrefix("Jiangnan Bank reports its capital position for the third quarter of 2026. The board"), c[0].text)
        XCTAssertFalse(all.contains("   "), all)
        // Table rows with their header, on page 2, under the heading that started on page 1.
        let table = try XCTUnwrap(c.first { $0.text.contains("Ratio: CET1 ratio") })
        XCTAssertEqual(table.headingPath, "p. 2 > 3 Capital > 3.2 Capital adequacy")
        XCTAssertTrue(table.text.contains("Ratio: Total capital ratio\n2025: 14.10%\n2026: 14.62%\nMinimum: 10.50%"), table.text)
        XCTAssertTrue(table.text.contains("资本充足率为14.62%，高于监管要求。"), table.text)
        XCTAssertEqual(c.first { $0.text.contains("interim dividend of 0.21 yuan") }?.headingPath, "p. 2 > 4 Outlook > 4.1 Dividend")
        XCTAssertEqual(Set(c.map { $0.headingPath.components(separatedBy: " > ")[0] }), ["p. 1", "p. 2", "p. 3"])
        // Offsets and lines point into the extracted text, in order.
        XCTAssertEqual(c.map(\.charStart), c.map(\.charStart).sorted())
        let hit = try XCTUnwrap(try store.keywordSearch("capital adequacy ratio Tier", groups: []).first)
        XCTAssertEqual(hit.headingPath, "p. 2 > 3 Capital > 3.2 Capital adequacy")
    }

    func testScannedPDFAndImageAreOCRdWithShareAndConfidence() throws {
        try Fixtures.require("tesseract", package: "tesseract-ocr tesseract-ocr-chi-sim")
        try Fixtures.require("pdftoppm", package: "poppler-utils")
        guard OCR.languagesInstalled() else { throw XCTSkip("tesseract chi_sim data missing — apt-get install tesseract-ocr-chi-sim") }
        let (store, r) = try ingest(["scan-zh.pdf", "scan-zh.png", "mixed.pdf"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        for name in ["scan-zh.pdf", "scan-zh.png"] {
            let text = try chunks(store, name).map(\.text).joined(separator: "\n")
            XCTAssertTrue(text.contains("贷款年利率为百分之四点二"), "\(name): \(text)")
            XCTAssertTrue(text.contains("提前还款需提前十个工作日申请"), "\(name): \(text)")
        }
        XCTAssertEqual(try chunks(store, "scan-zh.pdf").first?.headingPath.hasPrefix("p. 1"), true)
        let notes = Dictionary(r.notes.map { (($0.path as NSString).lastPathComponent, $0.note) }, uniquingKeysWith: { a, _ in a })
        XCTAssertTrue(notes["scan-zh.pdf"]?.hasPrefix("OCR on 1 of 1 page (100% of the document), mean word confidence ") == true, "\(notes)")
        XCTAssertTrue(notes["mixed.pdf"]?.hasPrefix("OCR on 1 of 2 pages (50% of the document)") == true, "\(notes)")
        let confidence = Double(notes["scan-zh.png"]?.split(separator: " ").last?.dropLast() ?? "") ?? 0
        XCTAssertGreaterThan(confidence, 60, "\(notes)")
        let mixed = try chunks(store, "mixed.pdf")
        XCTAssertEqual(mixed.first?.headingPath, "p. 1")
        XCTAssertTrue(mixed.contains { $0.headingPath == "p. 2" && $0.text.contains("提前还款") }, "\(mixed.map(\.text))")
    }

    func testDOCXHeadingsListsTableAndFootnote() throws {
        let (store, r) = try ingest(["handbook.docx"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertEqual(try store.document(path: Fixtures.formats + "/handbook.docx")?.title, "Branch handbook")
        let c = try chunks(store, "handbook.docx")
        XCTAssertEqual(c.map(\.headingPath), ["Branch handbook", "Branch handbook > Opening hours", "Branch handbook > Cash limits",
                                              "Branch handbook > Cash limits > Exceptions", "Footnotes"])
        XCTAssertEqual(c[1].text, "Branches open at nine and close at five on weekdays.\n\n- Saturday service runs from ten to two at city branches.\n- Sunday service is by appointment only.")
        XCTAssertTrue(c[2].text.hasSuffix("Service: Cash withdrawal\nDaily limit: 50,000 CNY\nNotice: 1 day\n\nService: Foreign cash\nDaily limit: USD 5,000\nNotice: 2 days"), c[2].text)
        XCTAssertEqual(c[3].text, "A branch manager may approve a higher limit for a verified emergency.[^1]")
        XCTAssertEqual(c[4].text, "[^1]: Emergencies are recorded in the branch incident log.")
    }

    func testXLSXSheetsBecomeRowsWithHeaderDatesAndSheetNames() throws {
        let (store, r) = try ingest(["fees.xlsx"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        let c = try chunks(store, "fees.xlsx")
        XCTAssertEqual(c.map(\.headingPath), ["Cards > Row 2", "Cards > Row 3", "Cards > Row 4", "Transfers > Row 2", "Transfers > Row 3"])
        XCTAssertEqual(c[1].text, "card: Gold credit\nannual_fee: 300\nwaiver: 6 purchases a year\neffective: 2026-03-01")
        XCTAssertEqual(c[2].text, "card: Platinum credit\nannual_fee: 2000.5\nwaiver: points\neffective: 2026-07-15")
        XCTAssertEqual(c[4].text, "service: 跨境汇款\nfee: 50\nnote: 按金额千分之一，最低50元")
        let table = try XLSXReader.table(SourceFile(name: "fees.xlsx", bytes: try Fixtures.bytes("fees.xlsx")), sheet: "Transfers")
        XCTAssertEqual(table.header, ["service", "fee", "note"])
        XCTAssertEqual(table.records.map(\.line), [2, 3])
        XCTAssertEqual(table.records[0].fields, ["Domestic wire", "15", "same day"])
    }

    func testPPTXSlidesTitlesBulletsAndNotesCiteTheSlide() throws {
        let (store, r) = try ingest(["deck.pptx"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        let c = try chunks(store, "deck.pptx")
        XCTAssertEqual(c.map(\.headingPath), ["slide 1 > Memory cycle outlook", "slide 2 > Risks", "slide 3 > Recommendation"])
        XCTAssertEqual(c[0].text, "- HBM demand doubles in 2027\n- DRAM contract prices up 12% quarter on quarter\n\nSpeaker notes: Open with the HBM chart.")
        XCTAssertEqual(c[1].text, "- Capex discipline may slip\n- Export controls tighten")
        XCTAssertTrue(c[2].text.contains("目标价上调至180元") && c[2].text.hasSuffix("Speaker notes: Stress that the call is for twelve months."), c[2].text)
        XCTAssertEqual(try store.document(path: Fixtures.formats + "/deck.pptx")?.title, "Memory cycle outlook")
    }

    func testGBKMailWithAttachmentAndMailbox() throws {
        let (store, r) = try ingest(["notice-gbk.eml", "meetings.mbox"])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        let mail = Fixtures.formats + "/notice-gbk.eml"
        XCTAssertEqual(try store.document(path: mail)?.title, "关于调整跨境汇款手续费的通知")
        let c = try chunks(store, "notice-gbk.eml")
        XCTAssertEqual(c[0].text, "From: 王经理 <wang@jiangnan.example>\nTo: branches@jiangnan.example\nDate: Mon, 23 Nov 2026 09:30:00 +0800\nSubject: 关于调整跨境汇款手续费的通知")
        XCTAssertEqual(c[1].text, "各网点：\n自十二月一日起，跨境汇款手续费调整为每笔八十元。\n请提前告知客户。", "the plain part of multipart/alternative")
        XCTAssertEqual(c.map(\.headingPath), ["", "关于调整跨境汇款手续费的通知"], "the body cites the subject")
        let attachment = try XCTUnwrap(try store.document(path: mail + " › rates.csv"))
        XCTAssertEqual(try store.chunks(documentID: attachment.id).map(\.text), ["currency: USD\nrate: 7.12", "currency: EUR\nrate: 7.80"])
        // The mailbox: an index, and each message a document; the HTML-only reply loses its nav and footer.
        XCTAssertEqual(try chunks(store, "meetings.mbox").first?.text.components(separatedBy: "\n").count, 2)
        let reply = try XCTUnwrap(try store.document(path: Fixtures.formats + "/meetings.mbox › message-2.eml"))
        XCTAssertEqual(reply.title, "Re: 周一晨会纪要")
        XCTAssertEqual(try store.chunks(documentID: reply.id).map(\.text).last, "收到，网点将在周二前完成培训。")
    }

    func testChangedMailReplacesItsAttachmentsAndPruneKeepsThemWhileTheMailExists() throws {
        let d = try TempDir()
        func mail(_ attachment: String) -> String {
            "From: a@b.example\nSubject: Rates\nContent-Type: multipart/mixed; boundary=XX\n\n--XX\nContent-Type: text/plain\n\nSee attached.\n--XX\n"
                + "Content-Type: text/csv\nContent-Disposition: attachment; filename=\"\(attachment)\"\n\ncurrency,rate\nUSD,7.1\n--XX--\n"
        }
        try d.write("m.eml", mail("old.csv"))
        let store = try KnowledgeStore(path: ":memory:")
        var opts = IngestOptions(); opts.prune = true
        _ = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertNotNil(try store.document(path: d.path("m.eml") + " › old.csv"))
        let again = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertEqual(again.pruned, [], "an attachment whose mail still exists is not pruned")
        XCTAssertEqual(again.unchangedFiles, 1)
        try d.write("m.eml", mail("new.csv"))
        _ = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertNil(try store.document(path: d.path("m.eml") + " › old.csv"), "gone from the new version of the mail")
        XCTAssertNotNil(try store.document(path: d.path("m.eml") + " › new.csv"))
        try FileManager.default.removeItem(atPath: d.path("m.eml"))
        let pruned = Ingestor(store: store).ingest(paths: [d.url.path], options: opts)
        XCTAssertEqual(Set(pruned.pruned), [d.path("m.eml"), d.path("m.eml") + " › new.csv"])
    }

    /// The demo's documents (make demo asks a question only the PDF answers, cited with its page).
    func testDemoDocumentsCiteTheirPages() throws {
        try Fixtures.require("pdftotext", package: "poppler-utils")
        let docs = URL(fileURLWithPath: Fixtures.formats).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Knowledge/documents").path
        let store = try KnowledgeStore(path: ":memory:")
        let r = Ingestor(store: store).ingest(paths: [docs])
        XCTAssertEqual(r.failureCount, 0, "\(r.problems)")
        XCTAssertEqual(r.typeSummary, "by type: docx 1, pdf 1")
        let vault = try XCTUnwrap(try store.keywordSearch("When is the safe deposit vault open", groups: []).first)
        XCTAssertEqual(vault.headingPath, "p. 2 > 3 Access and lost keys")
        XCTAssertTrue(vault.text.hasPrefix("The vault is open during branch hours on weekdays, 9:30 to 16:00."), vault.text)
        let rent = try XCTUnwrap(try store.keywordSearch("large box annual rent", groups: []).first)
        XCTAssertEqual(rent.headingPath, "p. 2 > 2 Rent and key deposit")
        XCTAssertTrue(rent.text.contains("Box size: Large\nInside (cm): 20 x 30 x 50\nAnnual rent: RMB 1,200\nKey deposit: RMB 800"), rent.text)
        let appeal = try XCTUnwrap(try store.keywordSearch("appeal counterfeit appraisal", groups: []).first)
        XCTAssertEqual(appeal.headingPath, "Suspected counterfeit banknotes > Appeals")
    }
}
