import Foundation
import Knowledge
import LLM

/// One `adapt train` run as a library type: data preparation, the training loop with its
/// checkpoint and NaN policy, and the adapter and manifest it leaves behind. The command only
/// parses its options into a `Plan` and renders the `Event`s.
///
/// Policy: a checkpoint (`ADAPTERS/NAME.ckpt`) is saved every `checkpointEvery` steps, when
/// `shouldStop` says so (Ctrl-C) and when a step's loss turns NaN — then with the weights from
/// before that update, and an error that says how to continue with a lower rate. A run that
/// finishes writes `NAME.gguf`, then `NAME.json`, then removes the checkpoint.
public struct AdapterTraining {
    public struct Plan: Sendable {
        public var name: String
        public var model: String
        public var data: [String]
        /// Held-out text; nil: sequences held back from the training data.
        public var eval: String?
        public var options: TrainingOptions
        public var evalEvery: Int
        public var evalSequences: Int
        public var checkpointEvery: Int
        public var threads: Int
        public var resume: Bool
        public init(name: String, model: String, data: [String], eval: String?, options: TrainingOptions, evalEvery: Int,
                    evalSequences: Int, checkpointEvery: Int, threads: Int, resume: Bool) {
            self.name = name; self.model = model; self.data = data; self.eval = eval; self.options = options
            self.evalEvery = evalEvery; self.evalSequences = evalSequences; self.checkpointEvery = checkpointEvery
            self.threads = threads; self.resume = resume
        }
    }

    public enum Event: Sendable {
        /// The training text: documents read, files, documents used, sequences, passes over them.
        case data(documents: Int, files: Int, used: Int, sequences: Int, length: Int, epochs: Double)
        case heldOut(sequences: Int, source: String)
        case resumed(checkpoint: String, step: Int, steps: Int)
        case started(parameters: Int, model: String, microBatch: Int)
        /// The base model's held-out loss (B = 0 makes the adapter a no-op): the baseline.
        case baseHeldOut(loss: Double, steps: Int)
        case step(step: Int, steps: Int, loss: Double, rate: Float, gradientNorm: Float, tokensPerSecond: Double, etaSeconds: Double)
        case heldOutLoss(step: Int, steps: Int, loss: Double)
    }

    public enum Outcome: Sendable {
        case saved(adapter: String, manifest: String, steps: Int, tokens: Int, seconds: Double)
        case interrupted(step: Int, checkpoint: String)
    }

    public let plan: Plan
    public let library: AdapterLibrary
    public init(_ plan: Plan, library: AdapterLibrary) { self.plan = plan; self.library = library }

    var base: String { library.directory.appendingPathComponent(plan.name).path }
    public var checkpoint: String { base + ".ckpt" }

    /// Refuses to start over an unfinished run, or to resume without one.
    public func checkCheckpoint() throws {
        try FileManager.default.createDirectory(at: library.directory, withIntermediateDirectories: true)
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint)
        if plan.resume && !hasCheckpoint {
            throw RuntimeError.failed("nothing to resume: \(checkpoint) does not exist — run without --resume to start")
        }
        if !plan.resume && hasCheckpoint {
            throw RuntimeError.failed("\(checkpoint) holds an unfinished run — add --resume to continue it, or delete it to start over")
        }
    }

    public func run(shouldStop: () -> Bool, onEvent: (Event) -> Void) throws -> Outcome {
        try checkCheckpoint()
        let o = plan.options, seq = o.length, batch = o.batch, steps = o.steps
        let dataFiles = try plan.data.flatMap { try TrainingData.files($0) }
        let documents = try TrainingData.documents(dataFiles)
        let engine = try Engine(path: plan.model, context: 16, threads: plan.threads)
        guard seq <= engine.config.contextLength else {
            throw RuntimeError.usage("--seq \(seq) exceeds the model's context of \(engine.config.contextLength)")
        }
        let heldBack = plan.eval == nil ? plan.evalSequences : 0
        let packed = try TrainingData.pack(documents, tokenizer: engine.tokenizer, length: seq, seed: o.seed,
                                           limit: steps * batch + heldBack)
        var train = packed.sequences, heldOut: [[Int32]] = []
        var evalFiles: [String] = []
        if let evalPath = plan.eval {
            evalFiles = try TrainingData.files(evalPath)
            heldOut = try TrainingData.pack(try TrainingData.documents(evalFiles), tokenizer: engine.tokenizer, length: seq,
                                            seed: o.seed, limit: plan.evalSequences).sequences
        } else if train.count > heldBack * 2 {
            heldOut = Array(train.suffix(heldBack)); train.removeLast(heldBack)
        }
        onEvent(.data(documents: documents.count, files: dataFiles.count, used: packed.documentsUsed, sequences: train.count,
                      length: seq, epochs: Double(steps * batch) / Double(train.count)))
        onEvent(.heldOut(sequences: heldOut.count, source: plan.eval ?? "the training data (held back)"))

        let modelName = URL(fileURLWithPath: plan.model).lastPathComponent
        let modelSHA = SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: plan.model), options: .alwaysMapped))
        let fingerprint = modelName + " sha256:" + modelSHA
        let trainer: LoRATrainer
        do {
            trainer = try LoRATrainer(model: engine.model, pool: engine.pool, options: o, train: train, heldOut: heldOut)
        } catch let e as TrainingError { throw RuntimeError.usage(e.localizedDescription) }
        if plan.resume {
            try trainer.loadCheckpoint(from: checkpoint, model: fingerprint)
            onEvent(.resumed(checkpoint: checkpoint, step: trainer.step, steps: steps))
        }
        onEvent(.started(parameters: trainer.lora.count, model: modelName, microBatch: trainer.microBatch))

        let start = Date()
        var baseHeldOut: Double?
        if trainer.step == 0, let h = trainer.heldOutLoss() {
            baseHeldOut = h
            onEvent(.baseHeldOut(loss: h, steps: steps))
        }
        var trainSeconds = 0.0, trainedTokens = 0, recent: [Double] = []
        while !trainer.done {
            let t0 = Date()
            let result: (loss: Double, gradientNorm: Float)
            do { result = try trainer.trainStep() } catch let e as TrainingError {
                try trainer.saveCheckpoint(to: checkpoint, model: fingerprint)
                throw RuntimeError.failed("\(e.localizedDescription). The weights from before that update (after step \(trainer.step)) are saved in \(checkpoint); continue with a lower rate: the same command with --resume --lr \(String(format: "%g", Double(o.learningRate) / 10))")
            }
            let dt = Date().timeIntervalSince(t0)
            trainSeconds += dt; trainedTokens += batch * seq
            recent.append(result.loss); if recent.count > 10 { recent.removeFirst() }
            let eta = Double(steps - trainer.step) * trainSeconds / Double(max(1, trainedTokens / (batch * seq)))
            onEvent(.step(step: trainer.step, steps: steps, loss: result.loss, rate: trainer.optimizer.rate(at: trainer.step - 1),
                          gradientNorm: result.gradientNorm, tokensPerSecond: Double(trainedTokens) / trainSeconds, etaSeconds: eta))
            if trainer.step % plan.evalEvery == 0 || trainer.done, let h = trainer.heldOutLoss() {
                onEvent(.heldOutLoss(step: trainer.step, steps: steps, loss: h))
            }
            if trainer.step % plan.checkpointEvery == 0 && !trainer.done { try trainer.saveCheckpoint(to: checkpoint, model: fingerprint) }
            if shouldStop() {
                try trainer.saveCheckpoint(to: checkpoint, model: fingerprint)
                return .interrupted(step: trainer.step, checkpoint: checkpoint)
            }
        }

        // The adapter, then the manifest describing it, then the checkpoint is no longer needed.
        let arch = engine.file.architecture ?? "llama"
        let adapter = trainer.lora.adapter(name: plan.name, architecture: arch,
                                           baseModel: engine.file.string("general.name") ?? modelName)
        let ggufPath = base + ".gguf"
        try adapter.ggufWriter(architecture: arch, headCount: engine.config.headCount, kvHeadCount: engine.config.kvHeadCount).write(to: ggufPath)
        func files(_ paths: [String]) throws -> [AdapterManifest.DataFile] {
            try paths.map { .init(path: $0, sha256: SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: $0), options: .alwaysMapped))) }
        }
        var m = AdapterManifest()
        m.name = plan.name; m.format = "gguf-lora"
        m.baseModel = modelName; m.baseModelSHA256 = modelSHA; m.architecture = arch
        m.targets = o.targets; m.rank = o.rank; m.alpha = Double(o.alpha)
        m.data = try files(dataFiles); m.evalData = try files(evalFiles)
        m.seq = seq; m.batch = batch; m.learningRate = Double(o.learningRate); m.warmupSteps = o.warmupSteps; m.seed = Int(o.seed)
        m.steps = trainer.step; m.tokensSeen = trainer.tokensSeen
        m.trainSeconds = (trainSeconds * 10).rounded() / 10
        m.tokensPerSecond = trainSeconds > 0 ? (Double(trainedTokens) / trainSeconds).rounded() : 0
        let trainLoss = recent.isEmpty ? (trainer.lastLoss.isFinite ? trainer.lastLoss : nil) : recent.reduce(0, +) / Double(recent.count)
        if let trainLoss { m.finalTrainLoss = trainLoss; m.finalTrainLossSteps = recent.count }
        if let b = baseHeldOut { m.baseHeldOutLoss = b; m.baseHeldOutPerplexity = exp(b) }
        if let h = trainer.lastHeldOutLoss {
            m.heldOutLoss = h; m.heldOutPerplexity = exp(h); m.heldOutSequences = heldOut.count
        }
        try m.write(to: base + ".json")
        try? FileManager.default.removeItem(atPath: checkpoint)
        return .saved(adapter: ggufPath, manifest: base, steps: trainer.step, tokens: trainer.tokensSeen,
                      seconds: Date().timeIntervalSince(start))
    }
}
