import XCTest
@testable import Knowledge

final class ChunkerTests: XCTestCase {
    func chunks(_ text: String, markdown: Bool = true, target: Int = 300, overlap: Int = 45) -> [NewChunk] {
        let doc = ExtractedDocument(title: "t", units: [ExtractedUnit(text: Array(text.utf8), mapping: .identity, markdown: markdown, headingPrefix: [])])
        return DocumentChunker.chunks(of: doc, source: Array(text.utf8), options: ChunkingOptions(targetTokens: target, overlapTokens: overlap))
    }

    /// The documented relation for .md/.txt: the chunk text is exactly the source's scalars at its offsets.
    func assertRoundTrip(_ source: String, _ cs: [NewChunk], file: StaticString = #filePath, line: UInt = #line) {
        let scalars = Array(source.unicodeScalars)
        // Split on the scalar: Swift's Character "\r\n" is not equal to "\n".
        let lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
        for c in cs {
            var v = String.UnicodeScalarView()
            v.append(contentsOf: scalars[c.charStart..<c.charEnd])
            XCTAssertEqual(String(v), c.text, file: file, line: line)
            // The first and last lines named hold the chunk's first and last text lines.
            let textLines = c.text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { String(String.UnicodeScalarView($0)) }
            XCTAssertTrue(lines[c.startLine - 1].contains(textLines.first!), "line \(c.startLine)", file: file, line: line)
            XCTAssertTrue(lines[c.endLine - 1].contains(textLines.last!), "line \(c.endLine)", file: file, line: line)
        }
    }

    func testHeadingsBecomeTheHeadingPath() {
        let src = """
            # Fees

            Intro paragraph.

            ## Wire transfers

            Domestic wires cost $15.

            ```
            # not a heading inside code
            ```

            ### Limits ###
            Up to $10,000.

            # Cards
            Free.
            """
        let cs = chunks(src)
        XCTAssertEqual(cs.map(\.headingPath), ["Fees", "Fees > Wire transfers", "Fees > Wire transfers > Limits", "Cards"])
        XCTAssertTrue(cs[1].text.contains("# not a heading inside code"))
        XCTAssertEqual(cs[2].text, "Up to $10,000.")
        XCTAssertEqual(cs[2].startLine, 14)
        assertRoundTrip(src, cs)
    }

    func testEnglishSentencesSplitAndPackWithOverlap() {
        let sentences = (1...40).map { "Sentence number \($0) talks about fees and limits in some detail." }
        let src = sentences.joined(separator: " ")
        let cs = chunks(src, markdown: false, target: 60, overlap: 15)
        XCTAssertGreaterThan(cs.count, 5)
        for c in cs {
            XCTAssertLessThanOrEqual(c.tokenEstimate, 60)
            XCTAssertTrue(c.text.hasPrefix("Sentence number"), c.text)
            XCTAssertTrue(c.text.hasSuffix("detail."), c.text)
        }
        // Consecutive chunks share whole sentences, at most the overlap budget.
        for (a, b) in zip(cs, cs.dropFirst()) {
            XCTAssertLessThan(b.charStart, a.charEnd, "chunks should overlap")
            XCTAssertGreaterThan(b.charStart, a.charStart)
            let shared = String(src.unicodeScalars.dropFirst(b.charStart).prefix(a.charEnd - b.charStart))
            XCTAssertLessThanOrEqual(TextScan.estimateTokens(shared), 15)
        }
        XCTAssertEqual(cs.last!.charEnd, src.unicodeScalars.count)
        assertRoundTrip(src, cs)
    }

    func testChineseSentenceEnds() {
        let src = "第一句话说明退款流程。第二句话问需要几天？第三句话很激动！第四句；第五句……第六句“引号。”结束"
        let pieces = Array(src.utf8).withUnsafeBufferPointer { b in Chunker.sentences(b, 0, b.count) }
        let texts = pieces.map { String(decoding: Array(src.utf8)[$0.start..<$0.end], as: UTF8.self) }
        XCTAssertEqual(texts, ["第一句话说明退款流程。", "第二句话问需要几天？", "第三句话很激动！", "第四句；", "第五句……", "第六句“引号。”", "结束"])
    }

    func testEnglishSentenceEndsAndInitials() {
        let src = "Dr. J. Smith paid 3.5 dollars. Really? Yes! Then (quoted.) \"Done.\" Next\n- item one\n- item two"
        let pieces = Array(src.utf8).withUnsafeBufferPointer { b in Chunker.sentences(b, 0, b.count) }
        let texts = pieces.map { String(decoding: Array(src.utf8)[$0.start..<$0.end], as: UTF8.self) }
        XCTAssertEqual(texts, ["Dr.", "J. Smith paid 3.5 dollars.", "Really?", "Yes!", "Then (quoted.)", "\"Done.\"", "Next", "- item one", "- item two"])
    }

    func testLongChineseTextIsCutBetweenCharactersNeverInsideOne() {
        let src = String(repeating: "这是一段没有标点的很长的中文文本", count: 60)   // 960 CJK characters, no sentence end
        let cs = chunks(src, markdown: false, target: 100, overlap: 0)
        XCTAssertEqual(cs.count, 10)
        for c in cs { XCTAssertLessThanOrEqual(c.tokenEstimate, 100); XCTAssertEqual(c.text.unicodeScalars.count, c.charEnd - c.charStart) }
        XCTAssertEqual(cs.map(\.text).joined(), src)
        assertRoundTrip(src, cs)
    }

    func testMixedTextOffsetsAndLinesRoundTrip() {
        let src = "# 财报\n\n2024年营收增长3.5%，iPhone销量很好。Emoji 👍🏽 stays whole.\r\n\n## Détails\n\nLigne une.\nLigne deux est plus longue. 第二行。\n"
        let cs = chunks(src, target: 12, overlap: 3)
        XCTAssertGreaterThan(cs.count, 2)
        XCTAssertEqual(cs.first!.headingPath, "财报")
        XCTAssertEqual(cs.last!.headingPath, "财报 > Détails")
        XCTAssertEqual(cs.first!.startLine, 3)
        XCTAssertEqual(cs.last!.endLine, 8)
        assertRoundTrip(src, cs)
    }

    func testTokenEstimate() {
        XCTAssertEqual(TextScan.estimateTokens("退款需要几天"), 6)
        XCTAssertEqual(TextScan.estimateTokens("ten words here make thirteen tokens roughly in the estimate"), 13)
        XCTAssertEqual(TextScan.estimateTokens("iPhone销量，"), 5)       // 1.3 → 2, + 2 CJK + 1 full-width comma
        XCTAssertEqual(TextScan.estimateTokens("  ...  "), 0)
    }

    func testCSVRowsCarryTheirHeader() throws {
        let csv = "name,price,note\r\n\"Widget, large\",12,\"says \"\"hi\"\"\"\r\nGadget,7,\"two\nlines\"\r\n"
        let units = try CSVExtractor.units(Array(csv.utf8))
        XCTAssertEqual(units.map { String(decoding: $0.text, as: UTF8.self) },
                       ["name: Widget, large\nprice: 12\nnote: says \"hi\"", "name: Gadget\nprice: 7\nnote: two\nlines"])
        let doc = try Extractor.extract(Array(csv.utf8), type: .csv, fileName: "p.csv")
        let cs = DocumentChunker.chunks(of: doc, source: Array(csv.utf8), options: .default)
        XCTAssertEqual(cs.map(\.startLine), [2, 3])
        XCTAssertEqual(cs.map(\.endLine), [2, 4])
        XCTAssertEqual(cs.map(\.headingPath), ["Widget, large", "Gadget"])
        XCTAssertThrowsError(try CSVExtractor.units(Array("a,b\n\"open,1\n".utf8)))
    }

    /// A citation names the row: its key with the row's names, and where the key repeats the
    /// column that tells the rows apart.
    func testCSVRowLabels() throws {
        let csv = "branch_id,name_en,name_zh,hours\nBJ-002,Zhongguancun Branch,北京中关村支行,09:00-17:00\n,,,closed\n"
        let doc = try Extractor.extract(Array(csv.utf8), type: .csv, fileName: "b.csv")
        XCTAssertEqual(DocumentChunker.chunks(of: doc, source: Array(csv.utf8), options: .default).map(\.headingPath),
                       ["BJ-002 · Zhongguancun Branch · 北京中关村支行", "Row 2"])
        let fees = "service_en,channel,fee\nRemittance,branch,50\nRemittance,mobile,0\nATM,all,2\n"
        let f = try Extractor.extract(Array(fees.utf8), type: .csv, fileName: "f.csv")
        XCTAssertEqual(DocumentChunker.chunks(of: f, source: Array(fees.utf8), options: .default).map(\.headingPath),
                       ["Remittance (branch)", "Remittance (mobile)", "ATM"])
    }

    /// FAQ records read as question and answer: field names and bookkeeping fields would end up
    /// in answers ("id: cs-002 lang: zh").
    func testFAQRecordsReadAsQuestionAndAnswer() throws {
        let jsonl = #"{"id": "cs-002", "lang": "zh", "question": "退款需要几天到账？", "answer": "一般3–7个工作日。", "topic": "refunds"}"# + "\n"
            + #"{"q": "How long is a refund?", "a": "3-7 business days.", "note": "Overseas purchases can take up to 15 business days."}"# + "\n"
        let units = try JSONExtractor.units(Array(jsonl.utf8), lines: true)
        XCTAssertEqual(units.map { String(decoding: $0.text, as: UTF8.self) },
                       ["退款需要几天到账？\n一般3–7个工作日。", "How long is a refund?\n3-7 business days.\nOverseas purchases can take up to 15 business days."])
        XCTAssertEqual(units.map(\.headingPrefix), [["退款需要几天到账？"], ["How long is a refund?"]])
    }

    func testJSONAndJSONLStringFields() throws {
        let json = "[\n {\"q\": \"退款多久？\", \"n\": 3, \"tags\": [\"a\", \"b\"]},\n {\"q\": \"Shipping, \\\"fast\\\"]\"}\n]"
        let units = try JSONExtractor.units(Array(json.utf8), lines: false)
        XCTAssertEqual(units.map { String(decoding: $0.text, as: UTF8.self) }, ["q: 退款多久？\ntags[0]: a\ntags[1]: b", "q: Shipping, \"fast\"]"])
        let doc = try Extractor.extract(Array(json.utf8), type: .json, fileName: "f.json")
        XCTAssertEqual(DocumentChunker.chunks(of: doc, source: Array(json.utf8), options: .default).map(\.startLine), [2, 3])
        let jsonl = "{\"a\":\"one\"}\n\n{\"a\":\"two\"}\n"
        XCTAssertEqual(try JSONExtractor.units(Array(jsonl.utf8), lines: true).count, 2)
        XCTAssertThrowsError(try JSONExtractor.units(Array("{\"a\":\"one\"}\n{bad\n".utf8), lines: true)) { e in
            XCTAssertTrue((e as! ExtractionError).message.contains("line 2"))
        }
    }

    func testHTMLTextWithoutTagsScriptsOrStyles() throws {
        let html = "<html><head><title>Help &amp; FAQ</title><style>p{}</style></head><body><script>var x = '<p>';</script>"
            + "<h2>Refunds</h2><p>Refunds take <b>3</b>&nbsp;days.</p><!-- hidden --><ul><li>One</li><li>Two &#x4E2D;</li></ul></body></html>"
        let doc = try Extractor.extract(Array(html.utf8), type: .html, fileName: "h.html")
        XCTAssertEqual(doc.title, "Help & FAQ")
        let cs = DocumentChunker.chunks(of: doc, source: Array(html.utf8), options: .default)
        XCTAssertEqual(cs.map(\.headingPath), ["Refunds"])
        XCTAssertEqual(cs[0].text, "Refunds take 3 days.\n\n- One\n- Two 中")
        let span = String(String.UnicodeScalarView(Array(html.unicodeScalars)[cs[0].charStart..<cs[0].charEnd]))
        XCTAssertTrue(span.hasPrefix("Refunds take"), span)
        XCTAssertTrue(span.hasSuffix("&#x4E2D;"), span)
    }
}
