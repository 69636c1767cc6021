import Foundation
import LLM
import Runtime

/// `strata adapt train`: trains a LoRA adapter on text and saves it where `--adapter NAME` finds it.
struct AdaptTrainCommand: CLICommand {
    static let name = "adapt train"
    static let summary = "train a LoRA adapter on text (next-token loss, AdamW)"
    static let usage = """
    Usage: strata adapt train --name NAME --data PATH [--data PATH ...] [--model PATH]
                              [--rank 8] [--alpha 16] [--targets attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down]
                              [--seq 256] [--batch 8] [--lr 2e-4] [--steps 400] [--eval FILE] [--resume]

    Data: .jsonl files (a "text" field per line), .txt or .md files, or folders of them. The
    documents are tokenized, joined with EOS between them, cut into sequences of --seq tokens
    and shuffled with --seed. The base model stays frozen; only the LoRA matrices on --targets
    are trained (A random, B zero, so training starts from the base model).

    Every --eval-every steps the held-out loss is measured on --eval-seqs sequences of --eval
    (without --eval, on sequences held back from the training data). Every --checkpoint-every
    steps, on Ctrl-C and when the loss turns NaN, the run is saved to ADAPTERS/NAME.ckpt;
    --resume continues it. The result is ADAPTERS/NAME.gguf (llama.cpp's LoRA format) and
    ADAPTERS/NAME.json (base model and data checksums, settings, losses).
    """
    static let defaultTargets = "attn_q,attn_k,attn_v,attn_output,ffn_up,ffn_down"
    static let options: [OptionSpec] = [
        .value("name", "NAME", "adapter name (written to ADAPTERS/NAME.gguf)"),
        .value("data", "PATH", "training text: .jsonl/.txt/.md file or folder (repeatable)"),
        .value("model", "PATH", "base GGUF model (default: $STRATA_MODEL, else \(ModelDefaults.path))"),
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

        let training = AdapterTraining(.init(name: adapterName, model: try args.runtime.configuration.engineModel(), data: dataPaths,
                                             eval: args.value("eval"), options: options, evalEvery: evalEvery, evalSequences: evalSeqs,
                                             checkpointEvery: checkpointEvery, threads: threads, resume: args.has("resume")),
                                       library: args.runtime.adapterLibrary)
        defer { Interruption.end() }
        let outcome = try training.run(shouldStop: { Interruption.requested }) { event in
            switch event {
            case .data(let documents, let files, let used, let sequences, let length, let epochs):
                writeOut(String(format: "data: %d documents in %d file(s); %d of them tokenized into %d sequences of %d tokens%@\n",
                                documents, files, used, sequences, length,
                                epochs > 1 ? String(format: " (%.1f passes over them)", epochs) : ""))
            case .heldOut(let n, let source): writeOut("held-out: \(n) sequences from \(source)\n")
            case .resumed(let checkpoint, let step, let steps): writeOut("resumed \(checkpoint) at step \(step) of \(steps)\n")
            case .started(let parameters, let model, let microBatch):
                Interruption.begin()   // from here Ctrl-C saves a checkpoint at the end of the step
                writeOut("training \(parameters) LoRA parameters (rank \(rank), alpha \(String(format: "%g", alpha)), \(targets.joined(separator: ","))) on \(model); \(microBatch) sequence(s) per pass\n")
            case .baseHeldOut(let h, let steps):
                writeOut(String(format: "step 0/%d  held-out loss %.4f  ppl %.3f (base model)\n", steps, h, exp(h)))
            case .step(let step, let steps, let loss, let rate, let norm, let tps, let eta):
                writeOut(String(format: "step %d/%d  loss %.4f  lr %.2e  |g| %.3f  %.0f tok/s  ETA %@\n", step, steps, loss,
                                rate, norm, tps, duration(eta)))
            case .heldOutLoss(let step, let steps, let h):
                writeOut(String(format: "step %d/%d  held-out loss %.4f  ppl %.3f\n", step, steps, h, exp(h)))
            }
        }
        switch outcome {
        case .interrupted(let step, let checkpoint):
            writeOut("interrupted at step \(step): saved \(checkpoint) — continue with the same command and --resume\n")
            return 130
        case .saved(let gguf, let manifest, let steps, let tokens, let seconds):
            writeOut(String(format: "saved %@ and %@.json (%d steps, %d tokens, %.0f s)\n", gguf, manifest, steps, tokens, seconds))
            return 0
        }
    }

    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        return t >= 3600 ? "\(t / 3600)h\(String(format: "%02d", t % 3600 / 60))m" : "\(t / 60)m\(String(format: "%02d", t % 60))s"
    }
}
