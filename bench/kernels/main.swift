import Foundation
import Tensor
import BenchSupport

checkArguments("bench-kernels", usage: """
    usage: bench-kernels [--quick] [--cached] [--types Q4_1,Q6_K] [--shape 576x1536]
                         [--no-matmul | --matmul-only] [--matmul-threads 1|2] [--decode]
    """, flags: ["--quick", "--cached", "--no-matmul", "--matmul-only", "--decode"],
    valued: ["--types", "--shape", "--matmul-threads"])

// bench-kernels: GB/s of weight bytes for matvec per type and shape, on 1 and 2 threads,
// against the reference figures; then prefill (matmul) integer kernels vs dequantize+sgemm.
// Usage: swift run bench-kernels [--quick] [--cached] [--types Q4_1,Q6_K] [--shape 576x1536]
//        [--no-matmul | --matmul-only] [--matmul-threads 1|2] [--decode]   (--decode: SmolLM2 decode-step estimate)
// Figures are noisy on this shared 2-core machine: run twice and compare.

let arguments = CommandLine.arguments.dropFirst()
let quick = arguments.contains("--quick")
/// One copy of each matrix (cache-resident for small shapes): kernel compute speed alone.
let cached = arguments.contains("--cached")
var types = WeightMatrix.supportedTypes
if let i = arguments.firstIndex(of: "--types"), arguments.index(after: i) < arguments.endIndex {
    let names = arguments[arguments.index(after: i)].split(separator: ",").map(String.init)
    types = names.compactMap { n in WeightMatrix.supportedTypes.first { $0.description == n.uppercased() } }
    if types.count != names.count {
        FileHandle.standardError.write("unknown type in \(names) — supported: \(WeightMatrix.supportedTypes)\n".data(using: .utf8)!)
        exit(2)
    }
}

/// Copies of a random matrix totalling more than the last-level cache, used round-robin so
/// every matvec streams its weights from DRAM, as in decode.
final class Weights {
    let matrices: [WeightMatrix]
    private let buffers: [UnsafeMutableRawPointer]

    init(_ type: GGMLType, rows: Int, cols: Int, copies fixed: Int? = nil) throws {
        let bytes = type.rowBytes(cols)! * rows
        let copies = fixed ?? (cached ? 1 : max(2, (96 << 20) / bytes + 1))
        var state: UInt64 = 0x1234_5678
        var bufs: [UnsafeMutableRawPointer] = []
        var mats: [WeightMatrix] = []
        for _ in 0..<copies {
            let p = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            let words = p.bindMemory(to: UInt64.self, capacity: bytes / 8)
            for i in 0..<(bytes / 8) { state = state &* 6364136223846793005 &+ 1442695040888963407; words[i] = state }
            // Half/float fields with random bits can be NaN or denormal (slow paths): make
            // every 16-bit word of float formats a plain value; scales of quantized blocks
            // do not affect integer kernel speed.
            if type == .f32 { let f = p.bindMemory(to: Float.self, capacity: bytes / 4); for i in 0..<(bytes / 4) { f[i] = Float(i % 7) * 0.01 } }
            if type == .f16 || type == .bf16 { let h = p.bindMemory(to: UInt16.self, capacity: bytes / 2); for i in 0..<(bytes / 2) { h[i] = 0x3C00 } }
            bufs.append(p)
            mats.append(try WeightMatrix(type: type, rows: rows, cols: cols, data: UnsafeRawPointer(p)))
        }
        buffers = bufs
        matrices = mats
    }

    deinit { buffers.forEach { $0.deallocate() } }
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// CPU seconds of the calling thread: with 5 other engineers compiling on 2 cores, wall time
/// of a 1-thread run mostly measures the scheduler; CPU time measures the kernel.
func threadCPUSeconds(_ body: () -> Void) -> Double {
    var a = timespec(), b = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a)
    body()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b)
    return Double(b.tv_sec - a.tv_sec) + Double(b.tv_nsec - a.tv_nsec) / 1e9
}

/// Median GB/s over several timed rounds of matvecs (median: robust to another process
/// taking a core for a moment).
func matvecGBps(_ w: Weights, pool: ThreadPool, cpuTime: Bool = false) -> Double {
    let m = w.matrices[0]
    let x = UnsafeMutablePointer<Float>.allocate(capacity: m.cols)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: m.rows)
    defer { x.deallocate(); y.deallocate() }
    for i in 0..<m.cols { x[i] = Float(i % 13) * 0.1 - 0.6 }
    let scratch = MatVecScratch(maxCols: m.cols)
    let perRound = max(w.matrices.count, Int((quick ? 40e6 : 200e6) / Double(m.byteCount)))
    var rates: [Double] = []
    for round in 0..<(quick ? 3 : 5) {
        let t = (cpuTime ? threadCPUSeconds : seconds) {
            for i in 0..<perRound { w.matrices[i % w.matrices.count].matvec(x, y, scratch: scratch, pool: pool) }
        }
        if round > 0 || quick { rates.append(Double(perRound * m.byteCount) / t / 1e9) }
    }
    return rates.sorted()[rates.count / 2]
}

let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2)]
// As the engine does: the pool's threads are the only threads. Left at its default, OpenBLAS
// ran two threads of its own inside each pool thread, so "1 thread" sgemm used both cores.
BLAS.setThreads(1)
var shapes = quick ? [(2048, 2048)] : [(2048, 2048), (576, 1536), (1536, 8960)]
if let i = arguments.firstIndex(of: "--shape"), arguments.index(after: i) < arguments.endIndex {
    let parts = arguments[arguments.index(after: i)].split(separator: "x").compactMap { Int($0) }
    guard parts.count == 2, parts[0] > 0, parts[1] > 0, parts[1] % 256 == 0 else {
        FileHandle.standardError.write("--shape wants ROWSxCOLS with COLS a multiple of 256, e.g. 576x1536\n".data(using: .utf8)!)
        exit(2)
    }
    shapes = [(parts[0], parts[1])]
}

if !arguments.contains("--matmul-only") {
print(hostLine())
print("matvec, GB/s of weight bytes (median of rounds; shared machine: expect ±10-20%)")
print("(cpu: 1 thread, GB per CPU-second of the thread — robust to other processes; wall: elapsed time)")
print("(ratio 2 thr: 2-thread wall / reference; ratio cpu: 2 × the 1-thread CPU-time figure / reference,")
print(" i.e. what 2 threads would reach with both cores to ourselves and memory not the limit)")
print("type  shape        1 thr cpu  1 thr wall  2 thr wall   C/AVX2 ref (2 thr)  ratio 2 thr  ratio cpu")
var q41 = 0.0
for type in types {
    for (rows, cols) in shapes {
        let w = try Weights(type, rows: rows, cols: cols)
        let cpu = matvecGBps(w, pool: pools[0], cpuTime: true)
        let one = matvecGBps(w, pool: pools[0]), two = matvecGBps(w, pool: pools[1])
        let ref = ReferenceFigures.cAVX2[type.description] ?? .nan
        if type == .q4_1 && rows == 2048 && cols == 2048 { q41 = two }
        print(String(format: "%-5@ %4dx%-6d %8.1f   %8.1f    %8.1f    %8.1f          %6.2f       %6.2f", type.description as NSString,
                     rows, cols, cpu, one, two, ref, two / ref, 2 * cpu / ref))
    }
}
if q41 > 0 {
    print(String(format: "Q4_1 2048x2048, 2 threads: %.1f GB/s vs decode target %.1f (ratio %.2f); plain Swift SIMD reached %.1f",
                 q41, ReferenceFigures.decodeTargetQ4_1, q41 / ReferenceFigures.decodeTargetQ4_1, ReferenceFigures.swiftSIMD["Q4_1"]!))
}

// Prefill: per token cost of the integer kernels vs dequantized tiles + sgemm.
}
// The number that matters downstream: one SmolLM2-135M decode step is these matvecs
// (30 layers of q, k, v, o, gate, up, down in Q4_1 + the tied Q8_0 output), weights from DRAM.
if arguments.contains("--decode") {
    let layer: [(GGMLType, Int, Int)] = [(.q4_1, 576, 576), (.q4_1, 192, 576), (.q4_1, 192, 576), (.q4_1, 576, 576),
                                         (.q4_1, 1536, 576), (.q4_1, 1536, 576), (.q4_1, 576, 1536)]
    for pool in pools {
        // Distinct weights for all 30 layers, as in the model, so nothing stays in cache.
        let layers = try (0..<30).map { _ in try layer.map { try Weights($0.0, rows: $0.1, cols: $0.2, copies: 1) } }
        let output = try Weights(.q8_0, rows: 49152, cols: 576, copies: 1)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 1536), y = UnsafeMutablePointer<Float>.allocate(capacity: 49152)
        for i in 0..<1536 { x[i] = Float(i % 13) * 0.1 - 0.6 }
        let scratch = MatVecScratch(maxCols: 1536)
        var bytes = output.matrices[0].byteCount
        for l in layers { for w in l { bytes += w.matrices[0].byteCount } }
        var best = Double.infinity, bestCPU = Double.infinity
        let step = {
            for l in layers { for w in l { w.matrices[0].matvec(x, y, scratch: scratch, pool: pool) } }
            output.matrices[0].matvec(x, y, scratch: scratch, pool: pool)
        }
        for _ in 0..<5 {
            best = min(best, seconds(step))
            if pool.threads == 1 { bestCPU = min(bestCPU, threadCPUSeconds(step)) }
        }
        print(String(format: "SmolLM2 decode matvecs, %d thread(s), wall: %.1f ms/token (%.0f MB) = %.0f tokens/s ceiling, %.1f GB/s (target 120 tokens/s)",
                     pool.threads, best * 1e3, Double(bytes) / 1e6, 1 / best, Double(bytes) / best / 1e9))
        if pool.threads == 1 {
            print(String(format: "SmolLM2 decode matvecs, 1 thread, CPU time: %.1f ms/token = %.0f tokens/s per core, %.1f GB/s per core",
                         bestCPU * 1e3, 1 / bestCPU, Double(bytes) / bestCPU / 1e9))
        }
        x.deallocate(); y.deallocate()
    }
}

if arguments.contains("--no-matmul") { exit(0) }
// Prefill: the integer row kernels token by token, the tile kernels (each row unpacked once
// per 64 tokens; Q4_K on 2 threads: eight rows interleaved) and dequantize + sgemm, on
// SmolLM2's and Qwen2.5-1.5B's projection shapes.
let matmulThreads = arguments.firstIndex(of: "--matmul-threads").flatMap { i in
    arguments.index(after: i) < arguments.endIndex ? Int(arguments[arguments.index(after: i)]) : nil } ?? 2
let matmulPool = matmulThreads == 1 ? pools[0] : pools[1]
let matmulShapes = arguments.contains("--shape") ? shapes : [(576, 1536), (1536, 1536), (8960, 1536), (1536, 8960)]
print("\nmatmul, µs per token (\(matmulThreads) thread\(matmulThreads == 1 ? "" : "s")): integer row kernels / tile kernels / dequantize+sgemm")
for type in types where type != .f32 && type != .f16 && type != .bf16 {
    for (rows, cols) in matmulShapes {
        let w = try Weights(type, rows: rows, cols: cols, copies: 1)
        let m = w.matrices[0]
        let scratch = MatVecScratch(maxCols: cols)
        var line = String(format: "%-5@ %5dx%-5d", type.description as NSString, rows, cols)
        for tokens in quick ? [8, 256] : [8, 32, 64, 128, 192, 256] {
            let x = UnsafeMutablePointer<Float>.allocate(capacity: tokens * cols)
            let y = UnsafeMutablePointer<Float>.allocate(capacity: tokens * rows)
            for i in 0..<(tokens * cols) { x[i] = Float(i % 11) * 0.1 - 0.5 }
            let reps = max(1, 64 / tokens)
            var integer = Double.infinity, tiled = Double.infinity, blas = Double.infinity
            for _ in 0..<3 {
                integer = min(integer, seconds { for _ in 0..<reps { m.matmulIntegerKernels(x, tokens: tokens, y, scratch: scratch, pool: matmulPool) } })
                if m.hasTileKernel {
                    tiled = min(tiled, seconds { for _ in 0..<reps { m.matmulTiled(x, tokens: tokens, y, scratch: scratch, pool: matmulPool) } })
                }
                blas = min(blas, seconds { for _ in 0..<reps { m.matmulBLAS(x, tokens: tokens, y, scratch: scratch, pool: matmulPool) } })
            }
            let per = { (t: Double) in t.isFinite ? String(format: "%.0f", t / Double(reps * tokens) * 1e6) : "-" }
            line += "  t=\(tokens): \(per(integer))/\(per(tiled))/\(per(blas))"
            x.deallocate(); y.deallocate()
        }
        print(line)
    }
}
