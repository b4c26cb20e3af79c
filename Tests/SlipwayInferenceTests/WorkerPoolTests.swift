import Dispatch
import Synchronization
import Testing

@testable import SlipwayInference

@Suite struct WorkerPoolTests {
    @Test func runsEveryChunkExactlyOnce() {
        let pool = WorkerPool(workers: 2)
        for chunks in [2, 3, 7, 64, 1000] {
            let counts = Mutex([Int](repeating: 0, count: chunks))
            pool.run(chunks: chunks) { c in counts.withLock { $0[c] += 1 } }
            #expect(counts.withLock { $0.allSatisfy { $0 == 1 } })
        }
    }

    @Test func serialisesConcurrentCallersWithoutLosingWork() {
        let pool = WorkerPool(workers: 1)
        let total = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 {
                pool.run(chunks: 4) { _ in total.add(1, ordering: .relaxed) }
            }
        }
        #expect(total.load(ordering: .relaxed) == 8 * 50 * 4)
    }

    @Test func splitsRowsAcrossThreadsThroughTheExecutionContext() {
        let context = ExecutionContext(threads: 2)
        let seen = Mutex([Int](repeating: 0, count: 1000))
        context.parallelChunks(1000, minimumPerThread: 10) { range in
            seen.withLock { for i in range { $0[i] += 1 } }
        }
        #expect(seen.withLock { $0.allSatisfy { $0 == 1 } })
    }
}
