import XCTest
@testable import LLM

/// `generate` keeps the keys and values of its last prompt and reply, so a prompt that starts the
/// same way (a pack's system prompt, a chat's earlier turns) evaluates only what differs. The
/// reused path must answer as a fresh evaluation does, and must never reuse keys and values
/// computed under other adapters or after someone else rewrote the state.
///
/// "As a fresh evaluation does" is the engine's batch-consistency bound, not bit equality: the
/// new tokens go through the matmul path for their own batch size, and SmolLM2 turns that
/// rounding into up to ~1 logit: twice this host's rounding floor, as in BatchConsistencyTests. Its reply to the cash-refund question
/// below starts with "1" or "When", 0.29 apart, so the test compares logits, not tokens.
final class PromptPrefixReuseTests: XCTestCase {
    static let system = """
    You answer questions using only the numbered sources in the message.
    Rules:
    1. Use only facts written in the sources. Never add outside knowledge.
    2. End every sentence with the number of its source, like this: [1].
    """

    func chat(_ e: Engine, _ turns: [String]) throws -> [Int32] {
        try e.chatTokens([ChatMessage(.system, Self.system)] + turns.enumerated().map { ChatMessage($0.offset % 2 == 0 ? .user : .assistant, $0.element) })
    }

    func greedy(_ e: Engine, _ prompt: [Int32], _ n: Int = 12) throws -> TokenGeneration {
        try generate(e, prompt, n).0
    }

    /// The generation and the logits its first token was picked from.
    func generate(_ e: Engine, _ prompt: [Int32], _ n: Int = 12) throws -> (TokenGeneration, [Float]) {
        var first: [Float] = []
        let g = try e.generate(prompt: prompt, maxTokens: n, stopTokens: [], next: { l, _ in
            if first.isEmpty { first = Array(l) }
            return Engine.argmax(l)
        }, onToken: { _ in true })
        return (g, first)
    }

    func assertClose(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, file: file, line: line)
        let d = LogitDistance(a, b, vocabulary: a.count)
        let floor = try! RoundingFloor.of(Reference.smol)
        XCTAssertLessThan(d.maxAbs, 2 * floor.maxAbs, "reused vs fresh: \(d), floor \(floor)", file: file, line: line)
        let aTop = a.indices.sorted { a[$0] > a[$1] }.prefix(5), bTop = b.indices.sorted { b[$0] > b[$1] }.prefix(5)
        XCTAssertGreaterThanOrEqual(Set(aTop).intersection(bTop).count, 4, "the same candidates lead", file: file, line: line)
    }

    func testASharedPrefixIsEvaluatedOnceAndAnswersAsAFreshPrompt() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 512, threads: 2)
        let fresh = try Engine(path: Reference.smol, context: 512, threads: 2)
        fresh.reusesPromptPrefix = false
        let p1 = try chat(e, ["How long do card refunds take?"]), p2 = try chat(e, ["When are cash refunds paid?"])
        let common = zip(p1, p2).prefix { $0 == $1 }.count
        XCTAssertGreaterThan(common, 40, "the system prompt is shared")

        XCTAssertEqual(try greedy(e, p1).reusedPromptTokens, 0)
        let (second, secondLogits) = try generate(e, p2)
        XCTAssertEqual(second.reusedPromptTokens, common)
        let (reference, referenceLogits) = try generate(fresh, p2)
        XCTAssertEqual(reference.reusedPromptTokens, 0)
        assertClose(secondLogits, referenceLogits)

        // The next chat turn starts with the whole previous prompt: only the new turn is evaluated.
        let reply = e.tokenizer.decode(second.tokens)
        let p3 = try chat(e, ["When are cash refunds paid?", reply, "And card refunds?"])
        let (third, thirdLogits) = try generate(e, p3)
        XCTAssertGreaterThanOrEqual(third.reusedPromptTokens, p2.count)
        assertClose(thirdLogits, try generate(fresh, p3).1)

        // The same prompt again: everything but its last token.
        XCTAssertEqual(try greedy(e, p3).reusedPromptTokens, p3.count - 1)
    }

    func testNothingIsReusedAfterTheStateWasRewrittenOrUnderOtherAdapters() throws {
        try Reference.require(Reference.smol)
        let e = try Engine(path: Reference.smol, context: 512, threads: 2)
        let p = try chat(e, ["How long do card refunds take?"])
        _ = try greedy(e, p)
        _ = try e.logits(for: Array(p.prefix(10)))   // rewrites the state through sequence()
        XCTAssertEqual(try greedy(e, p).reusedPromptTokens, 0)

        let tmp = try TempDir()
        try TestLoRA.random(layers: [0, 3], modules: ["q_proj", "v_proj"]).writeGGUF(tmp.path("a.gguf"))
        let set = try AdapterSet(model: e.model, adapters: [(try LoRAAdapter.load(path: tmp.path("a.gguf")), 1)])
        let adapted = try e.withAdapters(set) { try greedy(e, p) }
        XCTAssertEqual(adapted.reusedPromptTokens, 0, "keys and values of the bare model do not hold under an adapter")
        XCTAssertEqual(try e.withAdapters(set) { try greedy(e, p) }.reusedPromptTokens, p.count - 1)
        XCTAssertEqual(try greedy(e, p).reusedPromptTokens, 0, "nor the adapter's for the bare model")
    }
}

