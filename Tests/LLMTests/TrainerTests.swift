import XCTest
@testable import LLM
import Tensor

/// The parts of a training run around the gradients: the learning-rate schedule and clipping,
/// a loss that goes down, checkpoints that resume exactly, and the data packer.
final class TrainerTests: XCTestCase {
    func testScheduleWarmsUpThenDecays() {
        let opt = AdamW(parameterCount: 1, learningRate: 1e-3, warmupSteps: 4, totalSteps: 24)
        XCTAssertEqual(opt.rate(at: 0), 2.5e-4, accuracy: 1e-9)
        XCTAssertEqual(opt.rate(at: 3), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(opt.rate(at: 14), 1e-3 * (0.1 + 0.9 * 0.5), accuracy: 1e-7)   // half-way down the cosine
        XCTAssertEqual(opt.rate(at: 24), 1e-4, accuracy: 1e-9)                       // the floor
    }

    func testClippingBoundsTheStep() {
        var opt = AdamW(parameterCount: 2, learningRate: 0.1, warmupSteps: 1, totalSteps: 10, clipNorm: 1)
        var w: [Float] = [0, 0], g: [Float] = [30, 40]
        let norm = opt.update(&w, &g, count: 2)
        XCTAssertEqual(norm, 50, accuracy: 1e-4)
        // Adam's first step moves each weight by ≈ lr·sign(g), whatever the scale.
        XCTAssertEqual(w[0], -0.1, accuracy: 1e-4)
        XCTAssertEqual(opt.m[0], 0.1 * 30 / 50, accuracy: 1e-6, "moments see the clipped gradient")
    }

    func sequences(_ n: Int, length: Int, seed: UInt64) -> [[Int32]] {
        var rng = SplitMix64(seed: seed)
        // A learnable pattern: each token is the previous one + 1 (mod vocab).
        return (0..<n).map { _ in
            let start = Int32(rng.next() % UInt64(TinyModel.vocab))
            return (0...length).map { (start + Int32($0)) % Int32(TinyModel.vocab) }
        }
    }

    func trainer(_ model: DecoderModel, steps: Int = 30) throws -> LoRATrainer {
        let o = TrainingOptions(rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_down"], length: 8, batch: 4,
                                learningRate: 1e-2, steps: steps, warmupSteps: 2)
        return try LoRATrainer(model: model, pool: ThreadPool.shared(threads: 2), options: o,
                               train: sequences(40, length: 8, seed: 1), heldOut: sequences(8, length: 8, seed: 2))
    }

    func testLossGoesDownOnALearnablePattern() throws {
        let dir = try TempDir()
        let t = try trainer(try TinyModel.load(in: dir))
        let before = try XCTUnwrap(t.heldOutLoss())
        while !t.done { try t.trainStep() }
        let after = try XCTUnwrap(t.heldOutLoss())
        print("tiny model held-out loss \(before) → \(after)")
        XCTAssertLessThan(after, before * 0.7)
    }

    /// Stopping after 5 steps and resuming from the checkpoint gives the same step 6 as not stopping.
    func testCheckpointResumesExactly() throws {
        let dir = try TempDir()
        let model = try TinyModel.load(in: dir)
        let a = try trainer(model)
        for _ in 0..<5 { try a.trainStep() }
        let path = dir.path("run.ckpt")
        try a.saveCheckpoint(to: path, model: "tiny")
        let b = try trainer(model)
        try b.loadCheckpoint(from: path, model: "tiny")
        XCTAssertEqual(b.step, 5)
        XCTAssertEqual(b.lora.valueArray, a.lora.valueArray)
        XCTAssertEqual(b.optimizer.v, a.optimizer.v)
        let la = try a.trainStep().loss, lb = try b.trainStep().loss
        XCTAssertEqual(la, lb)
        XCTAssertEqual(a.lora.valueArray, b.lora.valueArray)
        XCTAssertThrowsError(try b.loadCheckpoint(from: path, model: "another model"))
        try Data("STRATA-LORA-CHECKPOINT\n{}\n".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try b.loadCheckpoint(from: path, model: "tiny")) { e in
            XCTAssertTrue(e.localizedDescription.contains("damaged"), e.localizedDescription)
        }
    }

    func testUnknownTargetAndRankZeroAreRefused() throws {
        let dir = try TempDir()
        let model = try TinyModel.load(in: dir)
        let data = sequences(4, length: 8, seed: 1)
        var o = TrainingOptions(rank: 0, alpha: 8, targets: ["attn_q"], length: 8, batch: 2, learningRate: 1e-3, steps: 1, warmupSteps: 1)
        XCTAssertThrowsError(try LoRATrainer(model: model, pool: ThreadPool.shared(threads: 2), options: o, train: data, heldOut: []))
        o.rank = 2; o.targets = ["attn_qq"]
        XCTAssertThrowsError(try LoRATrainer(model: model, pool: ThreadPool.shared(threads: 2), options: o, train: data, heldOut: [])) { e in
            XCTAssertTrue(e.localizedDescription.contains("unknown target 'attn_qq'"), e.localizedDescription)
        }
    }

    func testPackerPutsEOSBetweenDocumentsAndShufflesBySeed() throws {
        try Reference.require(Reference.smol)
        let engine = try Engine(path: Reference.smol, context: 16, threads: 1)
        let docs = (0..<30).map { "Document number \($0) says the market rose." }
        let a = try TrainingData.pack(docs, tokenizer: engine.tokenizer, length: 16, seed: 1)
        let b = try TrainingData.pack(docs, tokenizer: engine.tokenizer, length: 16, seed: 1)
        let c = try TrainingData.pack(docs, tokenizer: engine.tokenizer, length: 16, seed: 2)
        XCTAssertEqual(a.sequences, b.sequences)
        XCTAssertNotEqual(a.sequences, c.sequences)
        XCTAssertTrue(a.sequences.allSatisfy { $0.count == 17 })
        let eos = try XCTUnwrap(engine.tokenizer.eos)
        let eosCount = a.sequences.joined().filter { $0 == eos }.count
        XCTAssertGreaterThanOrEqual(eosCount, 25, "one EOS after each packed document")
        let limited = try TrainingData.pack(docs, tokenizer: engine.tokenizer, length: 16, seed: 1, limit: 3)
        XCTAssertEqual(limited.sequences.count, 3)
        XCTAssertLessThan(limited.documentsUsed, docs.count, "stops tokenizing once enough sequences exist")
        XCTAssertThrowsError(try TrainingData.pack(["hi"], tokenizer: engine.tokenizer, length: 64, seed: 1))
    }

    func testDataFromAFolderOfTextJSONLinesAndMarkdown() throws {
        let dir = try TempDir()
        try FileManager.default.createDirectory(atPath: dir.path("notes"), withIntermediateDirectories: true)
        try "First note.\n".write(toFile: dir.path("notes/a.txt"), atomically: true, encoding: .utf8)
        try "# Second\n\nA markdown note.".write(toFile: dir.path("notes/b.md"), atomically: true, encoding: .utf8)
        try #"{"text": "third"}\#n{"text": ""}\#n{"source": "x", "text": "fourth"}"#.write(toFile: dir.path("notes/c.jsonl"), atomically: true, encoding: .utf8)
        try "ignored".write(toFile: dir.path("notes/d.csv"), atomically: true, encoding: .utf8)
        let files = try TrainingData.files(dir.path("notes"))
        XCTAssertEqual(files.map { URL(fileURLWithPath: $0).lastPathComponent }, ["a.txt", "b.md", "c.jsonl"])
        XCTAssertEqual(try TrainingData.documents(files), ["First note.\n", "# Second\n\nA markdown note.", "third", "fourth"])
        XCTAssertThrowsError(try TrainingData.files(dir.path("notes/d.csv"))) { e in
            XCTAssertTrue(e.localizedDescription.contains("not a .jsonl, .txt or .md file"), e.localizedDescription)
        }
        try "not json".write(toFile: dir.path("bad.jsonl"), atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try TrainingData.documents([dir.path("bad.jsonl")])) { e in
            XCTAssertTrue(e.localizedDescription.contains("line 1"), e.localizedDescription)
        }
    }
}
