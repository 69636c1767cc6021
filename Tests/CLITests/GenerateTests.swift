import Foundation
import XCTest

/// `strata generate` and `strata eval perplexity` run as a user would, including bad input.
final class GenerateTests: XCTestCase {
    let model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    func requireModel() throws {
        if !FileManager.default.fileExists(atPath: StrataBinary.root.appendingPathComponent(model).path) {
            print("skipping: \(model) is absent (run the set-up script)")
            throw XCTSkip("\(model) is absent")
        }
    }

    func testGreedyGenerationMatchesLlamaCpp() throws {
        try requireModel()
        let r = try StrataBinary.run(["generate", "--temp", "0", "-n", "8", "--verbose", "The capital of France is"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // llama.cpp's greedy continuation (greedy.json, raw_en_capital).
        XCTAssertTrue(r.stdout.hasPrefix(" Paris.\n\nThe United States"), r.stdout)
        XCTAssertTrue(r.stderr.contains("tokens/s"), r.stderr)
    }

    func testChatStopsAtEndOfTurnAndHonoursStopStrings() throws {
        try requireModel()
        let r = try StrataBinary.run(["generate", "--chat", "--temp", "0", "-n", "24", "--stop", "Paris", "What is the capital of France?"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertFalse(r.stdout.contains("Paris"), r.stdout)
        XCTAssertFalse(r.stdout.contains("<|im_end|>"), r.stdout)
    }

    func testBadInputGivesClearErrors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-gen-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let notGGUF = dir.appendingPathComponent("notes.gguf")
        try Data("hello, not a model".utf8).write(to: notGGUF)
        var cases: [([String], String)] = [
            (["generate", "--model", notGGUF.path, "hi"], "not a GGUF"),
            (["generate", "--model", dir.appendingPathComponent("missing.gguf").path, "hi"], "not found"),
            (["generate", ""], "empty"),
            (["generate"], "prompt"),
            (["generate", "--temp", "-1", "hi"], "temp"),
            (["generate", "--top-p", "1.5", "hi"], "top-p"),
            (["generate", "--top-k", "x", "hi"], "whole number"),
            (["generate", "--min-p", "2", "hi"], "min-p"),
            (["generate", "--repeat-penalty", "0", "hi"], "repeat-penalty"),
            (["generate", "-n", "0", "hi"], "-n"),
            (["generate", "--ctx", "4", "hi"], "--ctx"),
            (["generate", "--threads", "0", "hi"], "--threads"),
            (["eval", "perplexity"], "--text"),
            (["eval", "perplexity", "--text", dir.appendingPathComponent("none.txt").path], "cannot read"),
        ]
        if FileManager.default.fileExists(atPath: StrataBinary.root.appendingPathComponent(model).path) {
            // A truncated copy of the real model: the header parses, the tensor data is cut.
            let truncated = dir.appendingPathComponent("truncated.gguf")
            let h = try FileHandle(forReadingFrom: StrataBinary.root.appendingPathComponent(model))
            try h.read(upToCount: 4 << 20)!.write(to: truncated)
            try h.close()
            cases.append((["generate", "--model", truncated.path, "hi"], "truncated"))
            let long = String(repeating: "word ", count: 300)
            cases.append((["generate", "--ctx", "64", long], "--ctx"))
            let short = dir.appendingPathComponent("short.txt")
            try Data("too short".utf8).write(to: short)
            cases.append((["eval", "perplexity", "--text", short.path], "fewer than one window"))
        }
        for (args, expected) in cases {
            let r = try StrataBinary.run(args)
            XCTAssertNotEqual(r.status, 0, "\(args) should fail")
            XCTAssertTrue(r.stderr.lowercased().contains(expected.lowercased()), "\(args): \(r.stderr)")
            XCTAssertFalse(r.stderr.contains("Fatal error"), "\(args) crashed: \(r.stderr)")
        }
    }

    func testPerplexityOnAShortPrefix() throws {
        try requireModel()
        // Two windows of 128 tokens: a quick smoke test of the command (the full 512-token
        // figures are checked against llama.cpp in LLMTests and bench).
        let r = try StrataBinary.run(["eval", "perplexity", "--text", "../shared/reference/llama.cpp/gpl3.txt", "--ctx", "128", "--max-tokens", "256"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("perplexity: "), r.stdout)
        let value = r.stdout.components(separatedBy: "perplexity: ").last.flatMap { Double($0.prefix { $0 != " " }) }
        XCTAssertNotNil(value)
        XCTAssertTrue((2.0...100.0).contains(value ?? 0), r.stdout)
    }
}
