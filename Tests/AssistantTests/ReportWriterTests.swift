import XCTest
@testable import Assistant
import Prompts

/// A retriever answering from a closure, so a test decides exactly what each query finds.
struct ClosureRetriever: Retriever {
    let answer: @Sendable (String) -> [RetrievedPassage]
    func retrieve(_ query: String, groups: [String], k: Int) throws -> [RetrievedPassage] { Array(answer(query).prefix(k)) }
}

final class ReportWriterTests: XCTestCase {
    static let overview = Fixtures.passage(1, "Knowledge/research/semis.md", "Semiconductors › Overview",
        "Global semiconductor sales reach USD 945 billion in 2026, up 22% year on year. Semiconductor demand is led by AI accelerators and high-bandwidth memory. A downturn is the risk to watch.", lines: (10, 20))
    static let risks = Fixtures.passage(2, "Knowledge/research/semis.md", "Semiconductors › Risks",
        "The main semiconductor risk is oversupply of mature-node capacity in China. Export controls on semiconductor equipment are a second risk for wafer fabs.", lines: (40, 58))
    static let cards = Fixtures.passage(3, "Knowledge/faq/cards.md", "Cards › Fees", "The annual card fee is 100 CNY for the gold card.", lines: (3, 4))

    /// Overview queries find the overview (and the off-topic card FAQ); risk queries find both semis passages.
    static let retriever = ClosureRetriever { q in
        if q.contains("Dividend") { return [cards] }
        if q.contains("Risk") { return [risks, overview] }
        return [overview, cards]
    }

    func makeWriter(_ replies: [String], audit: (any AuditLog)? = nil) throws -> (ReportWriter, ScriptedGenerator) {
        let gen = ScriptedGenerator(replies)
        let pack = try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "research-report")
        return (try ReportWriter(pack: pack, retriever: Self.retriever, generator: gen, audit: audit), gen)
    }

    func options(_ titles: [String]) -> ReportOptions {
        var o = ReportOptions(); o.outline = titles.map { OutlineSection(title: $0) }; return o
    }

    /// Every [n] in `text`, in order.
    func cited(_ text: String) -> [Int] { TextAnalysis.citations(text) }

    func testOutlineFileParsing() throws {
        let o = try ReportOutline.parse("# my outline\n- Overview\n2. Risks\n\n3、展望\nOverview\n")
        XCTAssertEqual(o.map(\.title), ["Overview", "Risks", "展望"])
        XCTAssertThrowsError(try ReportOutline.parse("# only a comment\n\n", source: "o.txt")) { e in
            XCTAssertEqual(e.localizedDescription, "o.txt has no section titles — write one title per line")
        }
        XCTAssertThrowsError(try ReportOutline.parse(String(repeating: "x", count: 130)))
    }

    func testDefaultOutlineFollowsTheTopicKind() throws {
        let (w, _) = try makeWriter([])
        XCTAssertEqual(w.outlines.classify("Jiangnan Commercial Bank"), .company)
        XCTAssertEqual(w.outlines.classify("江南商业银行"), .company)
        XCTAssertEqual(w.outlines.classify("semiconductors"), .sector)
        XCTAssertEqual(w.outlines.classify("BYD vs Tesla"), .comparison)
        XCTAssertEqual(w.outlines.sections(for: .sector, language: "en").map(\.title),
                       ["Overview", "Business and financials", "Industry and competition", "Supply chain and localisation",
                        "Key companies", "Risks", "Outlook"])
        XCTAssertEqual(w.outlines.sections(for: .company, language: "zh").first?.title, "公司概况")
        let qs = ReportOutline.queries(topic: "semiconductors", section: OutlineSection(title: "Risks", hints: ["risk", "oversupply"]))
        XCTAssertTrue((2...4).contains(qs.count), "\(qs)")
        XCTAssertEqual(qs.first, "semiconductors Risks")
    }

    func testCitationsNumberedOnceAcrossSectionsAndReferencesResolve() throws {
        let (w, gen) = try makeWriter([
            "Global semiconductor sales reach USD 945 billion in 2026 [1].",
            "Export controls on semiconductor equipment are a second risk [1]. Semiconductor demand is led by AI accelerators [2].",
        ])
        // One quote per section, so section 1 does not already quote the sentence section 2's model writes.
        var o = options(["Overview", "Risks"]); o.evidenceSentences = 1
        let r = try w.write(topic: "semiconductor", options: o)
        XCTAssertEqual(gen.requests.count, 3, "two sections and the executive summary")
        XCTAssertTrue(r.complete)
        // The off-topic card FAQ never became evidence.
        XCTAssertFalse(r.sections.flatMap(\.evidenceChunkIDs).contains(3))
        XCTAssertEqual(r.references.map(\.number), Array(1...r.references.count))
        XCTAssertEqual(Set(r.references.map(\.chunkID)), [1, 2], "each chunk is listed once")
        let overviewN = r.references.first { $0.chunkID == 1 }!.number
        let risksN = r.references.first { $0.chunkID == 2 }!.number
        // Section 2's local [1] is the risks passage and its [2] the overview: both map to the report-wide numbers.
        XCTAssertTrue(r.sections[0].text.contains("USD 945 billion in 2026 [\(overviewN)]"), r.sections[0].text)
        XCTAssertTrue(r.sections[1].text.contains("second risk [\(risksN)]"), r.sections[1].text)
        XCTAssertTrue(r.sections[1].text.contains("AI accelerators [\(overviewN)]"), r.sections[1].text)
        let md = r.markdown
        for n in cited(md) { XCTAssertTrue((1...r.references.count).contains(n), "[\(n)] has no reference") }
        XCTAssertTrue(md.contains("[\(risksN)] Knowledge/research/semis.md › Semiconductors › Risks (lines 40–58)"), md)
        XCTAssertTrue(md.contains("## Executive summary"), md)
        XCTAssertEqual(r.quality.sectionsWritten, 2)
        XCTAssertEqual(r.quality.citedShare, 1)
        XCTAssertEqual(r.quality.distinctSources, 1)
    }

    func testSectionWithoutEvidenceSaysSoInOneLine() throws {
        let (w, gen) = try makeWriter(["Global semiconductor sales reach USD 945 billion in 2026 [1]."])
        let r = try w.write(topic: "semiconductor", options: options(["Overview", "Dividend policy"]))
        let sectionCalls = gen.requests.filter { !$0.messages[0].content.contains("executive summary") }
        XCTAssertEqual(sectionCalls.count, 1, "no model call for a section without evidence")
        XCTAssertTrue(r.sections[1].empty)
        XCTAssertEqual(r.sections[1].text, "The knowledge base holds no material on “Dividend policy” for this topic; the section is left out.")
        XCTAssertEqual(r.quality.sectionsEmpty, 1)
        XCTAssertEqual(r.quality.sectionsWritten, 1)
    }

    func testRepeatedSentencesAndLoopsRemoved() throws {
        let (w, _) = try makeWriter([
            "Global semiconductor sales reach USD 945 billion in 2026 [1]. Global semiconductor sales reach USD 945 billion in 2026 [1]. Semiconductor demand is led by AI accelerators and high-bandwidth memory.",
            "Global  semiconductor sales reach USD 945 billion in 2026! The main semiconductor risk is oversupply of mature-node capacity in China [1].",
        ])
        let r = try w.write(topic: "semiconductor", options: options(["Overview", "Risks"]))
        let md = r.markdown
        // Once in section 1 and once more in the summary, which quotes the sections on purpose.
        let body = r.sections.map(\.text).joined(separator: "\n")
        XCTAssertEqual(body.components(separatedBy: "945 billion").count - 1, 1, body)
        XCTAssertEqual(body.components(separatedBy: "oversupply of mature-node").count - 1, 1, body)
        XCTAssertGreaterThanOrEqual(r.quality.repeatedSentencesRemoved, 3)
        XCTAssertFalse(md.isEmpty)

        let loop = ReportText.cutLoop("Demand is strong and growing and growing and growing and growing forever")
        XCTAssertTrue(loop.cut)
        XCTAssertEqual(loop.text, "Demand is strong and growing")
        XCTAssertFalse(ReportText.cutLoop("Sales rose 22% in 2026 and 10% in 2027.").cut)
        XCTAssertEqual(ReportText.cutLoop("需求强劲需求强劲需求强劲需求强劲").text, "需求强劲")
    }

    /// Headings, lead-ins and the echoed prompt line are not prose; short real sentences are.
    func testFragmentsAreNotProse() {
        XCTAssertEqual(ReportText.dropUnfinished("规模约1.04万亿美元 [20]。估值回调：也可能出现类似2024"), "规模约1.04万亿美元 [20]。")
        XCTAssertEqual(ReportText.dropUnfinished("Sales rose 22%. [1][2] Margins fell to"), "Sales rose 22%. [1][2]")
        XCTAssertEqual(ReportText.dropUnfinished("no sentence end at all"), "")
        XCTAssertTrue(ReportText.isFragment("出口管制", echo: ""))
        XCTAssertTrue(ReportText.isFragment("半导体行业风险提示", echo: ""))
        XCTAssertTrue(ReportText.isFragment("| 指标 | 2024年 | 2025年 | 2026年1–10月 | 2026年预测 | 2027年预测 |", echo: ""))
        XCTAssertFalse(ReportText.isFragment("存储价格可能快速回落。", echo: ""))
        XCTAssertTrue(ReportText.isFragment("这一背景下，公司的竞争优势在于：", echo: ""))
        XCTAssertTrue(ReportText.isFragment("半导体行业 — 行业与竞争", echo: "半导体行业 — "))
        XCTAssertTrue(ReportText.isFragment("Risks", echo: ""))
        XCTAssertFalse(ReportText.isFragment("2026年全球半导体销售额预计9,450亿美元。", echo: "半导体行业 — "))
        XCTAssertFalse(ReportText.isFragment("Sales rose 22% in 2026.", echo: "semiconductors — "))
    }

    func testUnsupportedSentenceDroppedOrMarked() throws {
        let reply = "Global semiconductor sales reach USD 945 billion in 2026 [1]. The cafeteria serves pizza every Friday [1]. Sales reach USD 990 billion [1]."
        let (w, _) = try makeWriter([reply])
        let r = try w.write(topic: "semiconductor", options: options(["Overview"]))
        XCTAssertFalse(r.markdown.contains("pizza"))
        XCTAssertFalse(r.markdown.contains("990"))
        XCTAssertEqual(r.sections[0].unsupportedSentences, 2)
        XCTAssertEqual(r.quality.supportedShare, 1)

        let (w2, _) = try makeWriter([reply])
        var o = options(["Overview"]); o.markUnsupported = true
        let marked = try w2.write(topic: "semiconductor", options: o)
        XCTAssertTrue(marked.sections[0].text.contains("pizza every Friday [1] (not supported by the sources)"), marked.sections[0].text)
        XCTAssertLessThan(marked.quality.supportedShare, 1)
    }

    /// The model writes the summary from the sections' findings only; unsupported sentences are
    /// dropped, the kept ones carry the report-wide numbers of the passages behind the findings.
    func testExecutiveSummaryWrittenFromFindings() throws {
        let (w, gen) = try makeWriter([
            "Global semiconductor sales reach USD 945 billion in 2026 [1].",
            "The main semiconductor risk is oversupply of mature-node capacity in China [1].",
            "Semiconductor sales reach USD 945 billion in 2026. Oversupply of mature-node capacity in China is the main risk. The cafeteria serves pizza every Friday [1].",
        ])
        let r = try w.write(topic: "semiconductor", options: options(["Overview", "Risks"]))
        XCTAssertEqual(gen.requests.count, 3)
        let prompt = gen.requests[2].messages[0].content
        XCTAssertTrue(prompt.hasPrefix("You are a research analyst. You write the executive summary"), prompt)
        XCTAssertTrue(prompt.contains("(Overview) Global semiconductor sales reach USD 945 billion in 2026"), prompt)
        XCTAssertFalse(prompt.contains("Knowledge/"), "findings, not passages, are the summary's sources")
        XCTAssertEqual(r.quality.summaryModelSentences, 2)
        XCTAssertFalse(r.summary.contains("pizza"))
        let overviewN = r.references.first { $0.chunkID == 1 }!.number
        let risksN = r.references.first { $0.chunkID == 2 }!.number
        XCTAssertTrue(r.summary.contains("USD 945 billion in 2026 [\(overviewN)]."), r.summary)
        XCTAssertTrue(r.summary.contains("is the main risk [\(risksN)]."), r.summary)
        XCTAssertTrue(r.markdown.contains("## Executive summary\n\nSemiconductor sales"), r.markdown)
        for n in cited(r.markdown) { XCTAssertTrue((1...r.references.count).contains(n)) }

        // Nothing usable from the model: the best finding of each section, as bullets.
        let (w2, _) = try makeWriter(["Global semiconductor sales reach USD 945 billion in 2026 [1].",
                                      "The main semiconductor risk is oversupply of mature-node capacity in China [1].",
                                      "The cafeteria serves pizza every Friday."])
        let r2 = try w2.write(topic: "semiconductor", options: options(["Overview", "Risks"]))
        XCTAssertEqual(r2.quality.summaryModelSentences, 0)
        XCTAssertTrue(r2.summary.hasPrefix("- **Overview**: "), r2.summary)
    }

    /// A company report keeps to passages naming the company, not another "… Commercial Bank".
    func testCompanyReportKeepsToPassagesNamingTheCompany() throws {
        let p = { (id: Int64, bank: String, text: String) in
            Fixtures.passage(id, "Knowledge/research/\(id).md", "\(bank) > Overview", text)
        }
        let all = [p(41, "Jiangnan Commercial Bank", "Jiangnan Commercial Bank has RMB 1.86 trillion of assets."),
                   p(42, "Jiangnan Commercial Bank", "The bank's net interest margin was 1.58% in the first nine months."),
                   p(43, "Jiangnan Commercial Bank", "Its NPL ratio is 0.86% with provision coverage of 312%."),
                   p(44, "Harbor Commercial Bank", "Harbor Commercial Bank was founded in 1998 and serves commercial clients.")]
        let gen = ScriptedGenerator([])
        let pack = try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "research-report")
        let w = try ReportWriter(pack: pack, retriever: ClosureRetriever { _ in all }, generator: gen)
        var o = options(["Overview"]); o.modelSummary = false
        let r = try w.write(topic: "Jiangnan Commercial Bank", options: o)
        XCTAssertEqual(r.kind, .company)
        XCTAssertEqual(Set(r.sections[0].evidenceChunkIDs), [41, 42, 43])
        XCTAssertFalse(r.markdown.contains("1998"), r.markdown)
    }

    /// A model whose window holds one source: the section is written from the best passage.
    func testPassagesDroppedUntilThePromptFits() throws {
        final class SmallWindow: TextGenerator, @unchecked Sendable {
            let modelID = "small-window"
            var attempts = 0
            func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
                attempts += 1
                if request.messages.map(\.content).joined().contains("\n[2] ") { throw GenerationError.contextExceeded(needed: 5000, context: 4096) }
                let text = "The main semiconductor risk is oversupply of mature-node capacity in China [1]."
                return GenerationResult(text: text, promptTokens: 100, generatedTokens: 20, promptSeconds: 0, generationSeconds: 0, stopReason: .endOfSequence)
            }
        }
        let gen = SmallWindow()
        let pack = try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "research-report")
        let w = try ReportWriter(pack: pack, retriever: Self.retriever, generator: gen)
        var o = options(["Risks"]); o.modelSummary = false
        let r = try w.write(topic: "semiconductor", options: o)
        XCTAssertEqual(gen.attempts, 2)
        XCTAssertEqual(r.sections[0].evidenceChunkIDs, [2, 1], "quotes may still come from the passage the prompt lost")
        XCTAssertTrue(r.sections[0].text.contains("oversupply of mature-node capacity in China [1]"), r.sections[0].text)
    }

    func testCancelKeepsFinishedSectionsMarkedIncomplete() throws {
        let (w, gen) = try makeWriter(["Global semiconductor sales reach USD 945 billion in 2026 [1].",
                                       "Export controls on semiconductor equipment are a second risk for wafer fabs [1]."])
        var finished = 0
        let r = try w.write(topic: "semiconductor", options: options(["Overview", "Risks", "Outlook"]), progress: { e in
            if case .sectionFinished = e { finished += 1 }
        }, shouldContinue: { finished < 1 })
        XCTAssertFalse(r.complete)
        XCTAssertEqual(r.sections.map(\.title), ["Overview"])
        XCTAssertEqual(r.unwritten, ["Risks", "Outlook"])
        XCTAssertEqual(gen.requests.count, 1)
        XCTAssertTrue(r.markdown.contains("> **Incomplete**: generation was interrupted"), r.markdown)
        for n in cited(r.markdown) { XCTAssertTrue((1...r.references.count).contains(n)) }

        // Cancelled while the model writes: the half-written section is not kept.
        let (w2, _) = try makeWriter(["Global semiconductor sales reach USD 945 billion in 2026 [1]."])
        var pieces = 0
        let r2 = try w2.write(topic: "semiconductor", options: options(["Overview"]), shouldContinue: { pieces += 1; return pieces < 3 })
        XCTAssertFalse(r2.complete)
        XCTAssertTrue(r2.sections.isEmpty)
        XCTAssertEqual(r2.unwritten, ["Overview"])
    }

    func testChineseReportAndAudit() throws {
        let zh = Fixtures.passage(7, "Knowledge/research/半导体.md", "半导体 › 展望",
            "我们预计2027年全球半导体销售额达到10400亿美元，同比增长10%。半导体设备国产化率将从27%继续提升。", lines: (5, 9))
        let gen = ScriptedGenerator(["我们预计2027年全球半导体销售额达到10400亿美元。"])
        let audit = InMemoryAuditLog()
        let pack = try PackLibrary(searchPaths: [PackLibrary.shippedPacks]).pack(named: "research-report")
        let w = try ReportWriter(pack: pack, retriever: ClosureRetriever { q in q.contains("风险") ? [] : [zh] }, generator: gen, audit: audit)
        var o = ReportOptions(); o.maxSections = 2
        let r = try w.write(topic: "半导体", options: o)
        XCTAssertEqual(r.language, "zh")
        XCTAssertEqual(r.sections.map(\.title), ["行业概况", "业务与财务"])
        XCTAssertTrue(gen.requests[0].messages[0].content.hasPrefix("你是研究分析师"))
        XCTAssertTrue(r.sections[0].text.contains("10400亿美元 [1]"), r.sections[0].text)
        XCTAssertTrue(r.markdown.contains("## 参考资料\n\n[1] Knowledge/research/半导体.md › 半导体 › 展望 (lines 5–9)"), r.markdown)
        let entries = try audit.recent(5)
        XCTAssertEqual(entries.count, 1)
        XCTAssertEqual(entries[0].question, "report: 半导体")
        XCTAssertEqual(entries[0].citedChunkIDs, [7])
        XCTAssertEqual(entries[0].pack, "research-report")
        XCTAssertGreaterThan(r.quality.hanCharacters, 20)
    }
}
