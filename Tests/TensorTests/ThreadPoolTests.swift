import Foundation
import Synchronization
import XCTest
@testable import Tensor

final class ThreadPoolTests: XCTestCase {
    /// Every index is visited exactly once, for sizes around the chunking boundaries, many
    /// times in a row (generations must not leak chunks into the next call).
    func testCoversEveryIndexOnce() {
        let pool = ThreadPool(threads: 3)
        for count in [1, 2, 7, 16, 17, 100, 1000, 4097] {
            for grain in [1, 16] {
                let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
                hits.initialize(repeating: 0, count: count)
                defer { hits.deallocate() }
                for _ in 0..<50 {
                    pool.parallelFor(count, grain: grain) { range in for i in range { hits[i] += 1 } }
                    pool.parallelFor(count, chunk: grain * 2) { range in
                        XCTAssertLessThanOrEqual(range.count, grain * 2)
                        for i in range { hits[i] += 1 }
                    }
                }
                for i in 0..<count { XCTAssertEqual(hits[i], 100, "count \(count) grain \(grain) index \(i)") }
            }
        }
    }

    func testUsesMoreThanOneThread() {
        let pool = ThreadPool(threads: 2)
        let threads = Mutex<Set<UInt>>([])
        for _ in 0..<200 {
            pool.parallelFor(64, grain: 1) { _ in
                let id = UInt(pthread_self())
                threads.withLock { _ = $0.insert(id) }
                usleep(50)
            }
        }
        XCTAssertEqual(threads.withLock { $0.count }, 2, "the worker never took a chunk")
    }

    /// Each slot is used by one thread only, the caller is slot 0, all slots are in range.
    func testSlotsArePerThread() {
        let pool = ThreadPool(threads: 2)
        let owners = Mutex<[Int: UInt]>([:])
        let caller = UInt(pthread_self())
        for _ in 0..<100 {
            pool.parallelFor(32, chunk: 1) { _, slot in
                XCTAssertTrue((0..<2).contains(slot))
                let me = UInt(pthread_self())
                owners.withLock { map in
                    if let owner = map[slot] { XCTAssertEqual(owner, me, "slot \(slot) used by two threads") } else { map[slot] = me }
                }
                if slot == 0 { XCTAssertEqual(me, caller) }
            }
        }
    }

    /// Documented misuse: a nested call runs serially on its thread instead of deadlocking.
    func testNestedCallRunsSerially() {
        let pool = ThreadPool(threads: 2)
        let total = Atomic<Int>(0)
        pool.parallelFor(8, grain: 1) { outer in
            for _ in outer {
                pool.parallelFor(10, grain: 1) { inner in total.add(inner.count, ordering: .relaxed) }
            }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 80)
    }

    /// Two threads sharing one pool: the second runs serially; both get complete results.
    func testConcurrentCallersBothComplete() {
        let pool = ThreadPool(threads: 2)
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            for _ in 0..<100 { pool.parallelFor(100, grain: 4) { r in total.add(r.count, ordering: .relaxed) } }
        }
        XCTAssertEqual(total.load(ordering: .relaxed), 4 * 100 * 100)
    }

    func testPoolIsReleased() {
        weak var weakPool: ThreadPool?
        do {
            let pool = ThreadPool(threads: 2)
            pool.parallelFor(10) { _ in }
            weakPool = pool
        }
        XCTAssertNil(weakPool, "workers must not keep the pool alive")
    }
}

/// A fixed chunk size holds on every path: one thread, and a nested (serial) call.
final class ThreadPoolChunkTests: XCTestCase {
    func testFixedChunkIsKeptWhenRunningSerially() {
        for pool in [ThreadPool(threads: 1), ThreadPool(threads: 2)] {
            let sizes = Mutex<[Int]>([])
            pool.parallelFor(4, chunk: 1) { _ in
                pool.parallelFor(100, chunk: 32) { r in sizes.withLock { $0.append(r.count) } }
            }
            XCTAssertEqual(sizes.withLock { $0 }.max(), 32, "threads \(pool.threads)")
            XCTAssertEqual(sizes.withLock { $0 }.reduce(0, +), 400)
        }
    }
}
