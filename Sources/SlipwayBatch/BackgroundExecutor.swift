import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A task executor with one thread of its own at a lower scheduling priority (nice +10), for batch jobs.
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

    /// Lowers the calling thread's priority to nice +10 (Linux: the nice value is the thread's own): when it competes
    /// with threads at nice 0 it gets about a tenth of a core's time.
    ///
    /// Not Linux's `SCHED_IDLE`, which an earlier version used: a thread under it runs only when a core has nothing
    /// else to do, and it takes locks that the network threads also take (the deployment's admission gate, the model
    /// host's routes), so on a saturated machine a network thread waiting for such a lock would wait until a core fell
    /// idle. At nice +10 the holder still gets its share within milliseconds.
    static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
        #endif
    }

    /// The calling thread's nice value (Linux), for tests.
    static func currentNiceness() -> Int32? {
        #if os(Linux)
        errno = 0
        let value = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        return errno == 0 ? value : nil
        #else
        return nil
        #endif
    }
}
