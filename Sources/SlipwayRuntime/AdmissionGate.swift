import Dispatch
import Synchronization

/// Bounds one deployment's concurrent inference calls and the queue waiting for them.
///
/// Up to `limit` callers run at once; up to `queueLimit` more wait in arrival order; any further caller is refused
/// at once with ``RuntimeError/Code/overloaded`` so latency cannot grow without bound. A waiter that is cancelled
/// leaves the queue. A released slot passes straight to the oldest waiter.
///
/// ```swift
/// try await gate.acquire(describing: "acme/iris production v3")
/// defer { gate.release() }
/// ```
final class AdmissionGate: Sendable {
    /// How many callers may run at once.
    let limit: Int
    /// How many callers may wait.
    let queueLimit: Int

    private struct Waiter {
        var id: UInt64
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var running = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        /// Waiters cancelled before they were queued.
        var cancelled: Set<UInt64> = []
    }

    private let state = Mutex(State())

    /// Creates a gate.
    init(limit: Int, queueLimit: Int) {
        self.limit = max(1, limit)
        self.queueLimit = max(0, queueLimit)
    }

    /// Calls now running (for tests and metrics).
    var running: Int { self.state.withLock { $0.running } }
    /// Calls now waiting (for tests and metrics).
    var waiting: Int { self.state.withLock { $0.waiters.count } }

    private enum Decision {
        case run
        case wait(UInt64)
        case full
    }

    /// Waits for a slot; call ``release()`` exactly once after a successful return.
    ///
    /// - Parameter subject: names the deployment in the overload message.
    /// - Throws: ``RuntimeError/Code/overloaded`` when the queue is full; `CancellationError` when cancelled
    ///   while waiting.
    func acquire(describing subject: @autoclosure () -> String) async throws {
        let limit = self.limit
        let queueLimit = self.queueLimit
        let decision = self.state.withLock { state -> Decision in
            if state.running < limit {
                state.running += 1
                return .run
            }
            guard state.waiters.count < queueLimit else { return .full }
            state.nextID &+= 1
            return .wait(state.nextID)
        }
        switch decision {
        case .run:
            return
        case .full:
            throw self.overloaded(subject())
        case .wait(let id):
            let message = subject()
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                    let immediate = self.state.withLock { state -> Result<Void, any Error>? in
                        if state.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                        if state.running < limit {
                            state.running += 1
                            return .success(())
                        }
                        guard state.waiters.count < queueLimit else { return .failure(self.overloaded(message)) }
                        state.waiters.append(Waiter(id: id, continuation: continuation))
                        return nil
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let removed = self.state.withLock { state -> Waiter? in
                    if let index = state.waiters.firstIndex(where: { $0.id == id }) {
                        return state.waiters.remove(at: index)
                    }
                    state.cancelled.insert(id)
                    return nil
                }
                removed?.continuation.resume(throwing: CancellationError())
            }
        }
    }

    /// Takes a slot if one is free now (nobody waits then); call ``release()`` exactly once after `true`.
    func tryAcquire() -> Bool {
        let limit = self.limit
        return self.state.withLock { state in
            guard state.running < limit else { return false }
            state.running += 1
            return true
        }
    }

    /// Frees a slot, handing it to the oldest waiter if there is one.
    func release() {
        let next = self.state.withLock { state -> Waiter? in
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.running -= 1
            return nil
        }
        next?.continuation.resume()
    }

    private func overloaded(_ subject: String) -> RuntimeError {
        RuntimeError(
            .overloaded,
            "\(subject) is busy: \(self.limit) requests running and \(self.queueLimit) waiting; retry after 1 second",
            retryAfter: 1
        )
    }

    // MARK: Cost

    /// The measured cost of one row, in nanoseconds (an exponentially weighted average; 0 until measured).
    private let nanosecondsPerRow = Atomic<UInt64>(0)
    /// How many calls were measured (saturating).
    private let measuredCalls = Atomic<UInt64>(0)

    /// Records one call's compute time.
    ///
    /// A call counts for at most four times the average so far: the time is measured on the clock, and a call whose
    /// thread was preempted midway looks many times slower than it was. Uncapped, one such call lifted a 5 µs model's
    /// average above the inline threshold, and the next dozen requests went the slow way (about 100 a second at full
    /// load). A model that really got slower still raises its average by over a third per call.
    func record(rows: Int, nanoseconds: UInt64) {
        let perRow = nanoseconds / UInt64(max(1, rows))
        let previous = self.nanosecondsPerRow.load(ordering: .relaxed)
        let next = previous == 0 ? perRow : (previous * 7 + min(perRow, previous * 4)) / 8
        self.nanosecondsPerRow.store(next, ordering: .relaxed)
        if self.measuredCalls.load(ordering: .relaxed) < 1_000 {
            self.measuredCalls.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Runs `call` and records its compute time as a call of `rows` rows.
    func measured<T>(rows: Int, _ call: () throws -> T) rethrows -> T {
        let started = DispatchTime.now().uptimeNanoseconds
        let result = try call()
        self.record(rows: rows, nanoseconds: DispatchTime.now().uptimeNanoseconds - started)
        return result
    }

    /// Whether a call of `rows` rows is expected to cost less than `threshold` nanoseconds (after 16 measured calls).
    func isCheap(rows: Int, threshold: UInt64) -> Bool {
        guard threshold > 0, self.measuredCalls.load(ordering: .relaxed) >= 16 else { return false }
        return self.nanosecondsPerRow.load(ordering: .relaxed) * UInt64(max(1, rows)) < threshold
    }
}
