import Foundation

/// Where a forward pass's time goes, stage by stage, for `bench-llm --profile`: set
/// `DecoderModel.stageClock` and every `forward` adds each stage's elapsed time to it.
///
/// Why inside the forward pass rather than each op timed alone: a decode step of a small model
/// is mostly small ops and the pool calls between them (wake-ups, barriers, a worker spinning
/// beside the caller), and only the real sequence shows what those cost. Off (nil, the
/// product), the pass pays one untaken branch per stage.
public final class StageClock: @unchecked Sendable {
    /// The stages of `DecoderModel.forward`, in the order they run.
    public enum Stage: Int, CaseIterable, Sendable {
        case embedding, attentionNorm, qkv, rope, storeKV, attention, wo, residual, ffnNorm, gateUp, swiglu, down, outputNorm, logits

        public var label: String {
            switch self {
            case .embedding: return "embedding row + RoPE tables"
            case .attentionNorm: return "RMSNorm (attention)"
            case .qkv: return "q, k, v products (+ bias)"
            case .rope: return "RoPE q, k"
            case .storeKV: return "store k, v (f16)"
            case .attention: return "attention"
            case .wo: return "output projection"
            case .residual: return "residual adds"
            case .ffnNorm: return "RMSNorm (feed-forward)"
            case .gateUp: return "gate, up products"
            case .swiglu: return "SwiGLU"
            case .down: return "down product"
            case .outputNorm: return "RMSNorm (output)"
            case .logits: return "logits (output product)"
            }
        }
    }

    /// Seconds per stage, summed over every pass since the last `reset`.
    public private(set) var seconds = [Double](repeating: 0, count: Stage.allCases.count)
    /// Forward passes recorded.
    public private(set) var passes = 0
    private var last: UInt64 = 0

    public init() {}

    public func reset() {
        seconds = [Double](repeating: 0, count: Stage.allCases.count)
        passes = 0
    }

    /// Starts a pass.
    func start() { passes += 1; last = DispatchTime.now().uptimeNanoseconds }

    /// Charges the time since the previous mark to `stage`.
    func mark(_ stage: Stage) {
        let t = DispatchTime.now().uptimeNanoseconds
        seconds[stage.rawValue] += Double(t - last) / 1e9
        last = t
    }
}

extension DecoderModel {
    /// When set, every `forward` charges its stages' time to this clock (`bench-llm --profile`).
    nonisolated(unsafe) public static var stageClock: StageClock?
}
