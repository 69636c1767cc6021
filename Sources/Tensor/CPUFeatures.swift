import CKernels
import Foundation

/// What this CPU offers the kernels.
///
/// The Swift numeric modules are compiled with `-target-cpu haswell` (inline FMA and F16C),
/// so on a CPU without AVX2/FMA/F16C they would die on an illegal instruction. The CLI calls
/// `requireSupported()` first to fail with a message instead. (The C kernels alone would
/// fall back to portable code; the Swift code cannot.)
public enum CPUFeatures {
    /// True when the CPU has AVX2, FMA and F16C.
    public static let hasAVX2: Bool = strata_cpu_supports_avx2_fma() != 0
    /// True when the CPU also has AVX-512F and AVX-512BW (the 16-row prompt kernels).
    /// STRATA_NO_AVX512=1 turns it off, so a benchmark can compare the two on one machine.
    public static let hasAVX512BW: Bool = strata_cpu_supports_avx512bw() != 0
        && ProcessInfo.processInfo.environment["STRATA_NO_AVX512"] != "1"

    /// Throws `TensorError.unsupportedCPU` on a CPU the binary was not built for.
    public static func requireSupported() throws {
        #if arch(x86_64)
        guard hasAVX2 else { throw TensorError.unsupportedCPU }
        #endif
    }
}
