import Foundation
import XCTest
@testable import Embeddings

/// Paths of the project root, the reference data (`../shared/reference/minilm`) and the model.
enum Fixtures {
    static let root: String = {
        var u = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { u.deleteLastPathComponent() }
        return u.path
    }()
    static let reference = root + "/../shared/reference/minilm"
    static let modelDir = root + "/models/all-MiniLM-L6-v2"

    static func json(_ name: String) throws -> [String: Any] {
        let path = reference + "/" + name
        guard let data = FileManager.default.contents(atPath: path) else {
            throw XCTSkip("reference file \(path) is absent (CI keeps shared/ beside the project)")
        }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    nonisolated(unsafe) private static var cached: SentenceEncoder?
    private static let lock = NSLock()

    /// The MiniLM encoder, loaded once for all tests, or a skip when models/ lacks it.
    static func encoder() throws -> SentenceEncoder {
        lock.lock(); defer { lock.unlock() }
        if let e = cached { return e }
        guard FileManager.default.fileExists(atPath: modelDir + "/model.safetensors") else {
            print("SKIP: \(modelDir) is absent — run the model set-up script to fetch all-MiniLM-L6-v2")
            throw XCTSkip("\(modelDir) is absent")
        }
        let e = try SentenceEncoder(directory: modelDir)
        cached = e
        return e
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "strata-embed-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }
}

func cosine(_ a: [Float], _ b: [Float]) -> Double {
    var d = 0.0, na = 0.0, nb = 0.0
    for i in 0..<min(a.count, b.count) { d += Double(a[i] * b[i]); na += Double(a[i] * a[i]); nb += Double(b[i] * b[i]) }
    return d / max((na * nb).squareRoot(), 1e-30)
}
