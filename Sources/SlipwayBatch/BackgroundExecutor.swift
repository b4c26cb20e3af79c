import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A task executor with one thread of its own at the lowest scheduling priority (Linux's `SCHED_IDLE`), for batch
/// jobs.
///
/// A job's reading, decoding, scoring and writing run on this thread (``BatchJobRunner`` prefers it for the job's
/// task), so the scheduler favours online requests on the network and inference threads over it: on the cooperative
/// pool, decoding a chunk had held a core that an online request was waiting for.
/// One thread serves the whole process; jobs run one at a time per server anyway.
final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {
    /// The process's background thread, started on first use.
    static let shared = BackgroundExecutor()

    /// How much lower than the other threads the background thread runs (a nice value; raising it needs no
    /// privilege).
    static let niceness: Int32 = 10

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init() {
        Thread { [unowned self] in self.loop() }.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        self.jobs.append(job)
        self.condition.signal()
        self.condition.unlock()
    }

    private func loop() {
        #if os(Linux)
        // Named for `top -H` and `perf` (Foundation's `Thread.name` leaves the thread its creator's name on Linux, and
        // the Glibc module does not export `pthread_setname_np`).
        try? "slipway-batch".write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
        Self.lowerPriority()
        let executor = self.asUnownedTaskExecutor()
        while true {
            self.condition.lock()
            while self.jobs.isEmpty { self.condition.wait() }
            let ready = self.jobs
            self.jobs.removeAll(keepingCapacity: true)
            self.condition.unlock()
            for job in ready { job.runSynchronously(on: executor) }
        }
    }

    /// Lowers the calling thread's priority: Linux's `SCHED_IDLE` policy (the kernel runs it only when no thread of
    /// the normal policy is ready), and nice +10 where that policy is refused. Both apply to the calling thread only.
    /// On the benchmark VM a thread under `SCHED_IDLE` still delayed some online answers by milliseconds; whether
    /// nice +10 alone does better is not settled.
    static func lowerPriority() {
        #if os(Linux)
        var parameters = sched_param(sched_priority: 0)
        if sched_setscheduler(0, Self.idlePolicy, &parameters) != 0 {
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        }
        #endif
    }

    /// Linux's `SCHED_IDLE` (`<sched.h>` defines it only under `_GNU_SOURCE`, which Swift's Glibc module does not
    /// set).
    static let idlePolicy: Int32 = 5

    /// The calling thread's scheduling policy (Linux), for tests.
    static func currentPolicy() -> Int32? {
        #if os(Linux)
        return sched_getscheduler(0)
        #else
        return nil
        #endif
    }
}
