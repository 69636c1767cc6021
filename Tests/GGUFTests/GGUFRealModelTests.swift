import Foundation
import XCTest
import Tensor
@testable import GGUF

/// The reader on the real model files, checked against llama.cpp's own dump of their metadata.
final class GGUFRealModelTests: XCTestCase {
    static let smol = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let qwen = "models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    static let refs = "../shared/reference/llama.cpp"

    /// llama.cpp's model_meta.json for one model.
    func referenceMeta(_ dir: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(Self.refs)/\(dir)/model_meta.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func checkAgainstReference(file: GGUFFile, meta: [String: Any]) throws {
        XCTAssertEqual(Int(file.version), meta["gguf_version"] as? Int)
        XCTAssertEqual(file.tensors.count, meta["tensor_count"] as? Int)
        XCTAssertEqual(file.architecture, meta["architecture"] as? String)
        XCTAssertEqual(file.string("general.name"), meta["general.name"] as? String)
        XCTAssertEqual(file.int("general.file_type"), meta["general.file_type"] as? Int)
        let arch = try XCTUnwrap(file.architecture)
        XCTAssertEqual(file.int("\(arch).block_count"), meta["n_layer"] as? Int)
        XCTAssertEqual(file.int("\(arch).embedding_length"), meta["n_embd"] as? Int)
        XCTAssertEqual(file.int("\(arch).attention.head_count"), meta["n_head"] as? Int)
        XCTAssertEqual(file.int("\(arch).attention.head_count_kv"), meta["n_head_kv"] as? Int)
        XCTAssertEqual(file.int("\(arch).feed_forward_length"), meta["n_ff"] as? Int)
        XCTAssertEqual(file.int("\(arch).context_length"), meta["context_length"] as? Int)
        XCTAssertEqual(file.float("\(arch).rope.freq_base"), (meta["rope_freq_base"] as? Double).map(Float.init))
        XCTAssertEqual(file.float("\(arch).attention.layer_norm_rms_epsilon"),
                       (meta["rms_norm_eps"] as? Double).map(Float.init))
        XCTAssertEqual(file.stringArray("tokenizer.ggml.tokens")?.count, meta["vocab_size"] as? Int)
        XCTAssertEqual(file.string("tokenizer.ggml.model"), meta["tokenizer_model"] as? String)
        XCTAssertEqual(file.string("tokenizer.ggml.pre"), meta["tokenizer_pre"] as? String)
        XCTAssertEqual(file.int("tokenizer.ggml.bos_token_id"), meta["bos_token_id"] as? Int)
        XCTAssertEqual(file.int("tokenizer.ggml.eos_token_id"), meta["eos_token_id"] as? Int)
        XCTAssertEqual(file.bool("tokenizer.ggml.add_bos_token"), meta["add_bos_token"] as? Bool)
        XCTAssertEqual(file.string("tokenizer.chat_template"), meta["chat_template"] as? String)

        // Where the dump lists every scalar and array, compare them all.
        for (key, value) in meta["metadata_kv_scalars"] as? [String: Any] ?? [:] {
            let ours = try XCTUnwrap(file.metadata[key], "metadata \(key) missing")
            switch value {
            case let s as String: XCTAssertEqual(ours.string, s, key)
            case let b as Bool where ours.bool != nil: XCTAssertEqual(ours.bool, b, key)
            case let n as NSNumber:
                if let i = ours.int { XCTAssertEqual(i, n.intValue, key) }
                else { XCTAssertEqual(Float(try XCTUnwrap(ours.double, key)), n.floatValue, key) }
            default: XCTFail("unexpected reference value for \(key)")
            }
        }
        for (key, value) in meta["metadata_kv_arrays"] as? [String: [String: Any]] ?? [:] {
            XCTAssertEqual(file.metadata[key]?.array?.count, value["len"] as? Int, key)
        }

        let tensors = try XCTUnwrap(meta["tensors"] as? [[String: Any]])
        XCTAssertEqual(tensors.count, file.tensors.count)
        var params = 0
        for ref in tensors {
            let name = try XCTUnwrap(ref["name"] as? String)
            let t = try XCTUnwrap(file.tensor(named: name), "tensor \(name) missing")
            XCTAssertEqual(t.shape, ref["shape"] as? [Int], name)
            XCTAssertEqual(t.type.description, ref["type"] as? String, name)
            XCTAssertEqual(t.byteCount, ref["n_bytes"] as? Int, name)
            XCTAssertEqual(t.offset % file.alignment, 0, name)
            params += t.elementCount
        }
        XCTAssertEqual(params, meta["n_params"] as? Int)
        let last = try XCTUnwrap(file.tensors.max { $0.offset < $1.offset })
        XCTAssertEqual(last.offset + last.byteCount, meta["tensor_data_end_offset"] as? Int)
        XCTAssertEqual(file.fileSize, meta["file_size_bytes"] as? Int)
    }

    func testSmolLM2MatchesLlamaCpp() throws {
        let file = try GGUFFile(path: Self.smol)
        try checkAgainstReference(file: file, meta: try referenceMeta("smollm2-135m-instruct-q4_1"))
        // The data really is the weights: an F32 norm weight holds plausible values.
        let norm = try XCTUnwrap(file.tensor(named: "blk.0.attn_norm.weight"))
        let p = file.data(for: norm).assumingMemoryBound(to: Float.self)
        let values = UnsafeBufferPointer(start: p, count: norm.elementCount)
        XCTAssertTrue(values.allSatisfy { $0.isFinite && abs($0) < 100 })
        XCTAssertTrue(values.contains { $0 != 0 })
    }

    func testQwenMatchesLlamaCppWhenPresent() throws {
        guard FileManager.default.fileExists(atPath: Self.qwen) else {
            print("skipping Qwen GGUF test: \(Self.qwen) is not present (optional model)")
            throw XCTSkip("\(Self.qwen) not present")
        }
        let file = try GGUFFile(path: Self.qwen)
        try checkAgainstReference(file: file, meta: try referenceMeta("qwen2.5-coder-1.5b-instruct-q4_k_m"))
    }

    func testNotAGGUFFileSaysSo() throws {
        let path = NSTemporaryDirectory() + "not-gguf-\(UUID().uuidString).bin"
        try Data("PK\u{3}\u{4} this is a zip".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try GGUFFile(path: path)) { error in
            guard case GGUFError.notGGUF = error else { return XCTFail("got \(error)") }
            XCTAssertTrue(error.localizedDescription.contains("not a GGUF file"))
        }
        XCTAssertThrowsError(try GGUFFile(path: "/nonexistent/model.gguf")) { error in
            guard case GGUFError.cannotOpen = error else { return XCTFail("got \(error)") }
        }
    }
}
