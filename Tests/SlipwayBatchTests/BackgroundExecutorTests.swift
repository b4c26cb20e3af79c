import Foundation
import Testing

@testable import SlipwayBatch

@Suite("Batch jobs' background thread")
struct BackgroundExecutorTests {
    @Test("a task that prefers it runs at nice +10, across suspensions, and the caller's thread does not")
    func runsWorkAtLowerPriority() async throws {
        #if os(Linux)
        let outside = BackgroundExecutor.currentNiceness()
        let niceness = try await withTaskExecutorPreference(BackgroundExecutor.shared) {
            var seen: [Int32?] = [BackgroundExecutor.currentNiceness()]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(BackgroundExecutor.currentNiceness())
            await Task.yield()
            seen.append(BackgroundExecutor.currentNiceness())
            return seen
        }
        let lowered = BackgroundExecutor.niceness
        #expect(niceness == [lowered, lowered, lowered])
        #expect(outside != lowered)
        #expect(BackgroundExecutor.currentNiceness() != lowered)
        #endif
    }
}
