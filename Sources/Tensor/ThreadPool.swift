import CKernels
import Foundation
import Synchronization

/// A small persistent thread pool for the kernels: `threads - 1` workers plus the caller.
///
/// Why not `DispatchQueue.concurrentPerform`: waking its second worker costs ~10 µs, as much
/// as a whole 576×1536 matvec. Here workers stay alive, spin briefly between calls (decode
/// issues matvecs back to back) and then sleep on a condition so an idle pool costs nothing.
/// Work is split into chunks claimed from atomic counters (one contiguous region per thread,
/// see `PoolState`) and the caller claims chunks too; a thread out of work takes chunks left in
/// another's region, so a worker descheduled by another process (the machine is shared) only
/// delays the chunk it holds rather than a fixed share of the matrix.
///
/// Misuse is safe rather than undefined: a `parallelFor` issued from inside a body (nested)
/// or from a second thread while one is running runs serially on its calling thread.
public final class ThreadPool: @unchecked Sendable {
    /// Total threads working on a `parallelFor`, the caller included.
    public let threads: Int
    private let state: PoolState
    private var workers: [Thread] = []

    public init(threads: Int) {
        self.threads = max(1, threads)
        state = PoolState(regions: self.threads)
        for i in 1..<self.threads {
            let s = state
            let t = Thread { s.workerLoop(slot: i) }
            t.name = "strata-kernel-\(i)"
            t.stackSize = 1 << 20
            workers.append(t)
            t.start()
        }
    }

    deinit { state.shutdown() }

    /// One pool per thread count for the whole process, so engines loaded and dropped
    /// repeatedly neither leak threads nor run two spinning pools against each other.
    public static func shared(threads: Int) -> ThreadPool {
        sharedPools.withLock { pools in
            let n = max(1, threads)
            if let p = pools[n] { return p }
            let p = ThreadPool(threads: n)
            pools[n] = p
            return p
        }
    }

    /// Calls `body` on disjoint ranges covering `0..<count` exactly once, on up to `threads`
    /// threads, and returns when all are done. `grain` is the smallest range worth handing
    /// out (rows of a matvec: enough to amortise a claim, ~16-64); `chunk` fixes the range
    /// size instead (e.g. so a chunk of weight rows stays in cache while reused).
    public func parallelFor(_ count: Int, grain: Int = 1, chunk fixed: Int? = nil, _ body: (Range<Int>) -> Void) {
        parallelFor(count, grain: grain, chunk: fixed) { range, _ in body(range) }
    }

    /// As `parallelFor`, also passing the running thread's slot in `0..<threads` (the caller
    /// is slot 0), so a body can use per-thread scratch buffers without locks. A nested call,
    /// or one from a second thread while the pool is busy, runs serially with slot 0: per-slot
    /// buffers are private to a thread only within one top-level call at a time.
    public func parallelFor(_ count: Int, grain: Int = 1, chunk fixed: Int? = nil, _ body: (Range<Int>, Int) -> Void) {
        guard count > 0 else { return }
        // ~4 chunks per thread balances load when a core is stolen without many claims.
        let chunk = fixed.map { max(1, $0) } ?? max(max(1, grain), (count + threads * 4 - 1) / (threads * 4))
        if threads == 1 || count <= chunk || !state.tryAcquire() {
            // A fixed chunk is a promise to the body (e.g. rows fitting a per-thread tile),
            // so the serial path keeps it; otherwise one call covers everything.
            guard let fixed else { body(0..<count, 0); return }
            for lower in stride(from: 0, to: count, by: max(1, fixed)) { body(lower..<min(count, lower + max(1, fixed)), 0) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            var job = PoolJob(body: escapable, count: count, chunk: chunk)
            withUnsafeMutablePointer(to: &job) { state.run($0) }
        }
        state.release()
    }
}

private let sharedPools = Mutex<[Int: ThreadPool]>([:])

/// One `parallelFor` call; lives on the caller's stack for the duration of the call.
struct PoolJob {
    let body: (Range<Int>, Int) -> Void
    let count: Int
    let chunk: Int
    var chunks: Int { (count + chunk - 1) / chunk }
}

/// Shared between the pool and its workers (workers must not keep the pool alive).
///
/// The chunks of a job are dealt out as one contiguous region per thread: slot s claims the
/// chunks of region s in order, then those left in the other regions, also in order. A thread
/// thus streams through one contiguous part of a matrix, so a chunk's first rows are the
/// ones its predecessor's kernel already prefetched; claimed from one shared counter, each
/// thread's chunks of a decode matvec were scattered (every fourth or so) and each started
/// cold from DRAM. Stealing still lets one thread finish a descheduled thread's region.
///
/// `cursors[r]` packs (generation << 32 | next chunk of region r); `generation` announces a
/// job. A thread claims chunk c of generation g only by a compare-exchange that still sees g,
/// so a worker that wakes late can never run a chunk of a job that has finished: the caller
/// does not return (and the job's stack memory stays valid) until `done` counts every chunk.
final class PoolState: @unchecked Sendable {
    let generation = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let jobAddress = Atomic<Int>(0)
    let jobChunks = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    private let condition = NSCondition()
    private var sleepers = 0
    /// One region per thread; each cursor on its own cache line (only stealing shares it).
    let regions: Int
    private let cursors: UnsafeMutablePointer<Atomic<Int>>
    private static let cursorStride = 8

    init(regions: Int) {
        self.regions = regions
        cursors = UnsafeMutableRawPointer.allocate(byteCount: regions * Self.cursorStride * MemoryLayout<Int>.stride, alignment: 64)
            .bindMemory(to: Atomic<Int>.self, capacity: regions * Self.cursorStride)
        for r in 0..<regions { (cursors + r * Self.cursorStride).initialize(to: Atomic(0)) }
    }

    deinit {
        for r in 0..<regions { (cursors + r * Self.cursorStride).deinitialize(count: 1) }
        UnsafeMutableRawPointer(cursors).deallocate()
    }

    private func cursor(_ r: Int) -> UnsafeMutablePointer<Atomic<Int>> { cursors + r * Self.cursorStride }

    /// First chunk of region `r` when a job has `chunks` chunks (region `regions` is the end).
    private func regionStart(_ r: Int, chunks: Int) -> Int { r * chunks / regions }

    /// Spins before sleeping: long enough to bridge the gap between two matvecs of a decode
    /// step, short enough not to burn a shared core when the model is idle.
    private let spinLimit = 20_000

    func tryAcquire() -> Bool { busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { busy.store(false, ordering: .releasing) }

    /// Index value meaning "cursor of the next generation, job fields being written".
    static let opening = 0xFFFF_FFFF

    func run(_ job: UnsafeMutablePointer<PoolJob>) {
        let g = generation.load(ordering: .relaxed) + 1
        let total = job.pointee.chunks
        // Close the previous generation first, so no worker can validate a claim against it
        // while the fields below change; then publish the fields; then open the regions and
        // announce the new generation.
        for r in 0..<regions { cursor(r).pointee.store(g << 32 | Self.opening, ordering: .releasing) }
        done.store(0, ordering: .relaxed)
        jobAddress.store(Int(bitPattern: UnsafeMutableRawPointer(job)), ordering: .releasing)
        jobChunks.store(total, ordering: .releasing)
        for r in 0..<regions { cursor(r).pointee.store(g << 32 | regionStart(r, chunks: total), ordering: .releasing) }
        generation.store(g, ordering: .releasing)
        condition.lock()
        if sleepers > 0 { condition.broadcast() }
        condition.unlock()
        work(generation: g, slot: 0)
        var spins = 0
        while done.load(ordering: .acquiring) < total {
            spins += 1
            if spins < 1000 { strata_cpu_relax() } else { sched_yield() }
        }
    }

    /// Claims and runs chunks of generation `g`, its own region first, until none are left.
    func work(generation g: Int, slot: Int) {
        for k in 0..<regions {
            let r = (slot + k) % regions, cursor = cursor(r)
            while true {
                let current = cursor.pointee.load(ordering: .acquiring)
                // Seen only after the announcement of g, so a cursor of another generation (or
                // one closed for the next) means the job is over.
                guard current >> 32 == g, current & 0xFFFF_FFFF != Self.opening else { return }
                // Read after a cursor of this generation: these are this job's fields (they are
                // rewritten only after every cursor moves to the next generation, which makes the
                // compare-exchange below fail).
                let total = jobChunks.load(ordering: .acquiring)
                let address = jobAddress.load(ordering: .acquiring)
                let index = current & 0xFFFF_FFFF
                guard index < regionStart(r + 1, chunks: total) else { break }
                guard cursor.pointee.compareExchange(expected: current, desired: current + 1,
                                                     ordering: .acquiringAndReleasing).exchanged else { continue }
                // A real chunk of this generation is ours, so the caller is still waiting and the
                // job on its stack is alive.
                let job = UnsafeMutableRawPointer(bitPattern: address)!.assumingMemoryBound(to: PoolJob.self)
                let lower = index * job.pointee.chunk
                job.pointee.body(lower..<min(job.pointee.count, lower + job.pointee.chunk), slot)
                done.add(1, ordering: .releasing)
            }
        }
    }

    func workerLoop(slot: Int) {
        var seen = 0
        while !stopping.load(ordering: .acquiring) {
            var spins = 0
            var current = generation.load(ordering: .acquiring)
            while current == seen && spins < spinLimit {
                strata_cpu_relax()
                spins += 1
                current = generation.load(ordering: .acquiring)
            }
            if current == seen {
                condition.lock()
                sleepers += 1
                while generation.load(ordering: .acquiring) == seen && !stopping.load(ordering: .acquiring) {
                    condition.wait()
                }
                sleepers -= 1
                condition.unlock()
                continue
            }
            seen = current
            work(generation: current, slot: slot)
        }
    }

    func shutdown() {
        condition.lock()
        stopping.store(true, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }
}
