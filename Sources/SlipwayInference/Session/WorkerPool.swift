import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small pool of persistent worker threads that run the chunks of one parallel loop with the caller.
///
/// Waking a thread through GCD for every call cost about 40 µs, as much as the whole work of a 1,000-row tree
/// ensemble; workers here spin briefly after each job (so back-to-back calls find them awake) and then sleep on a
/// condition variable. One job runs at a time; a caller that finds the pool busy falls back to
/// `DispatchQueue.concurrentPerform`.
final class WorkerPool: @unchecked Sendable {
    // @unchecked Sendable: `current`, `sleepers` and the condition are guarded by `mutex`; the rest is atomic.

    /// One parallel loop: `chunks` calls of `body`, handed out by an atomic counter.
    final class Job: @unchecked Sendable {
        // @unchecked Sendable: `body` is read only by a thread that has claimed a chunk below `chunks`, and the
        // caller clears it only after `done == chunks`, so reads and the clearing write never overlap. Clearing
        // it before returning keeps the caller's closure from outliving the call even while a worker still holds
        // the job.
        var body: ((Int) -> Void)?
        let chunks: Int
        let next = Atomic<Int>(0)
        let done = Atomic<Int>(0)

        init(chunks: Int, body: @escaping (Int) -> Void) {
            self.chunks = chunks
            self.body = body
        }

        /// Claims and runs chunks until none are left.
        func work() {
            while true {
                let c = self.next.add(1, ordering: .relaxed).oldValue
                if c >= self.chunks { return }
                self.body?(c)
                self.done.add(1, ordering: .releasing)
            }
        }
    }

    /// The pool shared by every session: one worker per extra core.
    static let shared = WorkerPool(workers: max(0, System.coreCount - 1))

    let workerCount: Int
    private let generation = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var current: Job?
    private var sleepers = 0

    /// How long a worker keeps polling for the next job before it sleeps. Between back-to-back calls a model
    /// spends tens of microseconds in serial nodes; a poll count ran out within that on some calls, so the
    /// next call paid a wake-up and ran nearly single-threaded.
    private static let spinNanoseconds: UInt64 = 500_000

    init(workers: Int) {
        self.workerCount = workers
        pthread_mutex_init(&self.mutex, nil)
        pthread_cond_init(&self.condition, nil)
        for _ in 0..<workers {
            // Workers keep the pool alive: a pool lives for the rest of the process (the engine uses one).
            let thread = Thread { self.workerLoop() }
            thread.start()
        }
    }

    /// Runs `body(0..<chunks)` across the workers and the calling thread; returns when every chunk is done.
    func run(chunks: Int, _ body: @escaping (Int) -> Void) {
        guard self.workerCount > 0, chunks > 1,
            self.busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else {
            // Safe: concurrentPerform returns only after every iteration has finished.
            nonisolated(unsafe) let body = body
            DispatchQueue.concurrentPerform(iterations: chunks) { body($0) }
            return
        }
        let job = Job(chunks: chunks, body: body)
        pthread_mutex_lock(&self.mutex)
        self.current = job
        self.generation.add(1, ordering: .releasing)
        if self.sleepers > 0 { pthread_cond_broadcast(&self.condition) }
        pthread_mutex_unlock(&self.mutex)
        job.work()
        while job.done.load(ordering: .acquiring) < chunks {}
        job.body = nil
        pthread_mutex_lock(&self.mutex)
        self.current = nil
        pthread_mutex_unlock(&self.mutex)
        self.busy.store(false, ordering: .releasing)
    }

    private func workerLoop() {
        var seen = self.generation.load(ordering: .acquiring)
        while true {
            var spins = 0
            let spinStart = Self.now()
            while self.generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins & 1023 != 0 || Self.now() &- spinStart < Self.spinNanoseconds { continue }
                pthread_mutex_lock(&self.mutex)
                while self.generation.load(ordering: .acquiring) == seen {
                    self.sleepers += 1
                    pthread_cond_wait(&self.condition, &self.mutex)
                    self.sleepers -= 1
                }
                pthread_mutex_unlock(&self.mutex)
            }
            seen = self.generation.load(ordering: .acquiring)
            pthread_mutex_lock(&self.mutex)
            let job = self.current
            pthread_mutex_unlock(&self.mutex)
            job?.work()
        }
    }
}

extension WorkerPool {
    /// A monotonic clock reading in nanoseconds.
    static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}

/// Machine facts.
enum System {
    /// The number of cores the process may use.
    static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
