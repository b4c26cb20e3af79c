import Foundation
import Testing

@testable import SlipwayRuntime

@Suite struct ModelHostStateMachineTests {
    typealias Machine = ModelHost.StateMachine<String, Int>

    @Test func loadsOnceAndQueuesWaiters() {
        var machine = Machine(budget: 100)
        let id = UUID()
        guard case .load = machine.acquire(id) else {
            Issue.record("first caller should load")
            return
        }
        guard case .wait = machine.acquire(id) else {
            Issue.record("second caller should wait")
            return
        }
        guard case .queued = machine.wait(for: id, 1) else {
            Issue.record("waiter should queue")
            return
        }
        guard case .queued = machine.wait(for: id, 2) else {
            Issue.record("waiter should queue")
            return
        }
        let (waiters, evicted) = machine.finishLoad(id, .success("session"), bytes: 10)
        #expect(waiters == [1, 2])
        #expect(evicted.isEmpty)
        guard case .ready("session") = machine.acquire(id) else {
            Issue.record("should be ready")
            return
        }
        #expect(machine.loadedBytes == 10)
    }

    @Test func keepsFailuresUntilCleared() {
        var machine = Machine(budget: 100)
        let id = UUID()
        _ = machine.acquire(id)
        _ = machine.finishLoad(id, .failure(RuntimeError(.loadFailed, "broken")), bytes: 0)
        guard case .failed(let error) = machine.acquire(id) else {
            Issue.record("should stay failed")
            return
        }
        #expect(error.message == "broken")
        machine.clearFailures()
        guard case .load = machine.acquire(id) else {
            Issue.record("should retry after clearing")
            return
        }
    }

    @Test func abandonedLoadsLetWaitersRetry() {
        var machine = Machine(budget: 100)
        let id = UUID()
        _ = machine.acquire(id)
        _ = machine.wait(for: id, 7)
        #expect(machine.abandonLoad(id) == [7])
        guard case .retry = machine.wait(for: id, 8) else {
            Issue.record("slot should be gone")
            return
        }
        guard case .load = machine.acquire(id) else {
            Issue.record("next caller should load")
            return
        }
    }

    @Test func evictsLeastRecentlyUsedButNeverActive() {
        var machine = Machine(budget: 30)
        let (active, old, recent, newest) = (UUID(), UUID(), UUID(), UUID())
        _ = machine.setActive([active])
        for id in [active, old, recent] {
            _ = machine.acquire(id)
            _ = machine.finishLoad(id, .success("s"), bytes: 10)
        }
        _ = machine.acquire(active)
        _ = machine.acquire(recent)
        _ = machine.acquire(newest)
        let (_, evicted) = machine.finishLoad(newest, .success("s"), bytes: 10)
        #expect(evicted == [old])
        #expect(machine.isLoaded(active) && machine.isLoaded(recent) && machine.isLoaded(newest))
        #expect(machine.loadedBytes == 30)

        // Everything but the active one goes when the budget shrinks to nothing, the just-loaded one excepted.
        var tight = Machine(budget: 0)
        _ = tight.setActive([active])
        for id in [active, old] {
            _ = tight.acquire(id)
            _ = tight.finishLoad(id, .success("s"), bytes: 10)
        }
        #expect(tight.isLoaded(active))
        #expect(tight.isLoaded(old))
        #expect(tight.setActive([active]) == [old])
        #expect(tight.isLoaded(active))
    }
}
