import Foundation
import SlipwayRegistry

/// A task executor with one thread of its own at a lower scheduling priority (``ThreadPriority``, nice +10), for batch
/// jobs.
///
/// A job's reading, decoding, scoring and writing run on this thread (``BatchJobRunner`` prefers it for the job's
/// task), so the scheduler favours online requests on the network and inference threads over it: on the cooperative
/// pool, decoding a chunk had held a core that an online request was waiting for.
/// One thread serves the whole process; jobs run one at a time per server anyway.
final class BackgroundExecutor: TaskExecutor, @unchecked Sendable {
    /// The process's background thread, started on first use.
    static let shared = BackgroundExecutor()

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
        ThreadPriority.makeCurrentThreadBackground(named: "slipway-batch")
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
}
