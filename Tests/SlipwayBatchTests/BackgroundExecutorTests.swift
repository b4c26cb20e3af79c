import Foundation
import SlipwayRegistry
import Testing

@testable import SlipwayBatch

@Suite("Batch jobs' background thread")
struct BackgroundExecutorTests {
    @Test("a task that prefers it runs at nice +10, across suspensions, and the caller's thread does not")
    func runsWorkAtLowerPriority() async throws {
        #if os(Linux)
        let outside = ThreadPriority.currentNiceness()
        let niceness = try await withTaskExecutorPreference(BackgroundExecutor.shared) {
            var seen: [Int32?] = [ThreadPriority.currentNiceness()]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(ThreadPriority.currentNiceness())
            await Task.yield()
            seen.append(ThreadPriority.currentNiceness())
            return seen
        }
        let lowered = ThreadPriority.backgroundNiceness
        #expect(niceness == [lowered, lowered, lowered])
        #expect(outside != lowered)
        #expect(ThreadPriority.currentNiceness() != lowered)
        #endif
    }
}
