import Foundation
import Synchronization
import Testing

@testable import SlipwayRuntime

@Suite struct ThreadShardsTests {
    @Test func countsFromManyThreadsAddUp() {
        let shards = ThreadShards(count: 4) { 0 }
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            for _ in 0..<1_000 { shards.withCurrent { $0 += 1 } }
        }
        var total = 0
        shards.withEach { total += $0 }
        #expect(total == 16_000)
    }

    @Test func aThreadKeepsItsShardAndThreadsTakeTheNextOne() throws {
        let shards = ThreadShards(count: 64) { [Int]() }
        // Each thread writes its own number twice, into whatever its shard is.
        let threads = 6
        let done = Mutex(0)
        var started: [Thread] = []
        for number in 0..<threads {
            let thread = Thread {
                shards.withCurrent { $0.append(number) }
                shards.withCurrent { $0.append(number) }
                done.withLock { $0 += 1 }
            }
            started.append(thread)
            thread.start()
        }
        let deadline = Date().addingTimeInterval(10)
        while done.withLock({ $0 }) < threads && Date() < deadline { usleep(1_000) }
        try #require(done.withLock { $0 } == threads)
        // A thread's two writes land in one shard; new threads get shards of their own (64 is more than this
        // process's threads have asked for).
        var filled: [[Int]] = []
        shards.withEach { if !$0.isEmpty { filled.append($0) } }
        #expect(filled.count == threads)
        #expect(filled.allSatisfy { $0.count == 2 && $0[0] == $0[1] })
        #expect(Set(filled.map { $0[0] }) == Set(0..<threads))
    }

    @Test func writesToEveryShardAreSeenByEveryThread() {
        let shards = ThreadShards(count: 8) { [String: Int]() }
        shards.withEach { $0["decision"] = 7 }
        let seen = Mutex<[Int?]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            let value = shards.withCurrent { $0["decision"] }
            seen.withLock { $0.append(value) }
        }
        #expect(seen.withLock { $0 } == Array(repeating: 7, count: 8))
    }
}
