import Foundation
import Tensor
import XCTest
@testable import Assistant
import Knowledge
import Prompts

/// A deterministic stand-in for the sentence encoder: hashed word and character n-grams.
struct HashedEmbedder: TextEmbedder {
    var modelID: String { "hashed-test" }
    var dimension: Int { 512 }
    func embed(_ texts: [String]) throws -> [[Float]] {
        texts.map { t in
            var v = [Float](repeating: 0, count: dimension)
            for (g, c) in TextFeatures.grams(t) {
                var h: UInt64 = 0xcbf2_9ce4_8422_2325
                for b in g.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
                v[Int(h % UInt64(dimension))] += Float(c)
            }
            return v
        }
    }
}

/// Replies with a fixed text and records the prompt it was given.
final class ScriptedReplyGenerator: TextGenerator, @unchecked Sendable {
    let reply: String
    var prompts: [String] = []
    init(_ reply: String) { self.reply = reply }
    var modelID: String { "scripted" }
    func generate(_ request: GenerationRequest, onPiece: (String) -> Bool) throws -> GenerationResult {
        prompts.append(request.messages.map(\.content).joined(separator: "\n"))
        _ = onPiece(reply)
        return GenerationResult(text: reply, promptTokens: 0, generatedTokens: 0, promptSeconds: 0, generationSeconds: 0, stopReason: .endOfSequence)
    }
}

final class ServiceAssistantTests: XCTestCase {
    static let root: URL = {
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { u.deleteLastPathComponent() }
        return u
    }()
    /// The bundled business tables in a temporary database, made once for every test class.
    static let dbPath: String = {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("strata-service-\(UUID().uuidString).db").path
        let db = try! Database(path: path)
        for t in ["products", "card_fees", "branches", "fee_schedule", "cases"] {
            try! BusinessTables.importCSV(db, file: root.appendingPathComponent("Knowledge/business/\(t).csv").path)
        }
        return path
    }()

    static func makeAssistant(_ generator: (any TextGenerator)? = nil, knowledge: KnowledgeQA? = nil,
                              audit: (any AuditLog)? = nil, minSimilarity: Double? = nil) throws -> ServiceAssistant {
        var pack = try ServicePack(pack: try PromptPack.load(from: root.appendingPathComponent("Prompts/customer-service")))
        if let m = minSimilarity { pack.catalog.minSimilarity = m }
        return try ServiceAssistant(pack: pack, embedder: HashedEmbedder(), generator: generator, databasePath: dbPath,
                                    today: "2026-11-23", knowledge: knowledge, audit: audit)
    }

    func assistant(_ generator: (any TextGenerator)? = nil, knowledge: KnowledgeQA? = nil,
                   audit: (any AuditLog)? = nil) throws -> ServiceAssistant {
        try Self.makeAssistant(generator, knowledge: knowledge, audit: audit)
    }

    /// The knowledge base an `answer` intent sees: the refund policy, and a research note that
    /// also talks about refunds and must never be used for a customer's refund question.
    static let refundPolicy = Fixtures.passage(41, "Knowledge/policies/refunds.en.md", "Refund Policy › Merchant refunds to cards",
        "A domestic UnionPay refund reaches your account 3–7 business days after the merchant issues it. Overseas refunds take up to 15 business days.", lines: (5, 14))
    static let researchNote = Fixtures.passage(42, "Knowledge/research/retail-note.en.md", "Retail › Refund trends",
        "Retail refund volumes rose 12% and refunds now take 2 business days at most merchants.", lines: (3, 6))
    static let accountOpening = Fixtures.passage(43, "Knowledge/policies/account-opening.zh.md", "个人账户开立政策 › 需要哪些材料？",
        "中国居民开户需要本人有效居民身份证和本人实名手机号。", lines: (13, 18))

    func knowledge(_ generator: any TextGenerator) throws -> KnowledgeQA {
        let retriever = ClosureRetriever { q in
            // The research note ranks first for refund questions: the scope must skip it.
            q.contains("开户") ? [Self.accountOpening] : [Self.researchNote, Self.refundPolicy]
        }
        return KnowledgeQA(pack: try Fixtures.pack, retriever: retriever, generator: generator)
    }

    func testAnswerIntentAnswersFromItsDocumentsOnlyWithSources() throws {
        let g = ScriptedGenerator(["A domestic UnionPay refund reaches your account 3–7 business days after the merchant issues it [1]."])
        let a = try assistant(knowledge: try knowledge(g)).answer("How long does a refund take to reach my card?")
        XCTAssertEqual(a.intent, "refund_policy")
        XCTAssertEqual(a.path, .knowledge)
        XCTAssertEqual(a.knowledge?.passages.map(\.chunkID), [41], "the research note is outside the intent's documents")
        XCTAssertEqual(a.knowledge?.citations.map(\.path), ["Knowledge/policies/refunds.en.md"])
        XCTAssertTrue(a.reply.contains("3–7 business days"), a.reply)
        XCTAssertFalse(g.lastPrompt.contains("Retail refund volumes"), "the out-of-scope document reached the prompt")
        XCTAssertNil(a.lookup)
    }

    func testAnswerIntentInChineseCitesTheChinesePolicy() throws {
        let g = ScriptedGenerator(["中国居民开户需要本人有效居民身份证和本人实名手机号[1]。"])
        let a = try assistant(knowledge: try knowledge(g)).answer("开户需要带什么证件？")
        XCTAssertEqual(a.intent, "account_opening")
        XCTAssertEqual(a.path, .knowledge)
        XCTAssertEqual(a.knowledge?.citations.first?.chunkID, 43)
        XCTAssertTrue(a.reply.contains("居民身份证"), a.reply)
    }

    func testAnswerIntentWithoutEvidenceRefusesAndOffersAColleague() throws {
        // Only the research note mentions refunds: outside the scope, so no evidence at all.
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: ClosureRetriever { _ in [Self.researchNote] },
                             generator: ScriptedGenerator(["Refunds take 2 business days [1]."]))
        let a = try assistant(knowledge: qa).answer("How long does a refund take to reach my card?")
        XCTAssertEqual(a.intent, "refund_policy")
        XCTAssertEqual(a.path, .knowledgeRefused)
        XCTAssertEqual(a.reply, try ServicePack(pack: try PromptPack.load(from: Self.root.appendingPathComponent("Prompts/customer-service"))).pack.refusal(language: "en"))
        XCTAssertFalse(a.reply.contains("2 business days"))
        // No knowledge pipeline wired: the same refusal, never a guess.
        XCTAssertEqual(try assistant().answer("How long does a refund take to reach my card?").path, .knowledgeRefused)
    }

    func testClarifyIntentAsksWhatTheCustomerMeans() throws {
        let a = try assistant()
        let zh = try a.answer("你好，我想咨询一下")
        XCTAssertEqual(zh.intent, "general_help")
        XCTAssertEqual(zh.path, .clarify)
        XCTAssertTrue(zh.reply.contains("哪方面"), zh.reply)
        let en = try a.answer("Hello, I have a question")
        XCTAssertEqual(en.path, .clarify)
        XCTAssertTrue(en.reply.contains("What would you like to know"), en.reply)
    }

    func testEveryTurnIsAuditedWithItsDecision() throws {
        let log = InMemoryAuditLog()
        let a = try assistant(audit: log)
        _ = try a.answer("What is the annual fee of the gold card?")
        _ = try a.answer("Can you recommend a good pizza recipe with basil?")
        let entries = try log.recent(10)
        XCTAssertEqual(entries.count, 2)
        XCTAssertEqual(entries[0].pack, "customer-service")
        XCTAssertFalse(entries[0].refused)
        let detail = try JSONSerialization.jsonObject(with: Data(entries[0].detail!.utf8)) as! [String: Any]
        XCTAssertEqual(detail["intent"] as? String, "card_annual_fee")
        XCTAssertEqual(detail["lookup"] as? String, "card_annual_fee")
        XCTAssertEqual(detail["path"] as? String, "template")
        XCTAssertEqual((detail["slots"] as? [String: String])?["card"], "CC-GOLD")
        XCTAssertTrue(entries[1].refused)
        XCTAssertEqual(entries[1].refusalReason, "out-of-scope")
    }

    func testDocumentScopeMatchesPathFragments() {
        XCTAssertTrue(DocumentScopedRetriever.allows("Knowledge/policies/refunds.zh.md", ["policies/refunds"]))
        XCTAssertTrue(DocumentScopedRetriever.allows("policies/refunds.en.md", ["policies/refunds"]))
        XCTAssertFalse(DocumentScopedRetriever.allows("Knowledge/research/refunds.md", ["policies/refunds"]))
        XCTAssertFalse(DocumentScopedRetriever.allows("Knowledge/policies/refunds.md", []))
    }

    func testIntentSlotsAndRowsForAnEnglishAndAChineseQuestion() throws {
        let a = try assistant()
        let en = try a.answer("What is the annual fee of the gold card?")
        XCTAssertEqual(en.intent, "card_annual_fee")
        XCTAssertEqual(en.slots["card"]?.value, "CC-GOLD")
        XCTAssertEqual(en.rows.first?[2], "300")
        XCTAssertEqual(en.path, .template)
        XCTAssertTrue(en.reply.contains("300") && en.reply.contains("Harbor Gold Credit Card"), en.reply)
        let zh = try a.answer("三年定期利率是多少")
        XCTAssertEqual(zh.intent, "product_rate")
        XCTAssertEqual(zh.slots["product"]?.value, "DEP-3Y")
        XCTAssertEqual(zh.language, "zh")
        XCTAssertTrue(zh.reply.contains("1.55"), zh.reply)
    }

    func testModelReplyIsKeptWhenItsFactsAreInTheRows() throws {
        let g = ScriptedReplyGenerator("The Harbor Gold Credit Card costs RMB 300 a year, and the first year is free.")
        let a = try assistant(g).answer("What is the annual fee of the gold card?")
        XCTAssertEqual(a.path, .model)
        XCTAssertEqual(a.reply, g.reply)
        // The rows reach the model in the customer's language only, values as the reply shows them.
        XCTAssertTrue(g.prompts[0].contains("card_name_en | annual_fee | waiver_rule_en\nHarbor Gold Credit Card | RMB 300 |"), g.prompts[0])
    }

    func testInventedNumberFallsBackToTheTemplate() throws {
        let g = ScriptedReplyGenerator("The Harbor Gold Credit Card costs only RMB 150 a year!")
        let a = try assistant(g).answer("What is the annual fee of the gold card?")
        XCTAssertEqual(a.path, .template)
        XCTAssertEqual(a.factCheck?.unsupported, ["150", "missing annual_fee"])
        XCTAssertTrue(a.reply.contains("300"), a.reply)
        // A product the rows do not mention is invented too.
        let b = try assistant(ScriptedReplyGenerator("Try the Harbor Platinum Credit Card instead, it costs 300.")).answer("annual fee of the gold card?")
        XCTAssertEqual(b.path, .template)
        XCTAssertEqual(b.factCheck?.unsupported, ["Harbor Platinum Credit Card"])
    }

    func testARealButWrongNumberOrARecitedRecordFallsBackToTheTemplate() throws {
        // 12 is in the rows (12 purchases), but the fee is 300: the reply must state the fee.
        let a = try assistant(ScriptedReplyGenerator("The annual fee of the gold card is 12.")).answer("What is the annual fee of the gold card?")
        XCTAssertEqual(a.path, .template)
        XCTAssertEqual(a.factCheck?.unsupported, ["missing annual_fee"])
        let b = try assistant(ScriptedReplyGenerator("card_name_en | annual_fee\nHarbor Gold Credit Card | 300")).answer("What is the annual fee of the gold card?")
        XCTAssertEqual(b.path, .template)
    }

    func testMissingRequiredSlotAsksAClarifyingQuestion() throws {
        let a = try assistant().answer("What is the status of my case?")
        XCTAssertEqual(a.intent, "case_status")
        XCTAssertEqual(a.path, .clarify)
        XCTAssertEqual(a.missingSlot, "customer_ref")
        XCTAssertNil(a.lookup)
    }

    func testOutOfScopeNeverGuessesAndHandoffIntentsHandOff() throws {
        let a = try assistant()
        let o = try a.answer("Can you recommend a good pizza recipe with basil?")
        XCTAssertNil(o.intent)
        XCTAssertEqual(o.path, .outOfScope)
        XCTAssertNil(o.lookup)
        let h = try a.answer("我的卡丢了")
        XCTAssertEqual(h.intent, "lost_card")
        XCTAssertEqual(h.path, .handoff)
        XCTAssertEqual(h.handoffReason, "lost_card")
    }

    func testFollowUpKeepsTheIntentAndChangesTheSlot() throws {
        let a = try assistant()
        var s = ServiceSession()
        _ = try a.answer("金卡的年费是多少？", session: &s)
        let f = try a.answer("那储蓄卡呢？", session: &s)
        XCTAssertEqual(f.intent, "card_annual_fee")
        XCTAssertTrue(f.followUp)
        XCTAssertEqual(f.slots["card"]?.value, "DC-STD")
        XCTAssertEqual(f.rows.first?[2], "0")
    }

    func testHostileSlotValueMatchesNothingAndDropsNothing() throws {
        let a = try assistant()
        let hostile = SlotValue(value: "x'; DROP TABLE products; --", matched: "", how: "pattern")
        XCTAssertEqual(try a.lookup("case_status", slots: ["customer_ref": hostile]).rows.count, 0)
        XCTAssertEqual(try a.lookup("product_rate", slots: ["product": hostile]).rows.count, 0)
        // The pattern of a reference never lets the rest of such a message into the slot.
        let r = try a.answer("What is the status of my case HB-2026-99999'; DROP TABLE products; --")
        XCTAssertEqual(r.slots["customer_ref"]?.value, "HB-2026-99999")
        let db = try Database(path: Self.dbPath, mode: .readOnly)
        let rows = try CSVParser.parse(file: Self.root.appendingPathComponent("Knowledge/business/products.csv").path).records.count
        XCTAssertEqual(try db.query("SELECT count(*) FROM biz_products") { Int($0.int(0)) }, [rows])   // stored in the business namespace
    }

    func testTyposInNamesAreMatched() throws {
        let a = try assistant().answer("opening hours of the Xujiahu branch")
        XCTAssertEqual(a.slots["branch"]?.value, "SH-003")
        XCTAssertEqual(a.slots["branch"]?.how, "fuzzy")
    }
}

final class IntentClassifierTests: XCTestCase {
    func testSeparatesTwoClustersAndReportsMargin() throws {
        var rng = SplitMix64(seed: 3)
        var ex: [LabelledVector] = []
        for i in 0..<40 {
            let l = i % 2
            var v = (0..<8).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
            v[l] += 1
            ex.append(LabelledVector(vector: v, label: l))
        }
        let c = try IntentClassifier(examples: ex, labelCount: 2)
        let p = c.classify([0.05, 1, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(p.best, 1)
        XCTAssertGreaterThan(p.margin, 0.5)
        XCTAssertEqual(c.classify([1, 0.02, 0, 0, 0, 0, 0, 0]).best, 0)
        XCTAssertThrowsError(try IntentClassifier(examples: [], labelCount: 2))
        XCTAssertThrowsError(try IntentClassifier(examples: [LabelledVector(vector: [1], label: 5)], labelCount: 2))
    }
}
