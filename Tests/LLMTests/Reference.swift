import Foundation
import XCTest

/// Paths of the models and of llama.cpp's reference outputs, relative to the project root.
enum Reference {
    static let root: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()
    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    static let smol = path("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let qwen = path("models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    static let llamaCpp = path("../shared/reference/llama.cpp")

    static func json(_ relative: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: llamaCpp + "/" + relative))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Skips (with the reason printed) when an optional model file is absent.
    static func require(_ path: String) throws {
        if !FileManager.default.fileExists(atPath: path) {
            print("skipping: \(path) is absent (run the set-up script to fetch it)")
            throw XCTSkip("\(path) is absent")
        }
    }

    static func ints(_ any: Any?) -> [Int32] { (any as? [Any] ?? []).compactMap { ($0 as? NSNumber)?.int32Value } }
}
