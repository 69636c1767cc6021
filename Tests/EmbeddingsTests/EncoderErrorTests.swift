import XCTest
import Foundation
@testable import Embeddings
import GGUF

/// Bad model folders give clear errors, never a crash.
final class EncoderErrorTests: XCTestCase {
    /// A copy of the model folder (large files symlinked) whose JSON files a test may alter.
    private func modelCopy() throws -> String {
        _ = try Fixtures.encoder()   // skips when the model is absent
        let dir = try Fixtures.temporaryDirectory()
        let fm = FileManager.default
        try fm.createDirectory(atPath: dir + "/1_Pooling", withIntermediateDirectories: true)
        for f in ["config.json", "sentence_bert_config.json", "1_Pooling/config.json"] {
            try fm.copyItem(atPath: Fixtures.modelDir + "/" + f, toPath: dir + "/" + f)
        }
        for f in ["model.safetensors", "tokenizer.json"] {
            try fm.createSymbolicLink(atPath: dir + "/" + f, withDestinationPath: Fixtures.modelDir + "/" + f)
        }
        return dir
    }

    private func edit(_ path: String, _ change: (inout [String: Any]) -> Void) throws {
        var obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        change(&obj)
        try JSONSerialization.data(withJSONObject: obj).write(to: URL(fileURLWithPath: path))
    }

    private func assertFails(_ dir: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SentenceEncoder(directory: dir), file: file, line: line) { e in
            XCTAssertTrue(e.localizedDescription.contains(fragment), "\(e.localizedDescription)", file: file, line: line)
        }
    }

    func testCopyLoads() throws {
        let dir = try modelCopy()
        XCTAssertEqual(try SentenceEncoder(directory: dir).dimension, 384)
    }

    func testMissingFolderAndFiles() throws {
        assertFails("/nonexistent/model", "missing /nonexistent/model")
        for f in ["config.json", "tokenizer.json", "model.safetensors", "1_Pooling/config.json"] {
            let dir = try modelCopy()
            try FileManager.default.removeItem(atPath: dir + "/" + f)
            assertFails(dir, "missing \(dir)/\(f)")
        }
    }

    func testHiddenSizeMismatch() throws {
        let dir = try modelCopy()
        try edit(dir + "/config.json") { $0["hidden_size"] = 768 }
        assertFails(dir, "word_embedding_dimension 384")   // the pooling file disagrees first
        try edit(dir + "/1_Pooling/config.json") { $0["word_embedding_dimension"] = 768 }
        assertFails(dir, "config.json and model.safetensors come from different models")
    }

    func testBadConfigs() throws {
        var dir = try modelCopy()
        try edit(dir + "/config.json") { $0["num_attention_heads"] = 7 }
        assertFails(dir, "not a multiple")
        dir = try modelCopy()
        try edit(dir + "/config.json") { $0["num_hidden_layers"] = 7 }
        assertFails(dir, "encoder.layer.6")
        dir = try modelCopy()
        try edit(dir + "/1_Pooling/config.json") { $0["pooling_mode_max_tokens"] = true }
        assertFails(dir, "pooling")
        dir = try modelCopy()
        try edit(dir + "/sentence_bert_config.json") { $0["max_seq_length"] = 4096 }
        assertFails(dir, "max_seq_length 4096")
        dir = try modelCopy()
        try Data("{ not json".utf8).write(to: URL(fileURLWithPath: dir + "/config.json"))
        assertFails(dir, "not a JSON object")
        dir = try modelCopy()
        try edit(dir + "/config.json") { $0["hidden_act"] = "relu" }
        assertFails(dir, "hidden_act relu")
    }

    func testLyingSafetensorsInFolder() throws {
        let dir = try modelCopy()
        try FileManager.default.removeItem(atPath: dir + "/model.safetensors")
        var bytes: [UInt8] = [100, 0, 0, 0, 0, 0, 0, 0]
        bytes += Array(#"{"embeddings.word_embeddings.weight":{"dtype":"F32","shape":[30522,384],"data_offsets":[0,46881792]}}"#.utf8)
        bytes += [UInt8](repeating: 32, count: max(0, 108 - bytes.count))
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/model.safetensors"))
        XCTAssertThrowsError(try SentenceEncoder(directory: dir)) { e in
            XCTAssertTrue(e is SafeTensorsError, "\(e)")
        }
    }

    func testEmptyAndWhitespaceTextsEncodeAsClsSep() throws {
        let enc = try Fixtures.encoder()
        XCTAssertEqual(enc.tokenize(""), [101, 102])
        XCTAssertEqual(enc.tokenize(" \t\n"), [101, 102])
        let v = try enc.embed(["", "   "])
        XCTAssertEqual(v[0], v[1])
        let ref = try Fixtures.json("embeddings.json")["embeddings"] as! [[String: Any]]
        let empty = (ref.first { $0["id"] as? String == "empty_01" }!["embedding"] as! [Double]).map(Float.init)
        XCTAssertGreaterThan(cosine(v[0], empty), 0.9999)
    }
}
