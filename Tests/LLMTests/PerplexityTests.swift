import XCTest
@testable import LLM

/// Perplexity with llama-perplexity's chunking must agree with its figures within 1%.
final class PerplexityTests: XCTestCase {
    /// SmolLM2: the first chunks of each text, against llama.cpp's cumulative figure after the
    /// same number of chunks (the full runs are in bench/report: they take minutes here).
    func check(model: String, dir: String, text: String, chunks: Int) throws {
        try Reference.require(model)
        let ref = try XCTUnwrap((try Reference.json(dir + "/perplexity.json")["texts"] as? [String: Any])?[text] as? [String: Any])
        let cumulative = try XCTUnwrap(ref["cumulative_ppl_after_chunk"] as? [NSNumber]).map(\.doubleValue)
        let engine = try Engine(path: model, context: 512, threads: 2, batchSize: 512)
        let body = try String(contentsOfFile: Reference.llamaCpp + "/" + (ref["text_file"] as? String ?? ""), encoding: .utf8)
        let report = try engine.perplexity(tokens: engine.perplexityTokens(body), window: 512, maxChunks: chunks)
        let expected = cumulative[chunks - 1]
        print("\(text): ppl \(report.perplexity) after \(chunks) chunks, llama.cpp \(expected)")
        XCTAssertEqual(report.perplexity, expected, accuracy: expected * 0.01)
    }

    /// Eight chunks, not one: SmolLM2's prompt path quantizes activations to 8 bits, so a
    /// rounding-level change upstream (a vector exp, a blocked attention product) moved the
    /// figure after one or four chunks by up to 0.9%; after eight it stays within 0.5%.
    func testSmolLM2English() throws { try check(model: Reference.smol, dir: "smollm2-135m-instruct-q4_1", text: "gpl3", chunks: 8) }
    func testSmolLM2Chinese() throws { try check(model: Reference.smol, dir: "smollm2-135m-instruct-q4_1", text: "zh_fortunes_excerpt", chunks: 8) }
    /// 1.5B parameters: ~1.5 TFLOP per window, minutes on a shared 2-core machine; opt in.
    func testQwenEnglish() throws {
        guard ProcessInfo.processInfo.environment["STRATA_SLOW_TESTS"] == "1" else {
            print("skipping: Qwen perplexity takes minutes here; set STRATA_SLOW_TESTS=1 to run it")
            throw XCTSkip("set STRATA_SLOW_TESTS=1")
        }
        try check(model: Reference.qwen, dir: "qwen2.5-coder-1.5b-instruct-q4_k_m", text: "gpl3", chunks: 1)
    }
}
