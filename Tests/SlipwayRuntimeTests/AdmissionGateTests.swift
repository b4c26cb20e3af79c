import Foundation
import Testing

@testable import SlipwayRuntime

@Suite(.timeLimit(.minutes(1))) struct AdmissionGateTests {
    @Test func refusesWhenTheQueueIsFull() async throws {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        try await gate.acquire(describing: "acme/iris")
        let waiter = Task { try await gate.acquire(describing: "acme/iris") }
        while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
        do {
            try await gate.acquire(describing: "acme/iris version 1 in 'production'")
            Issue.record("a third caller should be refused")
        } catch let error as RuntimeError {
            #expect(error.code == .overloaded)
            #expect(error.retryAfter == 1)
            #expect(error.message.contains("acme/iris version 1 in 'production'"))
        }
        gate.release()
        try await waiter.value
        #expect(gate.running == 1)
        gate.release()
        #expect(gate.running == 0)
    }

    @Test func cancelledWaitersLeaveTheQueue() async throws {
        let gate = AdmissionGate(limit: 1, queueLimit: 4)
        try await gate.acquire(describing: "m")
        let waiter = Task { try await gate.acquire(describing: "m") }
        while gate.waiting == 0 { try await Task.sleep(for: .milliseconds(1)) }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(gate.waiting == 0)
        gate.release()
        #expect(gate.running == 0)
    }
}
