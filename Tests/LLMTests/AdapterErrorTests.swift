import XCTest
@testable import LLM

/// Bad adapters of every kind give an `AdapterError` that names the tensor and hints at the cause.
final class AdapterErrorTests: XCTestCase {
    func bind(_ path: String, _ e: Engine) throws {
        _ = try AdapterSet(model: e.model, adapters: [(try LoRAAdapter.load(path: path), 1)])
    }

    func expect(_ body: () throws -> Void, _ needles: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertTrue(error is AdapterError, "\(error)", file: file, line: line)
            let m = error.localizedDescription
            for n in needles { XCTAssertTrue(m.contains(n), "'\(n)' missing from: \(m)", file: file, line: line) }
        }
    }

    func testMismatchesWithTheBaseModel() throws {
        try Reference.require(Reference.smol)
        let tmp = try TempDir()
        let e = try Engine(path: Reference.smol, context: 32, threads: 1)
        // Wrong in-dimension: an adapter made for a wider model.
        var wide = TestLoRA.random(layers: [2], modules: ["q_proj"])
        wide.pairs[0].inDim = 896; wide.pairs[0].a = [Float](repeating: 0.01, count: 4 * 896)
        try wide.writeGGUF(tmp.path("wide.gguf"))
        expect({ try self.bind(tmp.path("wide.gguf"), e) }, ["blk.2.attn_q.weight", "[896, 4]", "[576, 576]", "wrong base model?"])
        // A layer the model does not have.
        try TestLoRA.random(layers: [30], modules: ["down_proj"]).writeGGUF(tmp.path("deep.gguf"))
        expect({ try self.bind(tmp.path("deep.gguf"), e) }, ["blk.30.ffn_down.weight", "wrong base model?"])
        // Another architecture.
        var qwen = TestLoRA.random(layers: [0], modules: ["q_proj"]); qwen.architecture = "qwen2"
        try qwen.writeGGUF(tmp.path("qwen.gguf"))
        expect({ try self.bind(tmp.path("qwen.gguf"), e) }, ["qwen2", "llama", "wrong base model?"])
        // The base model itself is not an adapter.
        expect({ _ = try LoRAAdapter.load(path: Reference.smol) }, ["not a LoRA adapter", "general.type"])
        // A scale that is not a number.
        let ok = TestLoRA.random(layers: [0], modules: ["q_proj"]); try ok.writeGGUF(tmp.path("ok.gguf"))
        expect({ _ = try AdapterSet(model: e.model, adapters: [(try LoRAAdapter.load(path: tmp.path("ok.gguf")), .nan)]) }, ["finite"])
    }

    func testBrokenFiles() throws {
        let tmp = try TempDir()
        let lora = TestLoRA.random(layers: [0], modules: ["q_proj", "up_proj"])
        // PEFT: rank 0, unknown target, DoRA, fan_in_fan_out, missing weights, missing config.
        func config(_ change: (inout [String: Any]) -> Void) -> [String: Any] {
            var c: [String: Any] = ["r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "up_proj"], "peft_type": "LORA"]
            change(&c); return c
        }
        let cases: [([String: Any], [String])] = [
            (config { $0["r"] = 0 }, ["rank", "at least 1"]),
            (config { $0["target_modules"] = ["q_proj", "c_attn"] }, ["c_attn", "q_proj, k_proj"]),
            (config { $0["use_dora"] = true }, ["DoRA"]),
            (config { $0["fan_in_fan_out"] = true }, ["fan_in_fan_out", "wrong base model?"]),
            (config { $0["lora_alpha"] = "eight" }, ["lora_alpha"]),
        ]
        for (i, (cfg, needles)) in cases.enumerated() {
            let dir = tmp.url.appendingPathComponent("peft\(i)")
            try lora.writePEFT(dir, config: cfg)
            expect({ _ = try LoRAAdapter.load(path: dir.path) }, needles)
        }
        let noWeights = tmp.url.appendingPathComponent("noweights")
        try lora.writePEFT(noWeights, skipWeights: true)
        expect({ _ = try LoRAAdapter.load(path: noWeights.path) }, ["adapter_model.safetensors", "save_pretrained"])
        let empty = tmp.url.appendingPathComponent("empty")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        expect({ _ = try LoRAAdapter.load(path: empty.path) }, ["adapter_config.json"])
        // PEFT with an lm_head LoRA and with lora_A alone.
        let head = tmp.url.appendingPathComponent("head")
        try lora.writePEFT(head)
        try TestLoRA.writeSafeTensors([("base_model.model.lm_head.lora_A.weight", [4, 576], [Float](repeating: 0, count: 4 * 576))],
                                      to: head.appendingPathComponent("adapter_model.safetensors"))
        expect({ _ = try LoRAAdapter.load(path: head.path) }, ["lm_head", "attention and MLP"])
        let half = tmp.url.appendingPathComponent("half")
        try lora.writePEFT(half)
        try TestLoRA.writeSafeTensors([("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", [4, 576], [Float](repeating: 0, count: 4 * 576))],
                                      to: half.appendingPathComponent("adapter_model.safetensors"))
        expect({ _ = try LoRAAdapter.load(path: half.path) }, ["lora_B", "incomplete"])
        // GGUF: not an adapter, truncated, missing file.
        try lora.writeGGUF(tmp.path("model.gguf"), type: "model")
        expect({ _ = try LoRAAdapter.load(path: tmp.path("model.gguf")) }, ["general.type", "convert_lora_to_gguf"])
        try Data("GGUF but not really".utf8).write(to: tmp.url.appendingPathComponent("junk.gguf"))
        expect({ _ = try LoRAAdapter.load(path: tmp.path("junk.gguf")) }, ["junk.gguf", "not a LoRA adapter"])
        expect({ _ = try LoRAAdapter.load(path: tmp.path("absent.gguf")) }, ["absent.gguf", "not found"])
    }

    func testLibraryFindsListsAndRemoves() throws {
        let tmp = try TempDir()
        let lib = AdapterLibrary(directory: tmp.url.path)
        let lora = TestLoRA.random(layers: [0], modules: ["q_proj"])
        try lora.writeGGUF(tmp.path("legal.gguf"))
        try lora.writePEFT(tmp.url.appendingPathComponent("support-zh"))
        try FileManager.default.createDirectory(at: tmp.url.appendingPathComponent("not-an-adapter"), withIntermediateDirectories: true)
        XCTAssertEqual(lib.names(), ["legal", "support-zh"])
        XCTAssertEqual(try lib.load("legal").format, .gguf)
        let peft = try lib.load("support-zh")
        XCTAssertEqual(peft.format, .peft); XCTAssertEqual(peft.name, "support-zh")
        XCTAssertEqual(peft.baseModel, "HuggingFaceTB/SmolLM2-135M-Instruct")
        XCTAssertEqual(try lib.load(tmp.path("legal.gguf")).name, "legal", "a path works too")
        XCTAssertTrue(try AdapterLibrary.parseSpec("legal:0.5") == ("legal", 0.5))
        XCTAssertTrue(try AdapterLibrary.parseSpec("legal") == ("legal", 1))
        XCTAssertTrue(try AdapterLibrary.parseSpec("法务:-1") == ("法务", -1))
        expect({ _ = try AdapterLibrary.parseSpec("legal:") }, ["NAME:SCALE"])
        expect({ _ = try AdapterLibrary.parseSpec(":2") }, ["no adapter name"])
        expect({ _ = try AdapterLibrary.parseSpec("legal:inf") }, ["finite"])
        expect({ _ = try lib.load("missing") }, ["missing", "strata adapt list"])
        expect({ try lib.remove("../etc") }, ["not an adapter name"])
        try lib.remove("legal"); try lib.remove("support-zh")
        XCTAssertEqual(lib.names(), [])
        XCTAssertTrue(FileManager.default.fileExists(atPath: tmp.path("not-an-adapter")), "rm leaves other folders alone")
        expect({ try lib.remove("legal") }, ["not found"])
    }
}
