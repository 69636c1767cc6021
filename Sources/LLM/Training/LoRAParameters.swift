import Foundation
import Tensor
import GGUF

/// The trainable LoRA weights of every adapted projection, kept in one flat float vector so
/// the optimizer, gradient clipping and checkpoints treat them as a single array.
///
/// Per adapted (layer, projection): A (rank, inDim) then B (outDim, rank), row-major, as PEFT
/// and llama.cpp's GGUF LoRA store them; the update is y += (alpha/rank) · B·(A·x).
public final class LoRAParameters: @unchecked Sendable {
    public struct Slot: Sendable {
        public let layer: Int
        public let projection: Projection
        public let inDim: Int
        public let outDim: Int
        /// Offsets of A and B in `values`.
        public let a: Int
        public let b: Int
    }

    public let rank: Int
    public let alpha: Float
    public let slots: [Slot]
    /// All A and B matrices, back to back (`count` floats; fixed addresses for the kernels).
    public let values: UnsafeMutablePointer<Float>
    /// Gradients, same layout, accumulated over a batch by the backward pass.
    public let gradients: UnsafeMutablePointer<Float>
    public let count: Int
    /// Index into `slots` per layer·7 + projection, nil where the projection is not adapted.
    let index: [Int?]

    public var scale: Float { alpha / Float(rank) }
    public var targets: [Projection] { Projection.allCases.filter { p in slots.contains { $0.projection == p } } }

    /// A random and B zero, so the adapted model starts out exactly as the base model; A is
    /// uniform in ±1/√inDim (PEFT's kaiming-uniform with a = √5) from `seed`.
    public init(config c: DecoderConfig, rank: Int, alpha: Float, targets: [Projection], seed: UInt64) {
        precondition(rank > 0 && !targets.isEmpty)
        self.rank = rank; self.alpha = alpha
        var slots: [Slot] = [], offset = 0
        var index = [Int?](repeating: nil, count: c.layerCount * Projection.allCases.count)
        for l in 0..<c.layerCount {
            for p in Projection.allCases where targets.contains(p) {
                let (inDim, outDim) = Self.shape(p, c)
                index[Self.key(l, p)] = slots.count
                slots.append(Slot(layer: l, projection: p, inDim: inDim, outDim: outDim, a: offset, b: offset + rank * inDim))
                offset += rank * inDim + outDim * rank
            }
        }
        self.slots = slots; self.index = index
        count = offset
        values = .allocate(capacity: offset); values.initialize(repeating: 0, count: offset)
        gradients = .allocate(capacity: offset); gradients.initialize(repeating: 0, count: offset)
        var rng = SplitMix64(seed: seed)
        for s in slots {
            let bound = 1 / Float(s.inDim).squareRoot()
            for i in 0..<rank * s.inDim { values[s.a + i] = (rng.nextUnit() * 2 - 1) * bound }
        }
    }

    /// (inDim, outDim) of a projection's weight.
    static func shape(_ p: Projection, _ c: DecoderConfig) -> (Int, Int) {
        switch p {
        case .q: (c.embeddingLength, c.qDim)
        case .k, .v: (c.embeddingLength, c.kvDim)
        case .o: (c.qDim, c.embeddingLength)
        case .gate, .up: (c.embeddingLength, c.feedForwardLength)
        case .down: (c.feedForwardLength, c.embeddingLength)
        }
    }

    static func key(_ layer: Int, _ p: Projection) -> Int { layer * Projection.allCases.count + Projection.allCases.firstIndex(of: p)! }

    func slot(_ layer: Int, _ p: Projection) -> Slot? { index[Self.key(layer, p)].map { slots[$0] } }

    deinit { values.deallocate(); gradients.deallocate() }

    public func zeroGradients() { gradients.update(repeating: 0, count: count) }

    /// The values as an array (checkpoints, tests).
    public var valueArray: [Float] { Array(UnsafeBufferPointer(start: values, count: count)) }
    public var gradientArray: [Float] { Array(UnsafeBufferPointer(start: gradients, count: count)) }

    /// The weights as an adapter the engine and llama.cpp load (`LoRAAdapter.ggufWriter`).
    /// Rows are already in the GGUF model's order: training ran on that model.
    public func adapter(name: String, architecture: String?, baseModel: String?) -> LoRAAdapter {
        let pairs = slots.map { s in
            LoRAPair(tensor: LoRANames.tensor(layer: s.layer, s.projection), layer: s.layer, projection: s.projection,
                     rank: rank, inDim: s.inDim, outDim: s.outDim,
                     a: Array(UnsafeBufferPointer(start: values + s.a, count: rank * s.inDim)),
                     b: Array(UnsafeBufferPointer(start: values + s.b, count: s.outDim * rank)))
        }
        return LoRAAdapter(name: name, path: "", format: .gguf, alpha: alpha, rsLoRA: false, architecture: architecture,
                           baseModel: baseModel, huggingFaceRowOrder: false, pairs: pairs)
    }
}

