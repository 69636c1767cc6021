import Foundation
import XCTest

/// A test case with its own temporary folder and a way to write a `strata.json` into it: the
/// configuration tests read settings from such a file.
class ConfigFileTestCase: XCTestCase {
    var dir: URL!
    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Writes `json` as the folder's strata.json and returns its path.
    func config(_ json: String) throws -> String {
        let path = dir.appendingPathComponent("strata.json").path
        try json.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
