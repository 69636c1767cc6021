import Foundation
import Synchronization

/// A small persistent thread pool: `parallelFor(chunks)` runs `body(chunk)` for every chunk,
/// the calling thread taking part, chunks claimed from an atomic counter.
///
/// Why not `concurrentPerform`: waking its workers costs ~10 µs, as much as a whole 576×1536
/// matvec (SWIFT-NOTES). Workers here spin briefly on a generation counter before sleeping, and
/// claiming chunks (rather than a fixed split) keeps a busy core from stalling the rest.
/// Kept in LLM until the shared `ThreadPool` (branch kernels) lands.
public final class WorkerPool: @unchecked Sendable {
    public let threads: Int
    private let condition = NSCondition()
    private let generation = Atomic<Int>(0)
    private let active = Atomic<Int>(0)
    private let next = Atomic<Int>(0)
    // Written by the caller under `condition`, read by workers under it.
    private var job: ((Int, Int) -> Void)?
    private var chunkCount = 0
    private var workers: [Thread] = []

    private init(threads: Int) {
        self.threads = max(1, threads)
        for slot in 1..<self.threads {
            let t = Thread { self.workerLoop(slot: slot) }
            t.stackSize = 1 << 20
            workers.append(t)
            t.start()
        }
    }

    /// One pool per thread count for the whole process: workers live as long as the process
    /// (they hold the pool), so engines loaded and dropped repeatedly never leak threads.
    public static func shared(threads: Int) -> WorkerPool {
        poolsLock.withLock { pools in
            if let p = pools[threads] { return p }
            let p = WorkerPool(threads: threads)
            pools[threads] = p
            return p
        }
    }
    private static let poolsLock = Mutex<[Int: WorkerPool]>([:])

    /// Runs `body(i, slot)` for i in 0..<chunks and returns when all have finished. `slot`
    /// (0..<threads) names the thread running the chunk, for per-thread scratch buffers.
    public func parallelFor(_ chunks: Int, _ body: @escaping (_ chunk: Int, _ slot: Int) -> Void) {
        if threads == 1 || chunks <= 1 {
            for i in 0..<chunks { body(i, 0) }
            return
        }
        condition.lock()
        job = body; chunkCount = chunks
        next.store(0, ordering: .relaxed)
        active.add(1, ordering: .relaxed)  // the caller counts as active until it has finished claiming
        generation.add(1, ordering: .releasing)
        condition.broadcast()
        condition.unlock()
        claim(body, chunks, slot: 0)
        active.subtract(1, ordering: .releasing)
        // A worker may hold a chunk while descheduled (the machine is shared): spin briefly,
        // then yield the core so it can finish.
        var spins = 0
        while active.load(ordering: .acquiring) != 0 {
            spins += 1
            if spins > 2_000 { sched_yield() }
        }
    }

    private func claim(_ body: (Int, Int) -> Void, _ chunks: Int, slot: Int) {
        while true {
            let i = next.add(1, ordering: .relaxed).oldValue
            if i >= chunks { return }
            body(i, slot)
        }
    }

    private func workerLoop(slot: Int) {
        var seen = 0
        while true {
            // Spin a little: decode issues a job every ~20-50 µs.
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < 5_000 { spins += 1 }
            condition.lock()
            while generation.load(ordering: .acquiring) == seen { condition.wait() }
            seen = generation.load(ordering: .acquiring)
            guard let body = job else { condition.unlock(); continue }
            let chunks = chunkCount
            // Joining only under the lock and only while the caller is still active guarantees
            // the job we copied is the one whose chunks we claim.
            // Join only while the caller is still inside this job. A compare-exchange, not a
            // load then add: the caller may drop `active` to 0 and move on to the next job (reset
            // `next`) in between, and we would run this job's body on the next job's chunks.
            var joined = false
            var current = active.load(ordering: .acquiring)
            while current > 0 {
                let (exchanged, original) = active.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing)
                if exchanged { joined = true; break }
                current = original
            }
            if !joined { condition.unlock(); continue }
            condition.unlock()
            claim(body, chunks, slot: slot)
            active.subtract(1, ordering: .releasing)
        }
    }
}
