import Foundation
import Knowledge
import LLM
import Synchronization

/// Set by Ctrl-C; the training loop saves a checkpoint at the end of the step and exits.
let trainingInterrupted = Atomic<Bool>(false)

/// `strata adapt train`: trains a LoRA adapter on text and saves it where `--adapter NAME` finds it.
struct AdaptTrainCommand: CLICommand {
    static let name = "adapt train"
    static let summary = "train a LoRA adapter on text (next-token loss, AdamW)"
    static let usage = """
    Usage: strata adapt train --name NAME --data PATH [--data PATH ...] [--model PATH]
                              [--rank 8] [--alpha 16] [--targets attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down]
                              [--seq 256] [--batch 8] [--lr 2e-4] [--steps 400] [--eval FILE] [--resume]
                              [--tensor-type f16|f32]

    Data: .jsonl files (a "text" field per line), .txt or .md files, or folders of them. The
    documents are tokenized, joined with EOS between them, cut into sequences of --seq tokens
    and shuffled with --seed. The base model stays frozen; only the LoRA matrices on --targets
    are trained (A random, B zero, so training starts from the base model).

    Every --eval-every steps the held-out loss is measured on --eval-seqs sequences of --eval
    (without --eval, on sequences held back from the training data). Every --checkpoint-every
    steps, on Ctrl-C and when the loss turns NaN, the run is saved to ADAPTERS/NAME.ckpt;
    --resume continues it. The result is ADAPTERS/NAME.gguf (llama.cpp's LoRA format, tensors
    in F16 unless --tensor-type f32) and ADAPTERS/NAME.json (base model and data checksums,
    settings, losses).
    """
    static let defaultTargets = "attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down"
    static let options: [OptionSpec] = [
        .value("name", "NAME", "adapter name (written to ADAPTERS/NAME.gguf)"),
        .value("data", "PATH", "training text: .jsonl/.txt/.md file or folder (repeatable)"),
        .value("model", "PATH", "base GGUF model (default: \(ModelDefaults.path))"),
        .value("rank", "R", "LoRA rank (default 8)"),
        .value("alpha", "A", "LoRA alpha; the update is scaled by alpha/rank (default 2 × rank)"),
        .value("targets", "LIST", "projections to adapt (default \(defaultTargets); also ffn_gate)"),
        .value("seq", "N", "tokens per training sequence (default 256)"),
        .value("batch", "N", "sequences per step (default 8)"),
        .value("lr", "RATE", "peak learning rate (default 2e-4)"),
        .value("steps", "N", "optimiser steps (default 400)"),
        .value("warmup", "N", "linear warm-up steps before the cosine decay (default steps/20)"),
        .value("weight-decay", "W", "AdamW weight decay (default 0)"),
        .value("clip", "NORM", "clip the gradient's global norm to this (default 1)"),
        .value("seed", "N", "seed for the data order and A's initialisation (default 1)"),
        .value("eval", "PATH", "held-out text, same kinds as --data"),
        .value("eval-every", "K", "held-out loss every K steps (default 50)"),
        .value("eval-seqs", "N", "held-out sequences scored each time (default 16)"),
        .value("checkpoint-every", "K", "save a checkpoint every K steps (default 50)"),
        .flag("resume", "continue from ADAPTERS/NAME.ckpt"),
        .value("threads", "T", "compute threads (default 2)"),
        tensorTypeOption,
        adaptersOption,
    ]

    static func run(_ args: ParsedArguments) throws -> Int32 {
        let c = name
        guard args.positionals.isEmpty else { throw CLIError.usage("unexpected argument '\(args.positionals[0])'", command: c) }
        guard let adapterName = args.value("name"), !adapterName.isEmpty, !adapterName.contains("/"), !adapterName.hasPrefix(".") else {
            throw CLIError.usage("give the adapter a name with --name NAME (no '/'), e.g. --name finance-en", command: c)
        }
        let dataPaths = args.all("data")
        guard !dataPaths.isEmpty else { throw CLIError.usage("give the training text with --data PATH (.jsonl, .txt, .md or a folder)", command: c) }
        let rank = try args.int("rank", default: 8)
        guard rank >= 1, rank <= 256 else { throw CLIError.usage("--rank must be between 1 and 256 (got \(rank)) — 8 or 16 is usual", command: c) }
        let alpha = try args.double("alpha", default: Double(2 * rank))
        guard alpha > 0 else { throw CLIError.usage("--alpha must be positive (got \(alpha))", command: c) }
        let targets = (args.value("targets") ?? defaultTargets).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let seq = try args.int("seq", default: 256), batch = try args.int("batch", default: 8), steps = try args.int("steps", default: 400)
        guard seq >= 8, seq <= 4096 else { throw CLIError.usage("--seq must be between 8 and 4096 (got \(seq))", command: c) }
        guard batch >= 1, steps >= 1 else { throw CLIError.usage("--batch and --steps must be at least 1", command: c) }
        let lr = try args.double("lr", default: 2e-4)
        guard lr > 0 else { throw CLIError.usage("--lr must be positive (got \(lr)), e.g. 2e-4", command: c) }
        let options = TrainingOptions(rank: rank, alpha: Float(alpha), targets: targets, length: seq, batch: batch,
                                      learningRate: Float(lr), steps: steps,
                                      warmupSteps: try args.int("warmup", default: max(1, steps / 20)),
                                      weightDecay: Float(try args.double("weight-decay", default: 0)),
                                      clipNorm: Float(try args.double("clip", default: 1)),
                                      seed: UInt64(max(0, try args.int("seed", default: 1))))
        do { _ = try options.projections() } catch { throw CLIError.usage(error.localizedDescription, command: c) }
        let evalEvery = max(1, try args.int("eval-every", default: 50)), evalSeqs = max(1, try args.int("eval-seqs", default: 16))
        let checkpointEvery = max(1, try args.int("checkpoint-every", default: 50))
        let threads = try args.int("threads", default: 2)
        guard (1...256).contains(threads) else { throw CLIError.usage("--threads must be between 1 and 256", command: c) }
        let tensorType = try adapterTensorType(args, command: c)

        let model = args.value("model") ?? ModelDefaults.path
        guard FileManager.default.fileExists(atPath: model) else {
            throw CLIError.failed("model file \(model) not found — pass --model PATH to a .gguf file")
        }
        let library = AdapterWiring.library(args)
        try FileManager.default.createDirectory(at: library.directory, withIntermediateDirectories: true)
        let base = library.directory.appendingPathComponent(adapterName).path
        let checkpoint = base + ".ckpt"
        let hasCheckpoint = FileManager.default.fileExists(atPath: checkpoint)
        if args.has("resume") && !hasCheckpoint {
            throw CLIError.failed("nothing to resume: \(checkpoint) does not exist — run without --resume to start")
        }
        if !args.has("resume") && hasCheckpoint {
            throw CLIError.failed("\(checkpoint) holds an unfinished run — add --resume to continue it, or delete it to start over")
        }

        // Data.
        let dataFiles = try dataPaths.flatMap { try TrainingData.files($0) }
        let documents = try TrainingData.documents(dataFiles)
        let engine = try Engine(path: model, context: 16, threads: threads)
        guard seq <= engine.config.contextLength else {
            throw CLIError.usage("--seq \(seq) exceeds the model's context of \(engine.config.contextLength)", command: c)
        }
        let heldBack = args.value("eval") == nil ? evalSeqs : 0
        let packed = try TrainingData.pack(documents, tokenizer: engine.tokenizer, length: seq, seed: options.seed,
                                           limit: steps * batch + heldBack)
        var train = packed.sequences, heldOut: [[Int32]] = []
        var evalFiles: [String] = []
        if let evalPath = args.value("eval") {
            evalFiles = try TrainingData.files(evalPath)
            heldOut = try TrainingData.pack(try TrainingData.documents(evalFiles), tokenizer: engine.tokenizer, length: seq,
                                            seed: options.seed, limit: evalSeqs).sequences
        } else if train.count > heldBack * 2 {
            heldOut = Array(train.suffix(heldBack)); train.removeLast(heldBack)
        }
        let epochs = Double(steps * batch) / Double(train.count)
        writeOut(String(format: "data: %d documents in %d file(s); %d of them tokenized into %d sequences of %d tokens%@\n",
                        documents.count, dataFiles.count, packed.documentsUsed, train.count, seq,
                        epochs > 1 ? String(format: " (%.1f passes over them)", epochs) : ""))
        writeOut("held-out: \(heldOut.count) sequences from \(args.value("eval") ?? "the training data (held back)")\n")

        let modelSHA = SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: model), options: .alwaysMapped))
        let fingerprint = URL(fileURLWithPath: model).lastPathComponent + " sha256:" + modelSHA
        let trainer: LoRATrainer
        do {
            trainer = try LoRATrainer(model: engine.model, pool: engine.pool, options: options, train: train, heldOut: heldOut)
        } catch let e as TrainingError { throw CLIError.usage(e.localizedDescription, command: c) }
        if args.has("resume") {
            try trainer.loadCheckpoint(from: checkpoint, model: fingerprint)
            writeOut("resumed \(checkpoint) at step \(trainer.step) of \(steps)\n")
        }
        writeOut("training \(trainer.lora.count) LoRA parameters (rank \(rank), alpha \(String(format: "%g", alpha)), \(targets.joined(separator: ","))) on \(URL(fileURLWithPath: model).lastPathComponent); \(trainer.microBatch) sequence(s) per pass\n")

        signal(SIGINT) { _ in trainingInterrupted.store(true, ordering: .relaxed) }
        defer { signal(SIGINT, SIG_DFL) }

        let start = Date()
        // The base model's held-out loss first (B = 0 makes the adapter a no-op): the baseline
        // every later held-out figure is read against.
        var baseHeldOut: Double?
        if trainer.step == 0, let h = trainer.heldOutLoss() {
            baseHeldOut = h
            writeOut(String(format: "step 0/%d  held-out loss %.4f  ppl %.3f (base model)\n", steps, h, exp(h)))
        }
        var trainSeconds = 0.0, trainedTokens = 0, recent: [Double] = []
        while !trainer.done {
            let t0 = Date()
            let result: (loss: Double, gradientNorm: Float)
            do { result = try trainer.trainStep() } catch let e as TrainingError {
                try trainer.saveCheckpoint(to: checkpoint, model: fingerprint)
                throw CLIError.failed("\(e.localizedDescription). The weights from before that update (after step \(trainer.step)) are saved in \(checkpoint); continue with a lower rate: the same command with --resume --lr \(String(format: "%g", lr / 10))")
            }
            let dt = Date().timeIntervalSince(t0)
            trainSeconds += dt; trainedTokens += batch * seq
            recent.append(result.loss); if recent.count > 10 { recent.removeFirst() }
            let tps = Double(trainedTokens) / trainSeconds
            let eta = Double(steps - trainer.step) * trainSeconds / Double(max(1, trainedTokens / (batch * seq)))
            writeOut(String(format: "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %@\n", trainer.step, steps, result.loss,
                            trainer.optimizer.rate(at: trainer.step - 1), result.gradientNorm, tps, duration(eta)))
            if trainer.step % evalEvery == 0 || trainer.done, let h = trainer.heldOutLoss() {
                writeOut(String(format: "step %d/%d  held-out loss %.4f  ppl %.3f\n", trainer.step, steps, h, exp(h)))
            }
            if trainer.step % checkpointEvery == 0 && !trainer.done { try trainer.saveCheckpoint(to: checkpoint, model: fingerprint) }
            if trainingInterrupted.load(ordering: .relaxed) {
                try trainer.saveCheckpoint(to: checkpoint, model: fingerprint)
                writeOut("interrupted at step \(trainer.step): saved \(checkpoint) — continue with the same command and --resume\n")
                return 130
            }
        }

        // The adapter, then the sidecar describing it, then the checkpoint is no longer needed.
        let arch = engine.file.architecture ?? "llama"
        let adapter = trainer.lora.adapter(name: adapterName, architecture: arch,
                                           baseModel: engine.file.string("general.name") ?? URL(fileURLWithPath: model).lastPathComponent)
        let ggufPath = base + ".gguf"
        try adapter.ggufWriter(architecture: arch, headCount: engine.config.headCount, kvHeadCount: engine.config.kvHeadCount,
                               tensorType: tensorType).write(to: ggufPath)
        func files(_ paths: [String]) throws -> [[String: Any]] {
            try paths.map { ["path": $0, "sha256": SHA256.hex(try Data(contentsOf: URL(fileURLWithPath: $0), options: .alwaysMapped))] }
        }
        let trainLoss = recent.isEmpty ? (trainer.lastLoss.isFinite ? trainer.lastLoss : nil) : recent.reduce(0, +) / Double(recent.count)
        var sidecar: [String: Any] = [
            "name": adapterName, "format": "gguf-lora",
            "base_model": URL(fileURLWithPath: model).lastPathComponent, "base_model_sha256": modelSHA, "architecture": arch,
            "targets": targets, "rank": rank, "alpha": alpha, "tensor_type": tensorType.description.lowercased(),
            "data": try files(dataFiles), "eval_data": try files(evalFiles),
            "seq": seq, "batch": batch, "learning_rate": lr, "warmup_steps": options.warmupSteps, "seed": Int(options.seed),
            "steps": trainer.step, "tokens_seen": trainer.tokensSeen,
            "train_seconds": (trainSeconds * 10).rounded() / 10,
            "tokens_per_second": trainSeconds > 0 ? (Double(trainedTokens) / trainSeconds).rounded() : 0,
        ]
        if let trainLoss { sidecar["final_train_loss"] = trainLoss; sidecar["final_train_loss_steps"] = recent.count }
        if let b = baseHeldOut { sidecar["base_held_out_loss"] = b; sidecar["base_held_out_perplexity"] = exp(b) }
        if let h = trainer.lastHeldOutLoss {
            sidecar["held_out_loss"] = h; sidecar["held_out_perplexity"] = exp(h); sidecar["held_out_sequences"] = heldOut.count
        }
        try JSONSerialization.data(withJSONObject: sidecar, options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: base + ".json"))
        try? FileManager.default.removeItem(atPath: checkpoint)
        writeOut(String(format: "saved %@ and %@.json (%d steps, %d tokens, %.0f s)\n", ggufPath, base, trainer.step, trainer.tokensSeen,
                        Date().timeIntervalSince(start)))
        return 0
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : "\(t / 60)m\(String(format: "%02d", t % 60))s"
    }
}

/// The sidecar `ADAPTERS/NAME.json` written by `adapt train`, when present.
enum AdapterSidecar {
    static func read(_ library: AdapterLibrary, _ name: String) -> [String: Any]? {
        let url = library.directory.appendingPathComponent(name + ".json")
        guard let data = try? Data(contentsOf: url) else { return nil }
        return try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    }

    static func heldOutPerplexity(_ library: AdapterLibrary, _ name: String) -> Double? {
        (read(library, name)?["held_out_perplexity"] as? NSNumber)?.doubleValue
    }
}
