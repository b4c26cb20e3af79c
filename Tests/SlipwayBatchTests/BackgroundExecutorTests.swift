import Foundation
import Testing

@testable import SlipwayBatch

@Suite("Batch jobs' background thread")
struct BackgroundExecutorTests {
    @Test("a task that prefers it runs at idle priority, across suspensions, and the caller's thread does not")
    func runsWorkAtIdlePriority() async throws {
        #if os(Linux)
        let outside = BackgroundExecutor.currentPolicy()
        let policies = try await withTaskExecutorPreference(BackgroundExecutor.shared) {
            var seen: [Int32?] = [BackgroundExecutor.currentPolicy()]
            try await Task.sleep(for: .milliseconds(5))
            seen.append(BackgroundExecutor.currentPolicy())
            await Task.yield()
            seen.append(BackgroundExecutor.currentPolicy())
            return seen
        }
        #expect(
            policies == [BackgroundExecutor.idlePolicy, BackgroundExecutor.idlePolicy, BackgroundExecutor.idlePolicy]
        )
        #expect(outside != BackgroundExecutor.idlePolicy)
        #expect(BackgroundExecutor.currentPolicy() != BackgroundExecutor.idlePolicy)
        #endif
    }
}
