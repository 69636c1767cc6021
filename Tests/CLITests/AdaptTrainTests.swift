import Foundation
import XCTest

/// `strata adapt train` run as a user would: a short real run on SmolLM2, and every bad input
/// refused with a message that says what to do, a non-zero exit and nothing lost.
final class AdaptTrainTests: XCTestCase {
    let model = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var dir: URL!
    var adapters: String { dir.appendingPathComponent("adapters").path }
    var data: String { dir.appendingPathComponent("news.jsonl").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let story = "Shares of Acme Corp rose 3 pct to 41 dlrs after the company reported first quarter profit of 12 mln dlrs, traders said."
        let lines = (0..<12).map { i in #"{"source": "test", "text": "\#(story) Story \#(i)."}"# }
        try lines.joined(separator: "\n").write(toFile: data, atomically: true, encoding: .utf8)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func requireModel() throws {
        if !FileManager.default.fileExists(atPath: StrataBinary.root.appendingPathComponent(model).path) {
            throw XCTSkip("\(model) is absent")
        }
    }

    func train(_ extra: [String], data: String? = nil) throws -> StrataRun {
        try StrataBinary.run(["adapt", "train", "--model", model, "--data", data ?? self.data, "--name", "news",
                              "--seq", "16", "--batch", "2", "--adapters", adapters] + extra)
    }

    func adapterFiles() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: adapters)) ?? []).sorted() }

    func testShortRunWritesAdapterAndSidecar() throws {
        try requireModel()
        let r = try train(["--steps", "3", "--eval-seqs", "2", "--eval-every", "2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("step 3/3  loss"), r.stdout)
        XCTAssertTrue(r.stdout.contains("held-out loss"), r.stdout)
        XCTAssertEqual(adapterFiles(), ["news.gguf", "news.json"], "the checkpoint is removed once the adapter is written")
        let side = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: adapters + "/news.json"))) as? [String: Any])
        XCTAssertEqual(side["rank"] as? Int, 8)
        XCTAssertEqual(side["steps"] as? Int, 3)
        XCTAssertEqual(side["tokens_seen"] as? Int, 3 * 2 * 16)
        XCTAssertEqual((side["base_model_sha256"] as? String)?.count, 64)
        XCTAssertNotNil(side["held_out_perplexity"])
        let list = try StrataBinary.run(["adapt", "list", "--adapters", adapters])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stdout.contains("HELD-OUT PPL"), list.stdout)
        let show = try StrataBinary.run(["adapt", "show", "news", "--adapters", adapters, "--model", model])
        XCTAssertEqual(show.status, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("held-out:    perplexity"), show.stdout)
        XCTAssertTrue(show.stdout.contains("fits:"), show.stdout)
    }

    /// F16 tensors by default (half the bytes); --tensor-type f32 and 'adapt convert' give the
    /// other, with the sidecar following the adapter.
    func testTensorTypeAndConvert() throws {
        try requireModel()
        let r = try train(["--steps", "1", "--eval-seqs", "1", "--rank", "4", "--targets", "attn_q,ffn_down"])
        XCTAssertEqual(r.status, 0, r.stderr)
        func sidecar(_ name: String) throws -> [String: Any] {
            try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: adapters + "/\(name).json"))) as? [String: Any])
        }
        func size(_ name: String) throws -> Int { try FileManager.default.attributesOfItem(atPath: adapters + "/\(name).gguf")[.size] as! Int }
        XCTAssertEqual(try sidecar("news")["tensor_type"] as? String, "f16")
        let up = try StrataBinary.run(["adapt", "convert", "news", "--name", "news32", "--tensor-type", "f32", "--adapters", adapters])
        XCTAssertEqual(up.status, 0, up.stderr)
        XCTAssertTrue(up.stdout.contains("news32.gguf (F32"), up.stdout)
        XCTAssertEqual(try sidecar("news32")["tensor_type"] as? String, "f32")
        XCTAssertEqual(try sidecar("news32")["steps"] as? Int, 1, "the training record is kept")
        // 4 × (576 + 576) + 4 × (1536 + 576) parameters a layer, 30 layers: 2 bytes each more in
        // F32 (every tensor a multiple of the 32-byte alignment in both, so no padding differs).
        XCTAssertEqual(try size("news32") - size("news"), 2 * 30 * 4 * (576 + 576 + 1536 + 576))
        let down = try StrataBinary.run(["adapt", "convert", "news32", "--name", "news16", "--adapters", adapters])
        XCTAssertEqual(down.status, 0, down.stderr)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: adapters + "/news16.gguf")),
                       try Data(contentsOf: URL(fileURLWithPath: adapters + "/news.gguf")),
                       "F16 → F32 → F16 gives back the same file")
        let bad = try StrataBinary.run(["adapt", "convert", "news", "--name", "x", "--tensor-type", "q8_0", "--adapters", adapters])
        XCTAssertEqual(bad.status, 64)
        XCTAssertTrue(bad.stderr.contains("--tensor-type must be f16 or f32"), bad.stderr)
    }

    func testNoUsableText() throws {
        try requireModel()
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try #"{"text": ""}\#n{"text": "   "}\#n"#.write(toFile: empty, atomically: true, encoding: .utf8)
        let r = try train(["--steps", "2"], data: empty)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no usable text"), r.stderr)
        XCTAssertEqual(adapterFiles(), [])
    }

    func testRankZeroAndUnknownTarget() throws {
        let rank = try train(["--rank", "0"])
        XCTAssertEqual(rank.status, 64)
        XCTAssertTrue(rank.stderr.contains("--rank must be between 1 and 256 (got 0)"), rank.stderr)
        let target = try train(["--targets", "attn_q,attn_z"])
        XCTAssertEqual(target.status, 64)
        XCTAssertTrue(target.stderr.contains("unknown target 'attn_z'") && target.stderr.contains("ffn_down"), target.stderr)
        XCTAssertEqual(adapterFiles(), [])
    }

    /// A learning rate of 1e6 blows the weights up after one update: the run stops, says so,
    /// writes no adapter and keeps the weights from before that update as the checkpoint.
    func testDivergingLearningRateStopsAndKeepsLastGoodState() throws {
        try requireModel()
        let r = try train(["--steps", "6", "--lr", "1e6", "--warmup", "1"])
        XCTAssertEqual(r.status, 1, r.stdout)
        XCTAssertTrue(r.stderr.contains("the learning rate is too high"), r.stderr)
        XCTAssertTrue(r.stderr.contains("--resume --lr"), r.stderr)
        XCTAssertEqual(adapterFiles(), ["news.ckpt"])
        // Starting over without --resume would overwrite it: refused.
        let again = try train(["--steps", "6"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
        // A resume with another rank is a different run: refused, the checkpoint kept.
        let other = try train(["--steps", "6", "--rank", "4", "--resume"])
        XCTAssertEqual(other.status, 1)
        XCTAssertTrue(other.stderr.contains("different run"), other.stderr)
        // Resuming with a sane rate finishes the run.
        let resumed = try train(["--steps", "3", "--lr", "1e-4", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed"), resumed.stdout)
        XCTAssertEqual(adapterFiles(), ["news.gguf", "news.json"])
    }

    /// Ctrl-C during training saves a checkpoint and exits 130; --resume finishes the run.
    func testInterruptSavesCheckpointAndResumeFinishes() throws {
        try requireModel()
        let p = Process()
        p.executableURL = StrataBinary.url
        p.currentDirectoryURL = StrataBinary.root
        p.arguments = ["adapt", "train", "--model", model, "--data", data, "--name", "news", "--seq", "8", "--batch", "1",
                       "--steps", "8", "--eval-seqs", "2", "--adapters", adapters]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        // Wait for the first step line, then interrupt.
        var seen = Data()
        while !String(decoding: seen, as: UTF8.self).contains("step 1/8 ") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen.append(chunk)
        }
        kill(p.processIdentifier, SIGINT)
        seen.append(out.fileHandleForReading.readDataToEndOfFile())
        p.waitUntilExit()
        let text = String(decoding: seen, as: UTF8.self)
        XCTAssertEqual(p.terminationStatus, 130, text)
        XCTAssertTrue(text.contains("interrupted at step"), text)
        XCTAssertEqual(adapterFiles(), ["news.ckpt"])
        let resumed = try train(["--seq", "8", "--batch", "1", "--steps", "8", "--eval-seqs", "2", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stdout.contains("resumed") && resumed.stdout.contains("step 8/8 "), resumed.stdout)
        XCTAssertEqual(adapterFiles(), ["news.gguf", "news.json"])
    }
}
