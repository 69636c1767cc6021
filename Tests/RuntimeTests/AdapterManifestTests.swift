import Foundation
import XCTest
import Runtime

/// The adapter manifest keeps the keys `adapt train` has always written (and tests read).
final class AdapterManifestTests: XCTestCase {
    func testRoundTripUsesTheSnakeCaseKeys() throws {
        var m = AdapterManifest()
        m.name = "news"; m.baseModel = "SmolLM2.gguf"; m.baseModelSHA256 = String(repeating: "a", count: 64)
        m.rank = 8; m.alpha = 16; m.steps = 3; m.tokensSeen = 96; m.heldOutPerplexity = 12.5
        m.data = [.init(path: "a.jsonl", sha256: "b")]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try m.write(to: path)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        XCTAssertEqual(object["base_model"] as? String, "SmolLM2.gguf")
        XCTAssertEqual(object["tokens_seen"] as? Int, 96)
        XCTAssertEqual((object["base_model_sha256"] as? String)?.count, 64)
        XCTAssertEqual(object["held_out_perplexity"] as? Double, 12.5)
        XCTAssertEqual(AdapterManifest.read(besideAdapterAt: path.replacingOccurrences(of: ".json", with: ".gguf")), m)
    }

    func testAManifestWithFewerFieldsStillReads() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("old-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try #"{"base_model": "qwen.gguf", "extra_key_from_a_newer_build": 1}"#.write(toFile: path, atomically: true, encoding: .utf8)
        XCTAssertEqual(AdapterManifest.read(besideAdapterAt: path)?.baseModel, "qwen.gguf")
    }
}
