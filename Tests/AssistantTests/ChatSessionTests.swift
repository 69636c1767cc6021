import XCTest
@testable import Assistant
import Prompts

final class ChatSessionTests: XCTestCase {
    func testStandaloneQueries() {
        XCTAssertEqual(ChatSession.standaloneQuery("and for cash?", previous: "How long do card refunds take?"),
                       "and for cash? card refunds")
        XCTAssertEqual(ChatSession.standaloneQuery("How are salaries reviewed in March?", previous: "card refunds"),
                       "How are salaries reviewed in March?")
        XCTAssertEqual(ChatSession.standaloneQuery("那现金呢？", previous: "信用卡退款需要多久？"), "那现金呢？ 信用卡退款需要多久")
        XCTAssertEqual(ChatSession.standaloneQuery("and for cash?", previous: nil), "and for cash?")
    }

    func testTwoTurnConversationWithFollowUp() throws {
        let gen = ScriptedGenerator(["Card refunds are returned to the original card within 5 working days [1].",
                                     "Cash refunds are paid at the counter on the same day [1]."])
        let retriever = Fixtures.retriever
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: retriever, generator: gen)
        let chat = ChatSession(qa: qa, library: PackLibrary(searchPaths: [PackLibrary.shippedPacks]), groups: [])
        guard case .answer(let first) = try chat.handle("How long do card refunds take?") else { return XCTFail() }
        XCTAssertFalse(first.refused)
        guard case .answer(let second) = try chat.handle("and for cash?") else { return XCTFail() }
        XCTAssertFalse(second.refused, second.explanation)
        XCTAssertEqual(retriever.log.queries.last, "and for cash? card refunds")
        XCTAssertEqual(second.citations.map(\.chunkID), [12])
        // The model sees the previous turn before the new question.
        let msgs = gen.requests[1].messages
        XCTAssertEqual(msgs.map(\.role), [.system, .user, .assistant, .user])
        XCTAssertEqual(msgs[1].content, "How long do card refunds take?")
        guard case .info(let sources) = try chat.handle("/sources") else { return XCTFail() }
        // The scripted model cited [1] (card refunds) for a cash-refund sentence: re-attributed to [2].
        XCTAssertEqual(sources, "[2] Knowledge/policies/refunds.md › Refunds › Cash refunds (lines 31–40)")
        XCTAssertEqual(second.text, "Cash refunds are paid at the counter on the same day. [2]")
        guard case .info = try chat.handle("/reset") else { return XCTFail() }
        XCTAssertTrue(chat.turns.isEmpty)
    }

    func testSlashCommands() throws {
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: Fixtures.retriever, generator: ScriptedGenerator([]))
        let chat = ChatSession(qa: qa, library: PackLibrary(searchPaths: [PackLibrary.shippedPacks]), groups: ["hr"])
        guard case .info(let g) = try chat.handle("/groups") else { return XCTFail() }
        XCTAssertEqual(g, "asking as: hr")
        guard case .info = try chat.handle("/pack customer-service") else { return XCTFail() }
        XCTAssertEqual(chat.qa.pack.name, "customer-service")
        XCTAssertThrowsError(try chat.handle("/pack nope"))
        guard case .info = try chat.handle("/adapter finance") else { return XCTFail() }
        XCTAssertEqual(chat.adapter, "finance")
        guard case .info(let u) = try chat.handle("/frob") else { return XCTFail() }
        XCTAssertTrue(u.contains("/help"))
        guard case .quit = try chat.handle("/quit") else { return XCTFail() }
    }

    func testAdapterReachesTheGenerator() throws {
        let gen = ScriptedGenerator(["x"])
        let qa = KnowledgeQA(pack: try Fixtures.pack, retriever: Fixtures.retriever, generator: gen)
        let chat = ChatSession(qa: qa, library: PackLibrary(searchPaths: [PackLibrary.shippedPacks]), groups: [])
        _ = try chat.handle("/adapter finance")
        _ = try chat.handle("How long do card refunds take?")
        XCTAssertEqual(gen.requests[0].adapters.map(\.name), ["finance"])
    }
}
