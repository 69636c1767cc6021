import Foundation
import XCTest

/// `strata adapt list/show/rm`, `generate --adapter` and `ask --adapter`, run as a user would,
/// on adapters written here byte by byte (this target links no Strata module).
final class AdaptTests: XCTestCase {
    let model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var dir: URL!
    var adapters: String { dir.appendingPathComponent("adapters").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-adapt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("adapters"), withIntermediateDirectories: true)
        // Strong enough to change a greedy continuation: rank 2 on ffn_down of layers 0–5.
        try Self.gguf(pairs: (0..<6).map { ("blk.\($0).ffn_down.weight", 1536, 576) }, rank: 2, alpha: 2, bValue: 0.5)
            .write(to: dir.appendingPathComponent("adapters/legal.gguf"))
        try Self.gguf(pairs: [("blk.0.attn_q.weight", 576, 576)], rank: 2, alpha: 4, bValue: 0)
            .write(to: dir.appendingPathComponent("adapters/zero.gguf"))
        try Self.gguf(pairs: [("blk.0.attn_q.weight", 896, 896)], rank: 2, alpha: 4, bValue: 0.1)
            .write(to: dir.appendingPathComponent("adapters/qwen-sized.gguf"))
        let peft = dir.appendingPathComponent("adapters/support-zh")
        try FileManager.default.createDirectory(at: peft, withIntermediateDirectories: true)
        try #"{"peft_type": "LORA", "r": 2, "lora_alpha": 4, "target_modules": ["v_proj"], "base_model_name_or_path": "HuggingFaceTB/SmolLM2-135M-Instruct"}"#
            .write(to: peft.appendingPathComponent("adapter_config.json"), atomically: true, encoding: .utf8)
        try Self.safetensors([("base_model.model.model.layers.3.self_attn.v_proj.lora_A.weight", [2, 576]),
                              ("base_model.model.model.layers.3.self_attn.v_proj.lora_B.weight", [192, 2])])
            .write(to: peft.appendingPathComponent("adapter_model.safetensors"))
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func requireModel() throws {
        if !FileManager.default.fileExists(atPath: StrataBinary.root.appendingPathComponent(model).path) {
            print("skipping: \(model) is absent (run the set-up script)")
            throw XCTSkip("\(model) is absent")
        }
    }

    func testListShowRemove() throws {
        let list = try StrataBinary.run(["adapt", "list", "--adapters", adapters])
        XCTAssertEqual(list.status, 0, list.stderr)
        let lines = list.stdout.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines[0].hasPrefix("NAME"), list.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("legal") && $0.contains("gguf") && $0.contains("ffn_down") }, list.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("support-zh") && $0.contains("peft") && $0.contains("attn_v") && $0.contains("HuggingFaceTB/SmolLM2-135M-Instruct") }, list.stdout)
        let show = try StrataBinary.run(["adapt", "show", "legal", "--adapters", adapters])
        XCTAssertEqual(show.status, 0, show.stderr)
        for s in ["rank:        2", "alpha:       2", "scale:       1", "targets:     ffn_down", "layers:      6"] {
            XCTAssertTrue(show.stdout.contains(s), "\(s) in \(show.stdout)")
        }
        let rm = try StrataBinary.run(["adapt", "rm", "legal", "--adapters", adapters])
        XCTAssertEqual(rm.status, 0, rm.stderr)
        XCTAssertFalse(try StrataBinary.run(["adapt", "list", "--adapters", adapters]).stdout.contains("legal"))
        let again = try StrataBinary.run(["adapt", "rm", "legal", "--adapters", adapters])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("not found"), again.stderr)
        let empty = try StrataBinary.run(["adapt", "list", "--adapters", dir.appendingPathComponent("none").path])
        XCTAssertEqual(empty.status, 0)
        XCTAssertTrue(empty.stdout.contains("no adapters in"), empty.stdout)
    }

    func testGenerateWithAdapters() throws {
        try requireModel()
        let prompt = ["--temp", "0", "-n", "8", "--adapters", adapters, "The capital of France is"]
        let base = try StrataBinary.run(["generate"] + prompt)
        XCTAssertEqual(base.status, 0, base.stderr)
        let zero = try StrataBinary.run(["generate", "--adapter", "zero"] + prompt)
        XCTAssertEqual(zero.status, 0, zero.stderr)
        XCTAssertEqual(zero.stdout, base.stdout, "an adapter with B = 0 changes nothing")
        let legal = try StrataBinary.run(["generate", "--adapter", "legal:1", "--adapter", "support-zh:0.5", "--verbose"] + prompt)
        XCTAssertEqual(legal.status, 0, legal.stderr)
        XCTAssertNotEqual(legal.stdout, base.stdout, "a strong adapter changes the greedy continuation")
        XCTAssertTrue(legal.stderr.contains("adapters: legal, support-zh×0.5"), legal.stderr)
        let off = try StrataBinary.run(["generate", "--adapter", "legal:0"] + prompt)
        XCTAssertEqual(off.stdout, base.stdout, "scale 0 is the base model")
        let show = try StrataBinary.run(["adapt", "show", "support-zh", "--adapters", adapters, "--model", model])
        XCTAssertTrue(show.stdout.contains("fits:"), show.stdout + show.stderr)
    }

    func testBadAdaptersGiveClearErrors() throws {
        try requireModel()
        let cases: [([String], Int32, String)] = [
            (["--adapter", "missing"], 1, "strata adapt list"),
            (["--adapter", "legal:"], 64, "NAME:SCALE"),
            (["--adapter", "qwen-sized"], 1, "wrong base model?"),
            (["--adapter", dir.appendingPathComponent("nowhere.gguf").path], 1, "not found"),
        ]
        for (extra, status, needle) in cases {
            let r = try StrataBinary.run(["generate", "-n", "1", "--adapters", adapters] + extra + ["hi"])
            XCTAssertEqual(r.status, status, "\(extra): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(needle), "\(extra): \(r.stderr)")
        }
        let show = try StrataBinary.run(["adapt", "show", "qwen-sized", "--adapters", adapters, "--model", model])
        XCTAssertEqual(show.status, 1)
        XCTAssertTrue(show.stderr.contains("blk.0.attn_q.weight") && show.stderr.contains("[576, 576]"), show.stderr)
    }

    /// ask finds adapters through $STRATA_ADAPTERS (or ./adapters), as every scenario command does.
    func testAskWithAnAdapter() throws {
        try requireModel()
        try #"{"_id": "refund-card", "title": "Refunds", "text": "Card refunds are returned to the original card within 5 working days."}"#
            .write(to: dir.appendingPathComponent("corpus.jsonl"), atomically: true, encoding: .utf8)
        let base = ["ask", "How long do card refunds take?", "--corpus", dir.appendingPathComponent("corpus.jsonl").path,
                    "--model", model, "--no-embedder", "--no-audit", "--json"]
        let r = try StrataBinary.run(base + ["--adapter", "support-zh"], env: ["STRATA_ADAPTERS": adapters])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("\"adapter\" : \"support-zh\""), r.stdout)
        let bad = try StrataBinary.run(base + ["--adapter", "nope"], env: ["STRATA_ADAPTERS": adapters])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("adapter 'nope' not found"), bad.stderr)
    }

    // MARK: - files written by hand

    static func put<T: FixedWidthInteger>(_ v: T, _ d: inout Data) { withUnsafeBytes(of: v.littleEndian) { d.append(contentsOf: $0) } }
    static func putString(_ s: String, _ d: inout Data) { put(UInt64(s.utf8.count), &d); d.append(contentsOf: Array(s.utf8)) }

    /// A GGUF v3 LoRA adapter as llama.cpp's converter lays it out: lora_a ne [in, r], lora_b ne [r, out], F32.
    static func gguf(pairs: [(String, Int, Int)], rank: Int, alpha: Float, bValue: Float) -> Data {
        var tensors: [(String, [Int], [Float])] = []
        for (i, (name, inDim, outDim)) in pairs.enumerated() {
            tensors.append((name + ".lora_a", [inDim, rank], (0..<inDim * rank).map { Float(($0 * 7 + i) % 13) / 13 - 0.5 }))
            tensors.append((name + ".lora_b", [rank, outDim], (0..<rank * outDim).map { $0 % 3 == 0 ? bValue : -bValue }))
        }
        var d = Data("GGUF".utf8)
        put(UInt32(3), &d); put(UInt64(tensors.count), &d); put(UInt64(4), &d)
        for (k, v) in [("general.architecture", "llama"), ("general.type", "adapter"), ("adapter.type", "lora")] {
            putString(k, &d); put(UInt32(8), &d); putString(v, &d)
        }
        putString("adapter.lora.alpha", &d); put(UInt32(6), &d); put(alpha.bitPattern, &d)
        var offset = 0
        for (name, shape, values) in tensors {
            putString(name, &d); put(UInt32(shape.count), &d)
            for s in shape { put(UInt64(s), &d) }
            put(UInt32(0), &d); put(UInt64(offset), &d)
            offset += (values.count * 4 + 31) / 32 * 32
        }
        while d.count % 32 != 0 { d.append(0) }
        for (_, _, values) in tensors {
            for v in values { put(v.bitPattern, &d) }
            while d.count % 32 != 0 { d.append(0) }
        }
        return d
    }

    static func safetensors(_ tensors: [(String, [Int])]) throws -> Data {
        var header: [String: Any] = [:], body = Data(), offset = 0
        for (name, shape) in tensors {
            let n = shape.reduce(1, *)
            header[name] = ["dtype": "F32", "shape": shape, "data_offsets": [offset, offset + 4 * n]]
            for i in 0..<n { put((Float(i % 5 - 2) * 0.05).bitPattern, &body) }
            offset += 4 * n
        }
        var json = try JSONSerialization.data(withJSONObject: header)
        while json.count % 8 != 0 { json.append(0x20) }
        var d = Data()
        put(UInt64(json.count), &d)
        return d + json + body
    }
}
