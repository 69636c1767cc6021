import Foundation
import XCTest
import Runtime

/// The settings resolution: flag, then environment, then config file, then default; config-file
/// paths and defaults against the config file's folder.
final class ConfigurationTests: ConfigFileTestCase {

    func testDefaultsWithoutConfigAreRelativeToTheCurrentDirectory() throws {
        let c = try RuntimeConfiguration(flags: .init(), environment: [:])
        XCTAssertEqual(c.databasePath, "strata.db")
        XCTAssertEqual(c.adaptersDirectory, "adapters")
        XCTAssertNil(c.model)
        XCTAssertEqual(c.answeringModelName, RuntimeConfiguration.answeringModel)
    }

    func testFlagBeatsEnvironmentBeatsFile() throws {
        let file = try config(#"{"db": "file.db", "model": "file.gguf"}"#)
        let env = ["STRATA_DB": "env.db", "STRATA_MODEL": "env.gguf"]
        let fromFlag = try RuntimeConfiguration(flags: .init(database: "flag.db", model: "flag.gguf", config: file), environment: env)
        XCTAssertEqual(fromFlag.databasePath, "flag.db")
        XCTAssertEqual(fromFlag.model, "flag.gguf")
        XCTAssertEqual(fromFlag.modelSource, .flag)
        let fromEnv = try RuntimeConfiguration(flags: .init(config: file), environment: env)
        XCTAssertEqual(fromEnv.databasePath, "env.db")
        XCTAssertEqual(fromEnv.modelSource, .environment)
        let fromFile = try RuntimeConfiguration(flags: .init(config: file), environment: [:])
        XCTAssertEqual(fromFile.databasePath, dir.appendingPathComponent("file.db").path)
        XCTAssertEqual(fromFile.model, dir.appendingPathComponent("file.gguf").path)
        XCTAssertEqual(fromFile.modelSource, .file)
    }

    func testConfigFileFolderIsTheBaseOfTheDefaults() throws {
        let file = try config(#"{"packs": ["mypacks"]}"#)
        let c = try RuntimeConfiguration(flags: .init(), environment: ["STRATA_CONFIG": file])
        XCTAssertEqual(c.databasePath, dir.appendingPathComponent("strata.db").path)
        XCTAssertEqual(c.adaptersDirectory, dir.appendingPathComponent("adapters").path)
        XCTAssertEqual(c.packDirectories, [dir.appendingPathComponent("mypacks").path])
        XCTAssertEqual(c.encoderDirectory, dir.appendingPathComponent(RuntimeConfiguration.defaultEncoder).path)
    }

    func testUnknownConfigKeyIsRefused() throws {
        let file = try config(#"{"modle": "x.gguf"}"#)
        XCTAssertThrowsError(try RuntimeConfiguration(flags: .init(config: file), environment: [:])) { error in
            XCTAssertTrue(error.localizedDescription.contains("unknown key 'modle'"), error.localizedDescription)
        }
    }

    func testDefaultEncoderIsFoundBesideTheModel() throws {
        let models = dir.appendingPathComponent("models")
        let encoder = models.appendingPathComponent("all-MiniLM-L6-v2")
        try FileManager.default.createDirectory(at: encoder, withIntermediateDirectories: true)
        try "{}".write(to: encoder.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let model = models.appendingPathComponent("x.gguf").path
        let c = try RuntimeConfiguration(flags: .init(), environment: ["STRATA_MODEL": model])
        if !FileManager.default.fileExists(atPath: RuntimeConfiguration.defaultEncoder + "/config.json") {
            XCTAssertEqual(c.encoderDirectory, encoder.path)
        }
        XCTAssertTrue(c.encoderIsDefault)
        let named = try RuntimeConfiguration(flags: .init(embedder: "/elsewhere"), environment: ["STRATA_MODEL": model])
        XCTAssertEqual(named.encoderDirectory, "/elsewhere")
    }

    func testEmptyStrataModelIsAnErrorForAnsweringCommands() throws {
        let c = try RuntimeConfiguration(flags: .init(), environment: ["STRATA_MODEL": ""])
        XCTAssertThrowsError(try c.answeringModel(noModel: ("extractive", "the baseline"))) { error in
            XCTAssertTrue(error.localizedDescription.contains("set but empty"), error.localizedDescription)
        }
    }
}
