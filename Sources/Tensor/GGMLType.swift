/// The element types a GGUF tensor can have, numbered as in ggml (`enum ggml_type`).
///
/// Quantized types store weights in blocks: `blockSize` elements packed into `typeSize`
/// bytes. A row of `n` elements therefore takes `n / blockSize * typeSize` bytes.
public enum GGMLType: UInt32, Sendable, CaseIterable, CustomStringConvertible {
    case f32 = 0, f16 = 1, q4_0 = 2, q4_1 = 3, q5_0 = 6, q5_1 = 7, q8_0 = 8, q8_1 = 9
    case q2_K = 10, q3_K = 11, q4_K = 12, q5_K = 13, q6_K = 14, q8_K = 15
    case iq2_xxs = 16, iq2_xs = 17, iq3_xxs = 18, iq1_s = 19, iq4_nl = 20, iq3_s = 21, iq2_s = 22, iq4_xs = 23
    case i8 = 24, i16 = 25, i32 = 26, i64 = 27, f64 = 28, iq1_m = 29, bf16 = 30
    case tq1_0 = 34, tq2_0 = 35

    /// Elements per block (1 for plain types).
    public var blockSize: Int {
        switch self {
        case .f32, .f16, .bf16, .i8, .i16, .i32, .i64, .f64: return 1
        case .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q8_1, .iq4_nl: return 32
        default: return 256
        }
    }

    /// Bytes per block.
    public var typeSize: Int {
        switch self {
        case .f32, .i32: return 4
        case .f16, .bf16, .i16: return 2
        case .i8: return 1
        case .i64, .f64: return 8
        case .q4_0: return 2 + 16
        case .q4_1: return 2 + 2 + 16
        case .q5_0: return 2 + 4 + 16
        case .q5_1: return 2 + 2 + 4 + 16
        case .q8_0: return 2 + 32
        case .q8_1: return 2 + 2 + 32
        case .q2_K: return 256 / 16 + 256 / 4 + 2 + 2
        case .q3_K: return 256 / 8 + 256 / 4 + 12 + 2
        case .q4_K: return 2 + 2 + 12 + 256 / 2
        case .q5_K: return 2 + 2 + 12 + 256 / 8 + 256 / 2
        case .q6_K: return 256 / 2 + 256 / 4 + 256 / 16 + 2
        case .q8_K: return 4 + 256 + 16 * 2
        case .iq2_xxs: return 2 + 256 / 8 * 2
        case .iq2_xs: return 2 + 256 / 8 * 2 + 256 / 32
        case .iq3_xxs: return 2 + 256 / 4 + 256 / 8
        case .iq1_s: return 2 + 256 / 8 + 256 / 16
        case .iq4_nl: return 2 + 16
        case .iq3_s: return 2 + 256 / 4 + 256 / 8 + 256 / 32 + 4
        case .iq2_s: return 2 + 256 / 4 + 256 / 16
        case .iq4_xs: return 2 + 2 + 256 / 64 + 256 / 2
        case .iq1_m: return 256 / 8 + 256 / 16 + 256 / 32
        case .tq1_0: return 2 + 4 * 13
        case .tq2_0: return 2 + 64
        }
    }

    /// Bytes taken by a row of `elements` values; nil when `elements` is not a whole number of blocks.
    public func rowBytes(_ elements: Int) -> Int? {
        guard elements >= 0, elements % blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / blockSize).multipliedReportingOverflow(by: typeSize)
        return overflow ? nil : bytes
    }

    public var description: String {
        switch self {
        case .f32: "F32"; case .f16: "F16"; case .bf16: "BF16"; case .f64: "F64"
        case .i8: "I8"; case .i16: "I16"; case .i32: "I32"; case .i64: "I64"
        case .q4_0: "Q4_0"; case .q4_1: "Q4_1"; case .q5_0: "Q5_0"; case .q5_1: "Q5_1"
        case .q8_0: "Q8_0"; case .q8_1: "Q8_1"; case .q2_K: "Q2_K"; case .q3_K: "Q3_K"
        case .q4_K: "Q4_K"; case .q5_K: "Q5_K"; case .q6_K: "Q6_K"; case .q8_K: "Q8_K"
        case .iq2_xxs: "IQ2_XXS"; case .iq2_xs: "IQ2_XS"; case .iq3_xxs: "IQ3_XXS"; case .iq1_s: "IQ1_S"
        case .iq4_nl: "IQ4_NL"; case .iq3_s: "IQ3_S"; case .iq2_s: "IQ2_S"; case .iq4_xs: "IQ4_XS"
        case .iq1_m: "IQ1_M"; case .tq1_0: "TQ1_0"; case .tq2_0: "TQ2_0"
        }
    }
}
