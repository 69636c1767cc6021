import CKernels
import Foundation
import Synchronization

/// A small persistent thread pool for the kernels: `threads - 1` workers plus the caller.
///
/// Why not `DispatchQueue.concurrentPerform`: waking its second worker costs ~10 µs, as much
/// as a whole 576×1536 matvec. Here workers stay alive, spin briefly between calls (decode
/// issues matvecs back to back) and then sleep on a condition so an idle pool costs nothing.
/// Work is split into chunks claimed from one atomic counter and the caller claims chunks
/// too, so a worker descheduled by another process (the machine is shared) only delays the
/// chunk it holds rather than a fixed share of the matrix.
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
        state = PoolState()
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
/// `ticket` packs (generation << 32 | next chunk). A worker claims chunk c of generation g
/// only by a compare-exchange that still sees g, so a worker that wakes late can never run
/// a chunk of a job that has finished: the caller does not return (and the job's stack
/// memory stays valid) until `done` counts every chunk.
final class PoolState: @unchecked Sendable {
    let ticket = Atomic<Int>(0)
    let done = Atomic<Int>(0)
    let jobAddress = Atomic<Int>(0)
    let jobChunks = Atomic<Int>(0)
    let busy = Atomic<Bool>(false)
    let stopping = Atomic<Bool>(false)
    private let condition = NSCondition()
    private var sleepers = 0

    /// Spins before sleeping: long enough to bridge the gap between two matvecs of a decode
    /// step, short enough not to burn a shared core when the model is idle.
    private let spinLimit = 20_000

    func tryAcquire() -> Bool { busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged }
    func release() { busy.store(false, ordering: .releasing) }

    /// Index value meaning "generation announced, job fields being written".
    static let opening = 0xFFFF_FFFF

    func run(_ job: UnsafeMutablePointer<PoolJob>) {
        let generation = (ticket.load(ordering: .relaxed) >> 32) + 1
        // Close the previous generation first, so no worker can validate a claim against it
        // while the fields below change; then publish the fields; then open the new one.
        ticket.store(generation << 32 | Self.opening, ordering: .releasing)
        done.store(0, ordering: .relaxed)
        jobAddress.store(Int(bitPattern: UnsafeMutableRawPointer(job)), ordering: .releasing)
        jobChunks.store(job.pointee.chunks, ordering: .releasing)
        ticket.store(generation << 32, ordering: .releasing)
        condition.lock()
        if sleepers > 0 { condition.broadcast() }
        condition.unlock()
        let total = job.pointee.chunks
        work(generation: generation, slot: 0)
        var spins = 0
        while done.load(ordering: .acquiring) < total {
            spins += 1
            if spins < 1000 { strata_cpu_relax() } else { sched_yield() }
        }
    }

    /// Claims and runs chunks of `generation` until none are left; returns how many it ran.
    @discardableResult
    func work(generation: Int, slot: Int) -> Int {
        var ran = 0
        while true {
            let current = ticket.load(ordering: .acquiring)
            guard current >> 32 == generation else { return ran }
            let index = current & 0xFFFF_FFFF
            if index == Self.opening { strata_cpu_relax(); continue }
            // Read after a ticket of this generation: these are this job's fields (they are
            // rewritten only after the ticket moves to the next generation, which makes the
            // compare-exchange below fail).
            let total = jobChunks.load(ordering: .acquiring)
            let address = jobAddress.load(ordering: .acquiring)
            guard index < total else { return ran }
            guard ticket.compareExchange(expected: current, desired: current + 1,
                                         ordering: .acquiringAndReleasing).exchanged else { continue }
            // A real chunk of this generation is ours, so the caller is still waiting and the
            // job on its stack is alive.
            let job = UnsafeMutableRawPointer(bitPattern: address)!.assumingMemoryBound(to: PoolJob.self)
            let lower = index * job.pointee.chunk
            job.pointee.body(lower..<min(job.pointee.count, lower + job.pointee.chunk), slot)
            done.add(1, ordering: .releasing)
            ran += 1
        }
    }

    func workerLoop(slot: Int) {
        var seen = 0
        while !stopping.load(ordering: .acquiring) {
            var spins = 0
            var generation = ticket.load(ordering: .acquiring) >> 32
            while generation == seen && spins < spinLimit {
                strata_cpu_relax()
                spins += 1
                generation = ticket.load(ordering: .acquiring) >> 32
            }
            if generation == seen {
                condition.lock()
                sleepers += 1
                while ticket.load(ordering: .acquiring) >> 32 == seen && !stopping.load(ordering: .acquiring) {
                    condition.wait()
                }
                sleepers -= 1
                condition.unlock()
                continue
            }
            seen = generation
            work(generation: generation, slot: slot)
        }
    }

    func shutdown() {
        condition.lock()
        stopping.store(true, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
    }
}
