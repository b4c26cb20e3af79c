import Testing

@testable import SlipwayRuntime

/// The per-deployment cost estimate that decides whether a call runs inline or on the inference threads.
@Suite struct InferenceCostTests {
    @Test func staysOnThePoolUntilMeasured() {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        for _ in 0..<15 { gate.record(rows: 1, nanoseconds: 1_000) }
        #expect(!gate.isCheap(rows: 1, threshold: 50_000))
        gate.record(rows: 1, nanoseconds: 1_000)
        #expect(gate.isCheap(rows: 1, threshold: 50_000))
    }

    @Test func scalesTheEstimateWithTheRows() {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        for _ in 0..<20 { gate.record(rows: 10, nanoseconds: 10_000) }
        #expect(gate.isCheap(rows: 10, threshold: 50_000))
        #expect(!gate.isCheap(rows: 1_000, threshold: 50_000))
    }

    @Test func neverInlinesWithAZeroThresholdOrAnExpensiveModel() {
        let cheap = AdmissionGate(limit: 1, queueLimit: 1)
        let costly = AdmissionGate(limit: 1, queueLimit: 1)
        for _ in 0..<20 {
            cheap.record(rows: 1, nanoseconds: 1_000)
            costly.record(rows: 1, nanoseconds: 5_000_000)
        }
        #expect(!cheap.isCheap(rows: 1, threshold: 0))
        #expect(!costly.isCheap(rows: 1, threshold: 50_000))
    }

    @Test func onePreemptedCallDoesNotMakeACheapModelCostly() {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        for _ in 0..<20 { gate.record(rows: 1, nanoseconds: 5_000) }
        // A 5 µs call whose thread lost its core for 2 ms.
        gate.record(rows: 1, nanoseconds: 2_000_000)
        #expect(gate.isCheap(rows: 1, threshold: 50_000))
    }

    @Test func aModelThatGotSlowerIsSoonCostly() {
        let gate = AdmissionGate(limit: 1, queueLimit: 1)
        for _ in 0..<20 { gate.record(rows: 1, nanoseconds: 5_000) }
        for _ in 0..<12 { gate.record(rows: 1, nanoseconds: 2_000_000) }
        #expect(!gate.isCheap(rows: 1, threshold: 50_000))
    }
}
