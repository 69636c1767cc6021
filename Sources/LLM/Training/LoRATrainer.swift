import Foundation
import Tensor

/// What a training run is: the adapter's shape, the data layout and the optimiser settings.
/// Recorded in every checkpoint so that `--resume` continues the same run.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var rank: Int
    public var alpha: Float
    /// llama.cpp names: attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down.
    public var targets: [String]
    /// Tokens per training sequence.
    public var length: Int
    /// Sequences per optimiser step.
    public var batch: Int
    public var learningRate: Float
    public var steps: Int
    public var warmupSteps: Int
    public var weightDecay: Float
    public var clipNorm: Float
    public var seed: UInt64

    public init(rank: Int, alpha: Float, targets: [String], length: Int, batch: Int, learningRate: Float, steps: Int,
                warmupSteps: Int, weightDecay: Float = 0, clipNorm: Float = 1, seed: UInt64 = 1) {
        self.rank = rank; self.alpha = alpha; self.targets = targets; self.length = length; self.batch = batch
        self.learningRate = learningRate; self.steps = steps; self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay; self.clipNorm = clipNorm; self.seed = seed
    }

    /// The projections named by `targets`; throws naming an unknown one.
    public func projections() throws -> [Projection] {
        try targets.map { name in
            guard let p = Projection.allCases.first(where: { LoRANames.ggufName($0) == name }) else {
                throw TrainingError.unknownTarget(name, known: Projection.allCases.map(LoRANames.ggufName))
            }
            return p
        }
    }
}

/// Why a training run stopped or could not start.
public enum TrainingError: Error, LocalizedError {
    /// A projection name not among llama.cpp's.
    case unknownTarget(String, known: [String])
    /// An option out of range.
    case invalidOption(String)
    /// The loss or the gradients became NaN or infinite: the step was not applied.
    case diverged(step: Int, loss: Double, learningRate: Float)
    /// A checkpoint that cannot be read.
    case badCheckpoint(path: String, detail: String)
    /// A checkpoint of a different run.
    case checkpointMismatch(path: String, detail: String)

    public var errorDescription: String? {
        switch self {
        case .unknownTarget(let n, let known): "unknown target '\(n)' — use some of \(known.joined(separator: ","))"
        case .invalidOption(let m): m
        case .diverged(let step, let loss, let lr):
            "the loss \(loss.isFinite ? String(format: "exploded to %.2f, worse than a uniform guess,", loss) : loss.isNaN ? "became NaN" : "became infinite") at step \(step) (learning rate \(lr)) — the learning rate is too high"
        case .badCheckpoint(let p, let d): "cannot read the checkpoint \(p): \(d) — delete it to start over"
        case .checkpointMismatch(let p, let d): "the checkpoint \(p) is from a different run (\(d)) — give the same options as that run, or delete it to start over"
        }
    }
}

/// The training loop: batches from the packed sequences, forward and backward through
/// `LoRATrainingModel`, AdamW, held-out loss, checkpoints.
public final class LoRATrainer: @unchecked Sendable {
    public let options: TrainingOptions
    public let lora: LoRAParameters
    public let network: LoRATrainingModel
    public var optimizer: AdamW
    let train: [[Int32]]
    let heldOut: [[Int32]]
    /// Sequences per forward/backward call: bounds the activations kept for the backward.
    public let microBatch: Int
    /// Optimiser steps done; the next batch starts at sequence step × batch (mod the data).
    public private(set) var step = 0
    public private(set) var tokensSeen = 0
    public private(set) var lastLoss = Double.nan
    public var lastHeldOutLoss: Double?

    public init(model: DecoderModel, pool: ThreadPool, options o: TrainingOptions, train: [[Int32]], heldOut: [[Int32]]) throws {
        guard o.rank > 0 else { throw TrainingError.invalidOption("--rank must be at least 1 (got \(o.rank)) — 8 or 16 is usual") }
        guard o.length >= 2, o.batch >= 1, o.steps >= 1 else {
            throw TrainingError.invalidOption("--seq must be ≥ 2, --batch and --steps ≥ 1 (got \(o.length), \(o.batch), \(o.steps))")
        }
        guard o.learningRate > 0, o.learningRate.isFinite else { throw TrainingError.invalidOption("--lr must be a positive number (got \(o.learningRate))") }
        guard o.length <= model.config.contextLength else {
            throw TrainingError.invalidOption("--seq \(o.length) exceeds the model's context of \(model.config.contextLength)")
        }
        guard !train.isEmpty, train.allSatisfy({ $0.count == o.length + 1 }) else {
            throw TrainingError.invalidOption("no training sequences of \(o.length + 1) tokens")
        }
        let targets = try o.projections()
        guard !targets.isEmpty else { throw TrainingError.invalidOption("--targets is empty — e.g. attn_q,attn_v") }
        options = o
        self.train = train; self.heldOut = heldOut.filter { $0.count == o.length + 1 }
        lora = LoRAParameters(config: model.config, rank: o.rank, alpha: o.alpha, targets: targets, seed: o.seed)
        // ~1024 rows per call keeps the cached activations near 1.3 GB for SmolLM2-135M.
        microBatch = max(1, min(o.batch, 1024 / o.length))
        network = LoRATrainingModel(model: model, lora: lora, maxRows: microBatch * o.length, maxLength: o.length, pool: pool)
        optimizer = AdamW(parameterCount: lora.count, learningRate: o.learningRate, warmupSteps: o.warmupSteps,
                          totalSteps: o.steps, weightDecay: o.weightDecay, clipNorm: o.clipNorm)
    }

    public var done: Bool { step >= options.steps }

    /// One optimiser step over the next `batch` sequences; returns the mean loss and the
    /// gradient norm. Throws `diverged` without touching the weights when either is not finite.
    @discardableResult
    public func trainStep() throws -> (loss: Double, gradientNorm: Float) {
        let o = options, T = o.length
        lora.zeroGradients()
        var nll = 0.0, i = 0
        let scale = 1 / Float(o.batch * T)
        while i < o.batch {
            let n = min(microBatch, o.batch - i)
            var tokens: [Int32] = []
            tokens.reserveCapacity(n * (T + 1))
            for j in 0..<n { tokens += train[(step * o.batch + i + j) % train.count] }
            nll += network.run(tokens: tokens, sequences: n, length: T, backward: true, gradScale: scale)
            i += n
        }
        let loss = nll / Double(o.batch * T)
        let norm = AdamW.norm(lora.gradients, count: lora.count)
        // A loss more than 1 nat above both a uniform guess, log(vocabulary), and this run's
        // first loss means the previous update blew the weights up (a too-high rate can
        // saturate every norm so that the loss never becomes NaN). Either way the weights
        // before that update are the last good state.
        let uniform = log(Double(network.model.config.vocabularySize))
        if firstLoss == nil, loss.isFinite { firstLoss = loss }
        guard loss.isFinite, norm.isFinite, loss <= max(uniform, firstLoss ?? uniform) + 1 else {
            let lr = optimizer.rate(at: max(0, step - 1))
            restoreLastGood()
            throw TrainingError.diverged(step: step + 1, loss: loss, learningRate: lr)
        }
        keepLastGood()
        optimizer.update(lora.values, lora.gradients, count: lora.count)
        step += 1
        tokensSeen += o.batch * T
        lastLoss = loss
        return (loss, norm)
    }

    /// The weights, moments and counters before the latest update (a few MB for rank 8).
    /// The loss of the first step this trainer ran, the reference for divergence.
    private var firstLoss: Double?
    private var lastGood: (values: [Float], m: [Float], v: [Float], step: Int, tokens: Int, loss: Double)?

    private func keepLastGood() {
        lastGood = (lora.valueArray, optimizer.m, optimizer.v, step, tokensSeen, lastLoss)
    }

    private func restoreLastGood() {
        guard let g = lastGood else { return }
        for i in 0..<lora.count { lora.values[i] = g.values[i] }
        optimizer.m = g.m; optimizer.v = g.v; optimizer.step = g.step
        step = g.step; tokensSeen = g.tokens; lastLoss = g.loss
    }

    /// Mean loss per token on the held-out sequences (nil when there are none).
    public func heldOutLoss() -> Double? {
        guard !heldOut.isEmpty else { return nil }
        let T = options.length
        var nll = 0.0, i = 0
        while i < heldOut.count {
            let n = min(microBatch, heldOut.count - i)
            nll += network.run(tokens: Array(heldOut[i..<i + n].joined()), sequences: n, length: T, backward: false)
            i += n
        }
        let loss = nll / Double(heldOut.count * T)
        lastHeldOutLoss = loss
        return loss
    }

    // MARK: checkpoints

    /// What a checkpoint records besides the weights and moments.
    struct CheckpointHeader: Codable {
        var version = 1
        var options: TrainingOptions
        var model: String
        var step: Int
        var tokensSeen: Int
        var lastLoss: Double?
        var lastHeldOutLoss: Double?
        /// Where the data order stands: batches are drawn in the seed's shuffled order from
        /// sequence step × batch, so the seed and the step are the whole random state.
        var dataSeed: UInt64
        var dataCursor: Int
        var parameters: Int
    }
    static let magic = "STRATA-LORA-CHECKPOINT\n"

    /// Writes the LoRA weights, AdamW moments, step and data position to `path` atomically
    /// (a temporary file renamed over it), so an interrupted write never loses the last one.
    public func saveCheckpoint(to path: String, model: String) throws {
        let header = CheckpointHeader(options: options, model: model, step: step, tokensSeen: tokensSeen,
                                      lastLoss: lastLoss.isFinite ? lastLoss : nil, lastHeldOutLoss: lastHeldOutLoss,
                                      dataSeed: options.seed, dataCursor: step * options.batch, parameters: lora.count)
        var data = Data(Self.magic.utf8)
        data.append(try JSONEncoder().encode(header))
        data.append(0x0A)
        func append(_ p: UnsafePointer<Float>, _ n: Int) { data.append(UnsafeBufferPointer(start: p, count: n)) }
        append(lora.values, lora.count)
        optimizer.m.withUnsafeBufferPointer { append($0.baseAddress!, lora.count) }
        optimizer.v.withUnsafeBufferPointer { append($0.baseAddress!, lora.count) }
        let tmp = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: tmp))
        guard rename(tmp, path) == 0 else {
            throw TrainingError.badCheckpoint(path: path, detail: "cannot write it: \(String(cString: strerror(errno)))")
        }
    }

    /// Restores a checkpoint of this same run (options and model must match).
    public func loadCheckpoint(from path: String, model: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else { throw TrainingError.badCheckpoint(path: path, detail: "it cannot be read") }
        let magic = Data(Self.magic.utf8)
        guard data.count > magic.count, data.prefix(magic.count) == magic,
              let nl = data[magic.count...].firstIndex(of: 0x0A) else {
            throw TrainingError.badCheckpoint(path: path, detail: "not a Strata LoRA checkpoint")
        }
        let header: CheckpointHeader
        do { header = try JSONDecoder().decode(CheckpointHeader.self, from: data[magic.count..<nl]) }
        catch { throw TrainingError.badCheckpoint(path: path, detail: "its header is damaged") }
        guard header.model == model else {
            throw TrainingError.checkpointMismatch(path: path, detail: "trained on \(header.model), not \(model)")
        }
        // The learning-rate schedule may change on resume (e.g. a lower --lr after a NaN);
        // what shapes the weights and the data order may not.
        let h = header.options, o = options
        guard h.rank == o.rank, h.alpha == o.alpha, h.targets == o.targets, h.length == o.length, h.batch == o.batch, h.seed == o.seed else {
            throw TrainingError.checkpointMismatch(path: path, detail: "it has rank \(h.rank), alpha \(h.alpha), targets \(h.targets.joined(separator: ",")), seq \(h.length), batch \(h.batch), seed \(h.seed)")
        }
        let n = lora.count, body = data[(nl + 1)...]
        guard header.parameters == n, body.count == 3 * n * 4 else {
            throw TrainingError.badCheckpoint(path: path, detail: "it holds \(body.count) bytes of weights, expected \(3 * n * 4) (truncated?)")
        }
        body.withUnsafeBytes { raw in
            func f(_ i: Int) -> Float { raw.loadUnaligned(fromByteOffset: 4 * i, as: Float.self) }
            for i in 0..<n { lora.values[i] = f(i); optimizer.m[i] = f(n + i); optimizer.v[i] = f(2 * n + i) }
        }
        step = header.step; optimizer.step = header.step; tokensSeen = header.tokensSeen
        lastLoss = header.lastLoss ?? .nan; lastHeldOutLoss = header.lastHeldOutLoss
    }
}
