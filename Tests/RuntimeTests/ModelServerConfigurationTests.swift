import Foundation
import XCTest
import Runtime

/// Which backend the configuration picks: a model or encoder server (flag, environment, config
/// file) against a local model file or encoder folder, and where the API key may come from.
final class ModelServerConfigurationTests: ConfigFileTestCase {

    func testServerFromFlagEnvironmentOrFileTakenAsWritten() throws {
        let file = try config(#"{"llm_url": "http://file:8000/v1", "llm_model": "file-model", "embedder_url": "http://enc:8001"}"#)
        let fromFile = try RuntimeConfiguration(flags: .init(config: file), environment: [:])
        let server = try XCTUnwrap(try fromFile.llmServer())
        XCTAssertEqual(server.url, "http://file:8000/v1", "a URL is not a path: not resolved against the config file's folder")
        XCTAssertEqual(server.model, "file-model")
        XCTAssertEqual(server.source, .file)
        XCTAssertEqual(try fromFile.embedderServer()?.url, "http://enc:8001")

        let env = ["STRATA_LLM_URL": "http://env:8000/v1", "STRATA_LLM_MODEL": "env-model"]
        let fromEnv = try XCTUnwrap(try RuntimeConfiguration(flags: .init(config: file), environment: env).llmServer())
        XCTAssertEqual([fromEnv.url, fromEnv.model], ["http://env:8000/v1", "env-model"])
        let fromFlag = try XCTUnwrap(try RuntimeConfiguration(flags: .init(config: file, llmURL: "http://flag/v1"), environment: env).llmServer())
        XCTAssertEqual([fromFlag.url, fromFlag.model], ["http://flag/v1", "env-model"])
        XCTAssertEqual(fromFlag.source, .flag)
    }

    /// The more direct setting wins; at one level the server does.
    func testServerAgainstModelFile() throws {
        let model = ["STRATA_MODEL": "local.gguf"], url = ["STRATA_LLM_URL": "http://127.0.0.1:8080/v1"]
        XCTAssertNil(try RuntimeConfiguration(flags: .init(model: "flag.gguf"), environment: url).llmServer(),
                     "--model beats $STRATA_LLM_URL")
        XCTAssertNotNil(try RuntimeConfiguration(flags: .init(llmURL: "http://x/v1"), environment: model).llmServer(),
                        "--llm-url beats $STRATA_MODEL")
        XCTAssertNotNil(try RuntimeConfiguration(flags: .init(), environment: model.merging(url) { $1 }).llmServer())
        let file = try config(#"{"model": "m.gguf", "llm_url": "http://srv/v1"}"#)
        let both = try RuntimeConfiguration(flags: .init(config: file), environment: [:])
        XCTAssertNotNil(try both.llmServer(), "a config file naming both answers with the server")
        XCTAssertEqual(both.model, dir.appendingPathComponent("m.gguf").path, "and keeps the file for perplexity and training")
        XCTAssertNil(try RuntimeConfiguration(flags: .init(config: file), environment: ["STRATA_MODEL": "env.gguf"]).llmServer(),
                     "$STRATA_MODEL beats the config file's server")

        XCTAssertThrowsError(try RuntimeConfiguration(flags: .init(model: "m.gguf", llmURL: "http://x/v1"), environment: [:])) { e in
            guard case RuntimeError.usage(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("--llm-url and --model"), m)
        }
    }

    func testEncoderServerAgainstEncoderFolder() throws {
        let url = ["STRATA_EMBEDDER_URL": "http://enc/v1"]
        XCTAssertNil(try RuntimeConfiguration(flags: .init(embedder: "models/x"), environment: url).embedderServer())
        XCTAssertNotNil(try RuntimeConfiguration(flags: .init(), environment: url.merging(["STRATA_EMBEDDER": "models/x"]) { $1 }).embedderServer())
        XCTAssertThrowsError(try RuntimeConfiguration(flags: .init(embedder: "models/x", embedderURL: "http://enc/v1"), environment: [:]))
    }

    /// The key: from the environment only. A config file cannot hold one (unknown key), and
    /// there is no flag for it (`Flags` has no field).
    func testAPIKeyOnlyFromTheEnvironment() throws {
        let file = try config(#"{"llm_url": "http://srv/v1", "api_key": "secret"}"#)
        XCTAssertThrowsError(try RuntimeConfiguration(flags: .init(config: file), environment: [:])) { e in
            XCTAssertTrue(e.localizedDescription.contains("unknown key 'api_key'"), e.localizedDescription)
        }
        let env = ["STRATA_LLM_URL": "http://srv/v1", "STRATA_LLM_API_KEY": "k"]
        XCTAssertEqual(try RuntimeConfiguration(flags: .init(), environment: env).llmServer()?.hasAPIKey, true)
        XCTAssertEqual(try RuntimeConfiguration(flags: .init(), environment: ["STRATA_LLM_URL": "http://srv/v1"]).llmServer()?.hasAPIKey, false)
        // The encoder server falls back to the model server's key.
        XCTAssertEqual(try RuntimeConfiguration(flags: .init(embedderURL: "http://enc/v1"), environment: env).embedderServer()?.hasAPIKey, true)
    }

    func testBadServerSettingsAreErrorsWhenAServerIsUsed() throws {
        let empty = try RuntimeConfiguration(flags: .init(), environment: ["STRATA_LLM_URL": ""])
        XCTAssertThrowsError(try empty.llmServer()) { e in
            XCTAssertTrue(e.localizedDescription.contains("$STRATA_LLM_URL is set but empty"), e.localizedDescription)
        }
        let url = ["STRATA_LLM_URL": "http://srv/v1"]
        for (name, value) in [("STRATA_LLM_TIMEOUT", "soon"), ("STRATA_LLM_RETRIES", "99"), ("STRATA_LLM_ADAPTERS", "legal")] {
            let c = try RuntimeConfiguration(flags: .init(), environment: url.merging([name: value]) { $1 })
            XCTAssertThrowsError(try c.llmServer(), name) { e in XCTAssertTrue(e.localizedDescription.contains(name), e.localizedDescription) }
            XCTAssertNil(try RuntimeConfiguration(flags: .init(), environment: [name: value]).llmServer(), "no server, no check")
        }
        let s = try XCTUnwrap(try RuntimeConfiguration(flags: .init(), environment: url.merging(
            ["STRATA_LLM_TIMEOUT": "2.5", "STRATA_LLM_RETRIES": "0", "STRATA_LLM_ADAPTERS": "finance=legal, hr = hr-v2"]) { $1 }).llmServer())
        XCTAssertEqual(s.timeout, 2.5)
        XCTAssertEqual(s.retries, 0)
        XCTAssertEqual(s.adapterModels, ["finance": "legal", "hr": "hr-v2"])
    }
}
