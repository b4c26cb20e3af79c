import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// State that every request touches, split into shards under their own locks, one shard per calling thread (as far
/// as there are shards): the network threads that answer predictions each use their own and never wait on each
/// other. A thread that waits on a lock sleeps, and on a busy machine it may sleep for milliseconds before it runs
/// again, which showed in the predictions' tail.
///
/// Threads get shards in the order they first use one (round robin), so the first `count` threads have one each.
/// State every thread must see is written to every shard (``withEach(_:)``); totals are read by visiting them all.
///
/// ```swift
/// let counts = ThreadShards(count: 8) { [String: Int]() }
/// counts.withCurrent { $0["predictions", default: 0] += 1 }
/// var total = 0
/// counts.withEach { total += $0["predictions"] ?? 0 }
/// ```
public final class ThreadShards<Value>: Sendable {
    // Inlinable, so that callers in other modules get code specialized to their `Value`: unspecialized, every call
    // looked up generic metadata and went through value witnesses (predictions were 8% slower on one core).
    @usableFromInline final class Shard: Sendable {
        @usableFromInline let state: Mutex<Value>

        @usableFromInline init(_ value: sending Value) {
            self.state = Mutex(value)
        }
    }

    @usableFromInline let shards: [Shard]

    /// A power of two: four per processor (so the network threads, one per core, rarely share one), at most 64.
    public static var defaultCount: Int {
        var count = 1
        while count < min(64, 4 * ProcessInfo.processInfo.activeProcessorCount) { count *= 2 }
        return count
    }

    /// Creates `count` shards, each holding `make()`.
    public init(count: Int = ThreadShards.defaultCount, _ make: () -> sending Value) {
        precondition(count > 0, "ThreadShards needs at least one shard")
        self.shards = (0..<count).map { _ in Shard(make()) }
    }

    /// How many shards.
    @inlinable public var count: Int { self.shards.count }

    /// Runs `body` on the calling thread's shard, under its lock.
    @inlinable public func withCurrent<Result>(
        _ body: (inout sending Value) throws -> sending Result
    ) rethrows -> Result {
        try self.shards[ThreadIndex.current % self.shards.count].state.withLock { try body(&$0) }
    }

    /// Runs `body` on one shard (`index` modulo the count), under its lock.
    @inlinable public func withShard<Result>(
        _ index: Int,
        _ body: (inout sending Value) throws -> sending Result
    ) rethrows -> Result {
        try self.shards[index % self.shards.count].state.withLock { try body(&$0) }
    }

    /// Runs `body` on every shard in turn, each under its lock.
    @inlinable public func withEach(_ body: (inout sending Value) throws -> Void) rethrows {
        for shard in self.shards {
            try shard.state.withLock { try body(&$0) }
        }
    }
}

/// A small number per thread, given in the order threads first ask (kept in thread-local storage).
@usableFromInline enum ThreadIndex {
    @usableFromInline static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "pthread_key_create failed: \(status)")
        return key
    }()
    @usableFromInline static let next = Atomic<Int>(0)

    /// The calling thread's number.
    @inlinable static var current: Int {
        if let stored = pthread_getspecific(self.key) { return Int(bitPattern: stored) - 1 }
        let index = self.next.wrappingAdd(1, ordering: .relaxed).oldValue & 0xFFFF
        // Stored plus one: a thread's storage starts as nil.
        pthread_setspecific(self.key, UnsafeRawPointer(bitPattern: index + 1))
        return index
    }
}
