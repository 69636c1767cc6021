import Foundation

/// Errors raised when weights or buffers handed to the kernels do not fit together.
public enum TensorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The weight type has no kernel here; the message lists the ones that do.
    case unsupportedType(GGMLType)
    /// A row length that is not a whole number of the type's blocks.
    case rowNotWholeBlocks(type: GGMLType, cols: Int)
    /// A matrix with a negative or overflowing size.
    case badShape(rows: Int, cols: Int)
    /// A scratch buffer smaller than the matrix needs.
    case scratchTooSmall(needed: Int, capacity: Int)
    /// The CPU lacks AVX2/FMA/F16C, which this build of the kernels requires.
    case unsupportedCPU
    /// `STRATA_KERNELS` names no kernel path.
    case unknownKernelPath(String, available: [String])
    /// `STRATA_KERNELS` forces a kernel path this CPU lacks.
    case kernelPathUnavailable(String, cpu: String, available: [String])

    public var description: String {
        switch self {
        case .unsupportedType(let t):
            let names = WeightMatrix.supportedTypes.map(\.description).joined(separator: ", ")
            return "weight type \(t) is not supported — supported types: \(names); re-quantize the model to one of them"
        case .rowNotWholeBlocks(let t, let cols):
            return "a row of \(cols) elements is not a whole number of \(t) blocks of \(t.blockSize) — the tensor shape or type in the file is wrong"
        case .badShape(let rows, let cols):
            return "matrix shape \(rows)×\(cols) is invalid — sizes must be positive and fit in memory"
        case .scratchTooSmall(let needed, let capacity):
            return "scratch holds \(capacity) columns but the matrix has \(needed) — create MatVecScratch(maxCols:) with the widest matrix's column count"
        case .unsupportedCPU:
            return "this CPU lacks AVX2, FMA or F16C, which this build requires — run on an x86-64 CPU from 2013 or later (Haswell / Zen), or rebuild without -target-cpu haswell"
        case .unknownKernelPath(let name, let available):
            return "STRATA_KERNELS=\(name) is not a kernel path — use one of avx2, avx512, vnni (this CPU has \(available.joined(separator: ", ")))"
        case .kernelPathUnavailable(let name, let cpu, let available):
            return "STRATA_KERNELS=\(name): this CPU (\(cpu)) lacks the instructions of that path — it has \(available.joined(separator: ", ")); unset STRATA_KERNELS for the best of them"
        }
    }
}

extension TensorError: LocalizedError {
    public var errorDescription: String? { description }
}
