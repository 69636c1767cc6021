import Foundation
import Tensor

/// Adapters bound to one loaded model, each with a user scale: the `ProjectionHook` installed for
/// one request (`Engine.withAdapters`), so one base model serves requests with different adapters
/// without reloading. Binding checks every tensor against the model and fixes the Q/K row order
/// of PEFT weights for llama; applying adds s·B·(A·x) after each adapted projection.
public final class AdapterSet: ProjectionHook, @unchecked Sendable {
    /// One update ready to apply: A (rank × inDim), B (outDim × rank), s = adapter scale × user scale.
    struct Update {
        let a: [Float], b: [Float]
        let rank: Int, inDim: Int, outDim: Int
        let scale: Float
    }

    /// The adapters and user scales, in the order given.
    public let entries: [(name: String, scale: Float)]
    /// Updates per (layer, projection), several when adapters overlap: index layer·7 + projection.
    let updates: [[Update]]
    let modelID: ObjectIdentifier
    private var scratch: UnsafeMutablePointer<Float>
    private var scratchCount: Int

    /// Checks every adapter against `model` and prepares its updates.
    public init(model: DecoderModel, adapters: [(adapter: LoRAAdapter, scale: Float)]) throws {
        let c = model.config, modelName = URL(fileURLWithPath: model.file.path).lastPathComponent
        var table = [[Update]](repeating: [], count: c.layerCount * Projection.allCases.count)
        var maxRank = 1
        for (adapter, userScale) in adapters {
            guard userScale.isFinite else { throw AdapterError.badSpec("adapter '\(adapter.name)': the scale must be a finite number (got \(userScale))") }
            if let arch = adapter.architecture, let modelArch = model.file.architecture, arch != modelArch {
                throw AdapterError.architectureMismatch(adapter: adapter.name, adapterArchitecture: arch, modelArchitecture: modelArch)
            }
            let permute = adapter.huggingFaceRowOrder && model.file.architecture == "llama"
            for p in adapter.pairs {
                guard let base = model.file.tensors[p.tensor], p.layer < c.layerCount else {
                    throw AdapterError.tensorNotInModel(adapter: adapter.name, tensor: p.tensor, model: modelName)
                }
                let cols = base.shape[0], rows = base.shape.count > 1 ? base.shape[1] : 1
                guard p.inDim == cols, p.outDim == rows else {
                    throw AdapterError.shapeMismatch(adapter: adapter.name, tensor: p.tensor,
                                                     adapterShape: "lora_a [\(p.inDim), \(p.rank)] · lora_b [\(p.rank), \(p.outDim)] → [\(p.inDim), \(p.outDim)]",
                                                     modelShape: "[\(cols), \(rows)]")
                }
                let b = permute ? LoRANames.permuteForLlama(p.b, projection: p.projection, rank: p.rank, heads: c.headCount, kvHeads: c.kvHeadCount) : p.b
                table[Self.slot(p.layer, p.projection)].append(
                    Update(a: p.a, b: b, rank: p.rank, inDim: p.inDim, outDim: p.outDim, scale: adapter.scale(of: p) * userScale))
                maxRank = max(maxRank, p.rank)
            }
        }
        entries = adapters.map { ($0.adapter.name, $0.scale) }
        updates = table
        modelID = ObjectIdentifier(model)
        scratchCount = 64 * maxRank
        scratch = .allocate(capacity: scratchCount)
    }

    deinit { scratch.deallocate() }

    static func slot(_ layer: Int, _ p: Projection) -> Int {
        layer * Projection.allCases.count + Projection.allCases.firstIndex(of: p)!
    }

    /// "name×scale, ..." for logs.
    public var summary: String { entries.map { $0.scale == 1 ? $0.name : "\($0.name)×\($0.scale)" }.joined(separator: ", ") }

    public func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, inDim: Int,
                      y: UnsafeMutablePointer<Float>, outDim: Int, tokens: Int) {
        let list = updates[Self.slot(layer, projection)]
        for u in list {
            precondition(u.inDim == inDim && u.outDim == outDim, "adapter bound to another model")
            if tokens * u.rank > scratchCount {
                scratch.deallocate()
                scratchCount = tokens * u.rank
                scratch = .allocate(capacity: scratchCount)
            }
            u.a.withUnsafeBufferPointer { a in
                u.b.withUnsafeBufferPointer { b in
                    LoRAKernel.apply(a: a.baseAddress!, b: b.baseAddress!, rank: u.rank, inDim: inDim, outDim: outDim,
                                     scale: u.scale, x: x, y: y, tokens: tokens, tmp: scratch)
                }
            }
        }
    }
}

/// y[T × out] += s · (x[T × in] · Aᵀ) · Bᵀ, with A (r × in) and B (out × r) row-major.
public enum LoRAKernel {
    /// Two small sgemm calls through the low rank: 2·T·r·(in + out) flops instead of forming B·A.
    @inline(__always)
    public static func apply(a: UnsafePointer<Float>, b: UnsafePointer<Float>, rank: Int, inDim: Int, outDim: Int, scale: Float,
                             x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, tokens: Int, tmp: UnsafeMutablePointer<Float>) {
        BLAS.gemm(m: tokens, n: rank, k: inDim, a: x, lda: inDim, b: a, ldb: inDim, transB: true, c: tmp, ldc: rank)
        BLAS.gemm(m: tokens, n: outDim, k: rank, a: tmp, lda: rank, b: b, ldb: rank, transB: true, c: y, ldc: outDim,
                  alpha: scale, beta: 1)
    }

    /// The plain reference: the same sum in double precision, loop by loop.
    public static func reference(a: UnsafePointer<Float>, b: UnsafePointer<Float>, rank: Int, inDim: Int, outDim: Int, scale: Float,
                                 x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, tokens: Int) {
        var h = [Double](repeating: 0, count: rank)
        for t in 0..<tokens {
            for r in 0..<rank {
                var s = 0.0
                for i in 0..<inDim { s += Double(a[r * inDim + i]) * Double(x[t * inDim + i]) }
                h[r] = s
            }
            for o in 0..<outDim {
                var s = 0.0
                for r in 0..<rank { s += Double(b[o * rank + r]) * h[r] }
                y[t * outDim + o] += Float(Double(scale) * s)
            }
        }
    }
}

extension Engine {
    /// Runs `body` with `adapters` installed as the model's hook (nil: the base model), restoring
    /// the previous hook after. The engine runs one generation at a time, so the choice is per request.
    public func withAdapters<R>(_ adapters: AdapterSet?, _ body: () throws -> R) throws -> R {
        if let adapters, adapters.modelID != ObjectIdentifier(model) {
            throw AdapterError.badSpec("the adapter set was bound to another model — bind it with AdapterSet(model: engine.model, ...)")
        }
        let previous = model.hook
        model.hook = adapters
        defer { model.hook = previous }
        return try body()
    }
}
