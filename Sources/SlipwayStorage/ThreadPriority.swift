import NIOConcurrencyHelpers
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Lowers the scheduling priority of a thread pool's threads.
///
/// The embedded database runs its queries on its own threads. Most of what they do under load is background
/// writing (prediction outcomes, statistics), which on a small machine competes for the same cores as the threads
/// answering predictions: at the default priority the kernel may let a long insert run for a few milliseconds while
/// a request waits, which shows in the latency tail. A lower priority (a higher nice value) lets the request threads
/// preempt it at once; the writes still get every idle cycle. Linux keeps the nice value per thread, so this touches
/// only the pool's threads. Elsewhere it does nothing.
enum ThreadPriority {
    /// Runs one job on each of the pool's `threads` threads (they wait for each other, so no thread takes two) that
    /// raises the thread's nice value to `nice`.
    static func lower(_ pool: NIOThreadPool, threads: Int, nice: Int32) async {
        #if os(Linux)
        let arrived = NIOLockedValueBox(0)
        let condition = ConditionLock(value: 0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<threads {
                group.addTask {
                    _ = try? await pool.runIfActive {
                        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)
                        let count = arrived.withLockedValue { value -> Int in
                            value += 1
                            return value
                        }
                        if count == threads {
                            condition.lock()
                            condition.unlock(withValue: 1)
                        } else {
                            // Hold this thread until every thread has taken its job (bounded: never hang startup).
                            if condition.lock(whenValue: 1, timeoutSeconds: 2) { condition.unlock() }
                        }
                    }
                }
            }
        }
        #endif
    }
}
