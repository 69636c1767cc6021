import CKernels

enum CPU {
    /// The build targets Haswell-class CPUs (AVX2, FMA, F16C); refuse to run kernels without them.
    static var missingFeatures: Bool { strata_cpu_supports_avx2_fma() == 0 }
}
