import CKernels
import Foundation
import Tensor

// The two ceilings the engine's figures are put against in the same run, since the host under
// this VM changes: read-only memory bandwidth (decode streams every weight once per token) and
// the int8 multiply-add rate of the prompt kernels' instruction (prompt processing is compute).

/// Runs `body(i)` on `threads` threads at once (thread i gets i) and returns the wall seconds
/// from a common start to the last one's end.
func onThreads(_ threads: Int, _ body: @escaping @Sendable (Int) -> Void) -> Double {
    let group = DispatchGroup(), start = DispatchSemaphore(value: 0)
    for i in 0..<threads {
        group.enter()
        let t = Thread { start.wait(); body(i); group.leave() }
        t.stackSize = 1 << 20
        t.start()
    }
    Thread.sleep(forTimeInterval: 0.01)
    let t0 = now()
    for _ in 0..<threads { start.signal() }
    group.wait()
    return now() - t0
}

/// Read-only bandwidth in GB/s: `threads` threads sum disjoint halves of a 256 MiB buffer (8× a
/// 32 MiB L3) in 8-lane float adds; the best of `passes`.
public func readBandwidthGBs(threads: Int, passes: Int = 5) -> Double {
    let count = 64 << 20   // floats
    let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { buffer.deallocate() }
    buffer.initialize(repeating: 1, count: count)
    nonisolated(unsafe) let base = buffer
    let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads * 16)
    defer { sink.deallocate() }
    nonisolated(unsafe) let out = sink
    var best = 0.0
    for _ in 0..<passes {
        let seconds = onThreads(threads) { i in
            let per = count / threads, p = UnsafeRawPointer(base + i * per)
            var a0 = SIMD8<Float>(), a1 = a0, a2 = a0, a3 = a0
            var j = 0
            while j < per * 4 {
                a0 += p.loadUnaligned(fromByteOffset: j, as: SIMD8<Float>.self); a1 += p.loadUnaligned(fromByteOffset: j + 32, as: SIMD8<Float>.self)
                a2 += p.loadUnaligned(fromByteOffset: j + 64, as: SIMD8<Float>.self); a3 += p.loadUnaligned(fromByteOffset: j + 96, as: SIMD8<Float>.self)
                j += 128
            }
            out[i * 16] = (a0 + a1 + a2 + a3).sum()
        }
        best = max(best, Double(count * 4) / seconds / 1e9)
    }
    return best
}

/// u8·s8 multiply-adds per second on `threads` cores with the instruction of `path` (maddubs for
/// avx2 / avx512, vpdpbusd for vnni): the compute ceiling of the interleaved prompt kernels.
public func int8MultiplyAddsPerSecond(threads: Int, path: CPUFeatures.KernelPath = CPUFeatures.kernelPath) -> Double {
    let code: Int32 = path == .avx2 ? 0 : path == .avx512 ? 1 : (CPUFeatures.hasAVX512VNNI ? 2 : 3)
    let iterations: Int64 = 20_000_000
    let counts = UnsafeMutablePointer<Int64>.allocate(capacity: threads * 8)   // a cache line each
    defer { counts.deallocate() }
    nonisolated(unsafe) let made = counts
    var best = 0.0
    for _ in 0..<3 {
        let seconds = onThreads(threads) { i in made[i * 8] = Int64(strata_int8_peak(code, iterations)) }
        best = max(best, Double((0..<threads).reduce(Int64(0)) { $0 + made[$1 * 8] }) / seconds)
    }
    return best
}
