import Synchronization

/// A first-in, first-out lock for async code: waiters suspend instead of blocking a thread.
///
/// SQLite allows one writer at a time. Queuing this process's writers here, before they take a connection,
/// keeps them from spinning in SQLite's busy handler on the threads that the lock holder needs to finish.
final class AsyncLock: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Suspends until the lock is free, then takes it.
    func lock() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = self.state.withLock { state in
                if state.isLocked {
                    state.waiters.append(continuation)
                    return false
                }
                state.isLocked = true
                return true
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock to the longest waiter, or frees it.
    func unlock() {
        let next = self.state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }

    /// Runs `body` holding the lock.
    func withLock<R>(_ body: () async throws -> R) async throws -> R {
        await self.lock()
        defer { self.unlock() }
        return try await body()
    }
}
