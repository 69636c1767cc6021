import CKernels

/// What this CPU offers the kernels.
///
/// The Swift numeric modules are compiled with `-target-cpu haswell` (inline FMA and F16C),
/// so on a CPU without AVX2/FMA/F16C they would die on an illegal instruction. The CLI calls
/// `requireSupported()` first to fail with a message instead. (The C kernels alone would
/// fall back to portable code; the Swift code cannot.)
public enum CPUFeatures {
    /// True when the CPU has AVX2, FMA and F16C.
    public static let hasAVX2: Bool = strata_cpu_supports_avx2_fma() != 0

    /// Throws `TensorError.unsupportedCPU` on a CPU the binary was not built for.
    public static func requireSupported() throws {
        #if arch(x86_64)
        guard hasAVX2 else { throw TensorError.unsupportedCPU }
        #endif
    }
}
