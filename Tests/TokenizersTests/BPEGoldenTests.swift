import Foundation
import XCTest
import GGUF
import LLM
@testable import Tokenizers

/// Every case of llama.cpp's tokenize.json, in its three variants, gives exactly llama.cpp's ids,
/// and decoding gives back the text.
final class BPEGoldenTests: XCTestCase {
    struct Variant { let name: String; let addSpecial: Bool; let parseSpecial: Bool }
    static let variants = [Variant(name: "default", addSpecial: true, parseSpecial: true),
                           Variant(name: "no_bos", addSpecial: false, parseSpecial: true),
                           Variant(name: "no_bos_no_special", addSpecial: false, parseSpecial: false)]

    static let smolPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let qwenPath = "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"

    /// Loaded once: the Qwen vocabulary takes a moment to build.
    nonisolated(unsafe) static var loaded: [String: BPETokenizer] = [:]
    static func tokenizer(_ path: String) throws -> BPETokenizer {
        if let t = loaded[path] { return t }
        let t = try BPETokenizer(gguf: try GGUFFile(path: path))
        loaded[path] = t
        return t
    }

    func runGolden(model path: String, reference dir: String) throws {
        let tok = try Self.tokenizer(path)
        let url = URL(fileURLWithPath: "../shared/reference/llama.cpp/\(dir)/tokenize.json")
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 26)
        var checked = 0
        for c in cases {
            let id = try XCTUnwrap(c["id"] as? String)
            let text = try XCTUnwrap(c["text"] as? String)
            let results = try XCTUnwrap(c["results"] as? [String: [String: Any]])
            for v in Self.variants {
                let expected = try XCTUnwrap(results[v.name]?["ids"] as? [Int], "\(id)/\(v.name)")
                let ours = tok.encode(text, addSpecial: v.addSpecial, parseSpecial: v.parseSpecial).map(Int.init)
                XCTAssertEqual(ours, expected, "\(dir) \(id) [\(v.name)]")
                if let strings = results[v.name]?["vocab_strings"] as? [String] {
                    XCTAssertEqual(ours.map { tok.tokenText(Int32($0)) ?? "?" }, strings, "\(dir) \(id) [\(v.name)] spellings")
                }
                let withoutBOS = ours.drop { v.addSpecial && tok.addBOS && Int32($0) == tok.bos }
                XCTAssertEqual(tok.decode(withoutBOS.map(Int32.init), renderSpecial: true), text, "\(id) decode")
                checked += 1
            }
        }
        print("\(dir): \(checked) tokenizations compared with llama.cpp")
    }

    func testSmolLM2MatchesLlamaCpp() throws {
        try runGolden(model: Self.smolPath, reference: "smollm2-135m-instruct-q4_1")
    }

    func testQwenMatchesLlamaCppWhenPresent() throws {
        guard FileManager.default.fileExists(atPath: Self.qwenPath) else {
            print("skipping Qwen tokenizer golden test: \(Self.qwenPath) is not present (optional model)")
            throw XCTSkip("Qwen model not present")
        }
        try runGolden(model: Self.qwenPath, reference: "qwen2.5-coder-1.5b-instruct-q4_k_m")
    }
}
