/// The figures our kernels are compared with (GB/s of weight bytes, 2048×2048 matvec,
/// 2 threads, weights streamed from DRAM), as measured on this machine kind before the work
/// started: `/work/shared/SWIFT-NOTES.md` ("Kernels" table) and the kernels issue.
/// C/AVX2 is the bar; the decode target needs Q4_1 ≥ 15 GB/s with 2 threads
/// (SmolLM2: 98 MB of weights per token at ≥ 120 tokens/s).
enum ReferenceFigures {
    /// Best figure known for a kernel of this kind in C with AVX2 intrinsics.
    static let cAVX2: [String: Double] = [
        "Q8_0": 25.0,  // Q8_0 × Q8_0 activations
        "Q4_0": 16.9,  // Q4_0 × Q8_0
        "Q4_1": 17.0,  // 4-bit × 8-bit, "~17 GB/s for C with AVX2" (issue)
        "Q5_0": 16.9,  // no separate figure: the 4-bit one
        "Q4_K": 17.0,  // no separate figure: the 4-bit one
        "Q5_K": 17.0,
        "Q6_K": 17.0,
        "F32": 21.2,   // Q8_0 × float activations (the float-side figure)
        "F16": 21.2,
        "BF16": 21.2,
    ]
    /// What a plain Swift SIMD kernel reached (the reason CKernels exists).
    static let swiftSIMD: [String: Double] = ["Q8_0": 23.6, "Q4_0": 10.6, "Q4_1": 8.0]
    /// Needed downstream: SmolLM2 decode at 120 tokens/s.
    static let decodeTargetQ4_1 = 15.0
}
