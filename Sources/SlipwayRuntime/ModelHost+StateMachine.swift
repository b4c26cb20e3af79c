import Foundation

extension ModelHost {
    /// The loaded-session cache as a pure value: which deployments are loading, loaded or failed, which are
    /// active (never evicted), and which of the rest to evict when the memory budget is exceeded (least recently
    /// used first).
    ///
    /// Each deployment's slot moves `absent → loading → ready | failed`; `ready → absent` on eviction,
    /// `failed → absent` when failures are cleared (a later refresh retries). The owner holds the state behind a
    /// lock and carries out the returned actions (start a load, resume waiters); `Waiter` is whatever the owner
    /// resumes (a continuation; an `Int` in tests), `Session` what a load produces.
    struct StateMachine<Session, Waiter> {
        enum Slot {
            case loading([Waiter])
            case ready(Session, bytes: Int, lastUse: UInt64)
            case failed(RuntimeError)
        }

        /// What ``acquire(_:)`` asks the owner to do.
        enum AcquireAction {
            /// The session is loaded.
            case ready(Session)
            /// Another caller is loading it: wait (``wait(for:_:)``).
            case wait
            /// Nobody is: load it now, then call ``finishLoad(_:_:bytes:)`` or ``abandonLoad(_:)``.
            case load
            /// The last load failed.
            case failed(RuntimeError)
        }

        /// What ``wait(for:_:)`` decided.
        enum WaitAction {
            /// The waiter was queued; it is resumed when the load ends.
            case queued
            /// The load ended meanwhile.
            case ready(Session)
            case failed(RuntimeError)
            /// The slot is gone (evicted or abandoned): start over with ``acquire(_:)``.
            case retry
        }

        /// The memory budget in bytes.
        let budget: Int
        private(set) var slots: [UUID: Slot] = [:]
        /// Deployments that are active somewhere: never evicted.
        private(set) var active: Set<UUID> = []
        /// Bytes of the ready sessions.
        private(set) var loadedBytes = 0
        private var clock: UInt64 = 0

        init(budget: Int) {
            self.budget = budget
        }

        /// Whether the deployment's session is loaded.
        func isLoaded(_ id: UUID) -> Bool {
            if case .ready = self.slots[id] { return true }
            return false
        }

        /// How many sessions are loaded.
        var loadedCount: Int {
            var count = 0
            for slot in self.slots.values {
                if case .ready = slot { count += 1 }
            }
            return count
        }

        /// The loaded session, without marking it used.
        func session(_ id: UUID) -> Session? {
            if case .ready(let session, _, _) = self.slots[id] { return session }
            return nil
        }

        /// Looks up a deployment's session, marking it used, or claims the load.
        mutating func acquire(_ id: UUID) -> AcquireAction {
            switch self.slots[id] {
            case .ready(let session, let bytes, _):
                self.clock &+= 1
                self.slots[id] = .ready(session, bytes: bytes, lastUse: self.clock)
                return .ready(session)
            case .loading:
                return .wait
            case .failed(let error):
                return .failed(error)
            case nil:
                self.slots[id] = .loading([])
                return .load
            }
        }

        /// Queues a waiter behind a load in progress.
        mutating func wait(for id: UUID, _ waiter: Waiter) -> WaitAction {
            switch self.slots[id] {
            case .loading(var waiters):
                waiters.append(waiter)
                self.slots[id] = .loading(waiters)
                return .queued
            case .ready(let session, _, _):
                return .ready(session)
            case .failed(let error):
                return .failed(error)
            case nil:
                return .retry
            }
        }

        /// Ends a load: stores the session (or the failure) and evicts what no longer fits.
        ///
        /// - Returns: the waiters to resume and the deployments evicted.
        mutating func finishLoad(
            _ id: UUID,
            _ result: Result<Session, RuntimeError>,
            bytes: Int
        ) -> (waiters: [Waiter], evicted: [UUID]) {
            var waiters: [Waiter] = []
            if case .loading(let queued) = self.slots[id] { waiters = queued }
            if case .ready(_, let previous, _) = self.slots[id] { self.loadedBytes -= previous }
            switch result {
            case .success(let session):
                self.clock &+= 1
                self.slots[id] = .ready(session, bytes: bytes, lastUse: self.clock)
                self.loadedBytes += bytes
            case .failure(let error):
                self.slots[id] = .failed(error)
            }
            return (waiters, self.evict(keeping: id))
        }

        /// Gives up a load that did not finish (its task was cancelled): the waiters retry.
        mutating func abandonLoad(_ id: UUID) -> [Waiter] {
            guard case .loading(let waiters) = self.slots[id] else { return [] }
            self.slots[id] = nil
            return waiters
        }

        /// Stores a session loaded elsewhere (by the verifier) unless one is already there.
        ///
        /// - Returns: the deployments evicted to make room.
        mutating func insert(_ id: UUID, _ session: Session, bytes: Int) -> (waiters: [Waiter], evicted: [UUID]) {
            if case .ready = self.slots[id] { return ([], []) }
            return self.finishLoad(id, .success(session), bytes: bytes)
        }

        /// Replaces the set of active deployments and evicts what no longer fits.
        mutating func setActive(_ ids: Set<UUID>) -> [UUID] {
            self.active = ids
            return self.evict(keeping: nil)
        }

        /// Adds one active deployment (a local activation) and evicts what no longer fits.
        mutating func addActive(_ id: UUID) -> [UUID] {
            self.active.insert(id)
            return self.evict(keeping: id)
        }

        /// Forgets failed loads so that the next use retries.
        mutating func clearFailures() {
            for (id, slot) in self.slots {
                if case .failed = slot { self.slots[id] = nil }
            }
        }

        /// Evicts ready, inactive sessions, least recently used first, until the loaded bytes fit the budget.
        /// `keeping` (the session just loaded) is never evicted, so a pinned version larger than the budget is
        /// still served.
        private mutating func evict(keeping: UUID?) -> [UUID] {
            var evicted: [UUID] = []
            while self.loadedBytes > self.budget {
                var victim: (id: UUID, bytes: Int, lastUse: UInt64)?
                for (id, slot) in self.slots where id != keeping && !self.active.contains(id) {
                    if case .ready(_, let bytes, let lastUse) = slot, lastUse < victim?.lastUse ?? .max {
                        victim = (id, bytes, lastUse)
                    }
                }
                guard let victim else { break }
                self.slots[victim.id] = nil
                self.loadedBytes -= victim.bytes
                evicted.append(victim.id)
            }
            return evicted
        }
    }
}
