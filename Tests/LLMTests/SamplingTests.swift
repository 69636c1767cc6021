import Foundation
import XCTest
@testable import LLM

/// Each sampler on a hand-computed four-token distribution (llama.cpp tests/test-sampling.cpp style).
///
/// logits [1, 2, 3, 4] -> softmax p = [0.032059, 0.087144, 0.236883, 0.643914].
final class SamplingTests: XCTestCase {
    let logits: [Float] = [1, 2, 3, 4]
    let probs: [Float] = [0.032059, 0.087144, 0.236883, 0.643914]

    func run(_ sampler: some Sampler, _ logits: [Float]) -> TokenCandidates {
        var s = sampler
        var c = TokenCandidates()
        c.reset(logits: logits)
        s.apply(&c)
        return c
    }

    func ids(_ c: TokenCandidates) -> [Int32] { c.live.map(\.id) }

    func testSoftmax() {
        var c = TokenCandidates()
        c.reset(logits: logits)
        c.softmax()
        for (a, b) in zip(c.live.map(\.p), probs) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testGreedyTakesTheFirstMaximum() {
        XCTAssertEqual(run(GreedySampler(), logits).selectedID, 3)
        XCTAssertEqual(run(GreedySampler(), [1, 4, 4, 2]).selectedID, 1, "ties go to the first, as in llama.cpp")
        XCTAssertEqual(run(GreedySampler(), [-.infinity, -1, -1]).selectedID, 1)
    }

    func testTopK() throws {
        XCTAssertEqual(ids(run(try TopKSampler(2), logits)), [3, 2])
        XCTAssertEqual(ids(run(try TopKSampler(1), [5, 9, 9, 1])), [1], "tie broken by lower id")
        XCTAssertEqual(ids(run(try TopKSampler(0), logits)), [0, 1, 2, 3], "0 is off")
        XCTAssertEqual(ids(run(try TopKSampler(10), logits)), [0, 1, 2, 3])
    }

    func testTopP() throws {
        // cumulative 0.6439, 0.8808, 0.9679, 1
        XCTAssertEqual(ids(run(try TopPSampler(0.6), logits)), [3])
        XCTAssertEqual(ids(run(try TopPSampler(0.7), logits)), [3, 2])
        XCTAssertEqual(ids(run(try TopPSampler(0.9), logits)), [3, 2, 1])
        XCTAssertEqual(ids(run(try TopPSampler(1), logits)), [0, 1, 2, 3], "1 is off")
    }

    func testMinP() throws {
        // threshold 0.2 * 0.6439 = 0.1288 keeps p 0.2369 and 0.6439
        XCTAssertEqual(ids(run(try MinPSampler(0.2), logits)), [2, 3])
        // threshold 0.05 * 0.6439 = 0.03220 just drops p 0.03206
        XCTAssertEqual(ids(run(try MinPSampler(0.05), logits)), [1, 2, 3])
        XCTAssertEqual(ids(run(try MinPSampler(0), logits)), [0, 1, 2, 3])
    }

    func testTemperature() throws {
        var c = run(try TemperatureSampler(2), logits)
        XCTAssertEqual(c.live.map(\.logit), [0.5, 1, 1.5, 2])
        c.softmax()
        XCTAssertEqual(c.live.last!.p, 0.45505, accuracy: 1e-4)  // 1 / (1 + e^-0.5 + e^-1 + e^-1.5)
        XCTAssertEqual(ids(run(try TemperatureSampler(0), logits)), [3], "0 keeps only the best")
    }

    func testPenalties() throws {
        var p = try PenaltySampler(lastN: 64, repeat: 2, frequency: 0.5, presence: 0.25)
        for t: Int32 in [3, 3, 1] { p.accept(t) }
        // id 3 (twice): 4 / 2 - 2 * 0.5 - 0.25 = 0.75; id 1 (once, negative): -2 * 2 - 0.5 - 0.25 = -4.75
        XCTAssertEqual(run(p, [1, -2, 3, 4]).live.map(\.logit), [1, -4.75, 3, 0.75])
        // Only the last 2 tokens count: [3, 1] -> id 3 once: 4 / 2 - 0.5 - 0.25 = 1.25
        var q = try PenaltySampler(lastN: 2, repeat: 2, frequency: 0.5, presence: 0.25)
        for t: Int32 in [3, 3, 1] { q.accept(t) }
        XCTAssertEqual(run(q, [1, -2, 3, 4]).live.map(\.logit), [1, -4.75, 3, 1.25])
        q.reset()
        XCTAssertEqual(run(q, [1, -2, 3, 4]).live.map(\.logit), [1, -2, 3, 4])
    }

    func testSeededDrawsAreReproducibleAndFollowTheDistribution() throws {
        var a = SamplerChain([DistributionSampler(seed: 42)], vocabularySize: 4)
        var b = SamplerChain([DistributionSampler(seed: 42)], vocabularySize: 4)
        var c = SamplerChain([DistributionSampler(seed: 7)], vocabularySize: 4)
        var counts = [Int](repeating: 0, count: 4)
        var differs = false
        let n = 20_000
        for _ in 0..<n {
            let x = a.sample(logits)
            XCTAssertEqual(x, b.sample(logits))
            if c.sample(logits) != x { differs = true }
            counts[Int(x)] += 1
        }
        XCTAssertTrue(differs)
        for i in 0..<4 { XCTAssertEqual(Float(counts[i]) / Float(n), probs[i], accuracy: 0.015) }
        // The generator itself is fixed: these values must never change between runs or platforms.
        var rng = Xoshiro256(seed: 0)
        let first = (0..<3).map { _ in rng.next() }
        var again = Xoshiro256(seed: 0)
        XCTAssertEqual(first, (0..<3).map { _ in again.next() })
        XCTAssertEqual(Set(first).count, 3)
    }

    func testChainOrderAndGreedyParameters() throws {
        var greedy = try SamplingParameters.greedy.makeChain(vocabularySize: 4)
        XCTAssertEqual(greedy.sample(logits), 3)
        var params = SamplingParameters()
        params.topK = 2; params.topP = 1; params.minP = 0; params.temperature = 1; params.seed = 1
        var chain = try params.makeChain(vocabularySize: 4)
        XCTAssertEqual(chain.description, "penalties(last 64, repeat 1.0, freq 0.0, present 0.0) -> top-k(2) -> top-p(1.0) -> min-p(0.0) -> temp(1.0) -> dist(seed 1)")
        for _ in 0..<200 { XCTAssertTrue([2, 3].contains(chain.sample(logits)), "top-k 2 allows only ids 2 and 3") }
        // A strong repeat penalty steers greedy decoding away from the token it just produced.
        var p = SamplingParameters.greedy
        p.repeatPenalty = 100
        var penalised = try p.makeChain(vocabularySize: 4)
        XCTAssertEqual(penalised.sample(logits), 3)
        XCTAssertEqual(penalised.sample(logits), 2)
    }

    func testInvalidSettingsAreRefused() {
        func refused(_ f: (inout SamplingParameters) -> Void, _ name: String) {
            var p = SamplingParameters()
            f(&p)
            XCTAssertThrowsError(try p.makeChain()) { e in
                XCTAssertTrue(e.localizedDescription.contains(name), e.localizedDescription)
            }
        }
        refused({ $0.temperature = -0.1 }, "temperature")
        refused({ $0.temperature = .nan }, "temperature")
        refused({ $0.topP = 0 }, "top-p")
        refused({ $0.topP = 1.5 }, "top-p")
        refused({ $0.topP = .nan }, "top-p")
        refused({ $0.topK = -1 }, "top-k")
        refused({ $0.minP = 2 }, "min-p")
        refused({ $0.repeatPenalty = 0 }, "repeat-penalty")
        refused({ $0.frequencyPenalty = .infinity }, "frequency-penalty")
        refused({ $0.penaltyLastN = -5 }, "repeat-last-n")
        XCTAssertThrowsError(try StopCondition(maxTokens: 0, endOfGeneration: []))
        XCTAssertThrowsError(try StopCondition(maxTokens: 5, stopStrings: [""], endOfGeneration: []))
    }

    func testBuffersAreReusedAcrossSteps() throws {
        var c = TokenCandidates(capacity: 4)
        var k = try TopKSampler(2)
        for _ in 0..<3 {
            c.reset(logits: logits)
            XCTAssertEqual(c.items.count, 4, "the buffer keeps its size: no reallocation per step")
            k.apply(&c)
            XCTAssertEqual(c.count, 2)
        }
    }

    // MARK: StopCondition

    func feed(_ stop: inout StopCondition, _ pieces: [String], eogAt: Int? = nil) -> (String, StopCondition.Reason?) {
        var shown = ""
        for (i, piece) in pieces.enumerated() {
            let step = stop.push(token: i == eogAt ? 99 : Int32(i), text: piece)
            shown += step.text
            if let r = step.stop { return (shown, r) }
        }
        return (shown + stop.finish(), nil)
    }

    func testStopStringAcrossPiecesIsNotShown() throws {
        var s = try StopCondition(maxTokens: 100, stopStrings: ["<|end|>", "\n\nUser:"], endOfGeneration: [99])
        let (text, reason) = feed(&s, ["Hello", " wor", "ld<", "|", "end", "|>", "more"])
        XCTAssertEqual(text, "Hello world")
        XCTAssertEqual(reason, .stopString("<|end|>"))
        var t = try StopCondition(maxTokens: 100, stopStrings: ["\n\nUser:"], endOfGeneration: [99])
        XCTAssertEqual(feed(&t, ["答案是", "42。\n", "\nUs", "er: hi"]).0, "答案是42。")
    }

    func testHeldTextIsReleasedWhenItIsNotAStop() throws {
        var s = try StopCondition(maxTokens: 100, stopStrings: ["<|end|>"], endOfGeneration: [99])
        let first = s.push(token: 0, text: "a<")
        XCTAssertEqual(first.text, "a", "'<' could start the stop string")
        let second = s.push(token: 1, text: "|b")
        XCTAssertEqual(second.text, "<|b")
        XCTAssertNil(second.stop)
    }

    func testEndOfGenerationAndMaxTokens() throws {
        var s = try StopCondition(maxTokens: 100, stopStrings: ["###"], endOfGeneration: [99])
        let (text, reason) = feed(&s, ["one", " two #", "<eos>"], eogAt: 2)
        XCTAssertEqual(text, "one two #", "held text is flushed at the end, the EOG piece is not shown")
        XCTAssertEqual(reason, .endOfGeneration(99))
        var m = try StopCondition(maxTokens: 2, endOfGeneration: [99])
        let (t2, r2) = feed(&m, ["a", "b", "c"])
        XCTAssertEqual(t2, "ab")
        XCTAssertEqual(r2, .maxTokens)
        XCTAssertEqual(m.tokenCount, 2)
    }
}
