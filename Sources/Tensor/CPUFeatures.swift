import CKernels
import Foundation

/// What this CPU offers the kernels, and which kernel path a run takes.
///
/// The Swift numeric modules are compiled with `-target-cpu haswell` (inline FMA and F16C),
/// so on a CPU without AVX2/FMA/F16C they would die on an illegal instruction. The CLI calls
/// `requireSupported()` first to fail with a message instead. (The C kernels alone would
/// fall back to portable code; the Swift code cannot.)
public enum CPUFeatures {
    /// True when the CPU has AVX2, FMA and F16C.
    public static let hasAVX2: Bool = strata_cpu_supports_avx2_fma() != 0

    /// The integer prompt-kernel families, from the baseline up. Every path computes the same
    /// integers and rounds them the same way (the tests hold each to the AVX2 kernels bit for
    /// bit), so the path changes speed, never results.
    public enum KernelPath: String, CaseIterable, Comparable, Sendable {
        /// Eight rows a step in 256-bit registers, maddubs + madd.
        case avx2
        /// Sixteen rows a step in 512-bit registers (AVX-512F + BW).
        case avx512
        /// `vpdpbusd`: sixteen rows on AVX-512 VNNI, eight on AVX-VNNI when the CPU has only that.
        case vnni

        public static func < (a: Self, b: Self) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
    }

    /// True when the CPU has AVX-512 VNNI (with AVX-512BW), the 512-bit `vpdpbusd`.
    public static let hasAVX512VNNI: Bool = strata_cpu_supports_avx512vnni() != 0
    /// True when the CPU has AVX-VNNI, the 256-bit VEX `vpdpbusd`.
    public static let hasAVXVNNI: Bool = strata_cpu_supports_avxvnni() != 0

    /// The paths this CPU can run (empty without AVX2: only the portable kernels then).
    public static let availablePaths: [KernelPath] = {
        guard hasAVX2 else { return [] }
        var paths: [KernelPath] = [.avx2]
        if strata_cpu_supports_avx512bw() != 0 { paths.append(.avx512) }
        if hasAVX512VNNI || hasAVXVNNI { paths.append(.vnni) }
        return paths
    }()

    /// The path this run takes: `STRATA_KERNELS=avx2|avx512|vnni` when set, else the best this
    /// CPU has. `STRATA_NO_AVX512=1` (the older switch) is an alias for `STRATA_KERNELS=avx2`.
    /// Forcing a path the CPU lacks stops the process with a message naming the paths it has:
    /// running another path instead would make a comparison between paths compare nothing.
    public static let kernelPath: KernelPath = {
        switch resolveKernelPath(ProcessInfo.processInfo.environment) {
        case .success(let path): return path
        case .failure(let error):
            FileHandle.standardError.write(Data("error: \(error.description)\n".utf8))
            exit(2)
        }
    }()

    /// The path `environment` asks for on this CPU, or why it cannot be had.
    public static func resolveKernelPath(_ environment: [String: String]) -> Result<KernelPath, TensorError> {
        guard let best = availablePaths.last else { return .failure(.unsupportedCPU) }
        var requested = environment["STRATA_KERNELS"].map { $0.lowercased() }
        if requested == nil || requested == "", environment["STRATA_NO_AVX512"] == "1" { requested = KernelPath.avx2.rawValue }
        guard let requested, !requested.isEmpty else { return .success(best) }
        guard let path = KernelPath(rawValue: requested) else {
            return .failure(.unknownKernelPath(requested, available: availablePaths.map(\.rawValue)))
        }
        guard availablePaths.contains(path) else {
            return .failure(.kernelPathUnavailable(path.rawValue, cpu: cpuModel, available: availablePaths.map(\.rawValue)))
        }
        return .success(path)
    }

    /// True when the prompt kernels run sixteen rows a step (the avx512 path, or vnni on AVX-512).
    public static var hasAVX512BW: Bool { kernelPath == .avx512 || (kernelPath == .vnni && hasAVX512VNNI) }

    /// What a benchmark prints beside its figures: the path, its instruction set, the paths the
    /// CPU has.
    public static var kernelDescription: String {
        guard hasAVX2 else { return "portable C kernels (no AVX2)" }
        let detail: String
        switch kernelPath {
        case .avx2: detail = "8 rows, maddubs"
        case .avx512: detail = "16 rows, AVX-512BW maddubs"
        case .vnni: detail = hasAVX512VNNI ? "16 rows, AVX-512 VNNI vpdpbusd" : "8 rows, AVX-VNNI vpdpbusd"
        }
        return "\(kernelPath.rawValue) (\(detail); this CPU has \(availablePaths.map(\.rawValue).joined(separator: ", ")))"
    }

    /// The CPU's model name with its family and model numbers, e.g. "AMD EPYC (family 25 model 1)".
    public static let cpuModel: String = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        func field(_ name: String) -> String? {
            text.split(separator: "\n").first { $0.hasPrefix(name) && $0.dropFirst(name.count).trimmingCharacters(in: .whitespaces).hasPrefix(":") }
                .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) }
        }
        let name = field("model name") ?? "unknown CPU"
        guard let family = field("cpu family"), let model = field("model") else { return name }
        return "\(name) (family \(family) model \(model))"
    }()

    /// Throws `TensorError.unsupportedCPU` on a CPU the binary was not built for, and the
    /// kernel-path errors when `STRATA_KERNELS` asks for what this CPU lacks.
    public static func requireSupported() throws {
        #if arch(x86_64)
        guard hasAVX2 else { throw TensorError.unsupportedCPU }
        if case .failure(let error) = resolveKernelPath(ProcessInfo.processInfo.environment) { throw error }
        #endif
    }
}
