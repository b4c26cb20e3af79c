import Foundation
import Logging
import ServiceLifecycle
import SlipwayRegistry

#if canImport(Glibc)
import Glibc
#endif

/// The feedback layer's background work: writes buffered records in batches every second, re-reads log settings,
/// prunes old outcomes and log entries, evaluates alerts and delivers webhooks. On graceful shutdown it writes
/// what is still buffered before the database closes (list it after the repository's service).
public struct FeedbackService: Service, CustomStringConvertible {
    /// The service's name, as the service group logs it (without it, the group's start described every stored
    /// property by reflection: about a tenth of a start's CPU time).
    public var description: String { "FeedbackService" }

    let recorder: FeedbackRecorder
    let repository: any FeedbackRepository
    let evaluator: AlertEvaluator
    let webhooks: WebhookSender
    let configuration: FeedbackConfiguration
    let logger: Logger

    /// Creates the service.
    public init(
        recorder: FeedbackRecorder,
        repository: any FeedbackRepository,
        evaluator: AlertEvaluator,
        webhooks: WebhookSender,
        configuration: FeedbackConfiguration,
        logger: Logger
    ) {
        self.recorder = recorder
        self.repository = repository
        self.evaluator = evaluator
        self.webhooks = webhooks
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.webhooks.run() }
            await self.refreshSettings()
            let clock = ContinuousClock()
            var nextSettings = clock.now + self.configuration.settingsInterval
            var nextPrune = clock.now
            var nextAlerts = clock.now + self.configuration.alertInterval
            var busy = false
            var lastFlush = clock.now
            while true {
                let filled: Bool
                do {
                    // Only the wait is cancelled on shutdown, never a write in progress.
                    let since = lastFlush
                    filled = try await cancelWhenGracefulShutdown {
                        try await self.waitForFlush(since: since, clock: clock)
                    }
                } catch {
                    break
                }
                lastFlush = clock.now
                // A buffer that filled up before its second was over is written at full speed: the server is busy,
                // and pauses would only make the next flush come sooner.
                let written = await self.flush(paced: !filled)
                // Memory freed by busy flushes goes back to the system once the traffic calms down; trimming
                // during the traffic would hand back pages the next second's records need again (page faults,
                // and the arena locks held while requests allocate).
                if written >= Self.busyRecords {
                    busy = true
                } else if busy, written < Self.busyRecords / 10 {
                    busy = false
                    Self.returnFreedMemory()
                }
                let now = clock.now
                if now >= nextSettings {
                    await self.refreshSettings()
                    nextSettings = now + self.configuration.settingsInterval
                }
                if now >= nextPrune {
                    await self.prune()
                    nextPrune = now + self.configuration.pruneInterval
                }
                if now >= nextAlerts {
                    await self.evaluator.evaluateAll()
                    nextAlerts = now + self.configuration.alertInterval
                }
            }
            await self.flush()
            self.webhooks.finish()
        }
    }

    /// A flush of at least this many records marks a busy period; the freed memory is returned after it.
    static let busyRecords = 1_000

    /// How often the wait for the next flush looks at the buffer.
    static let bufferCheck = Duration.milliseconds(50)

    /// Returns when a flush is due: one flush interval after the last one began, or as soon as the buffer is half
    /// full (then it returns `true`). A busy server (40,000 predictions a second fill a 20,000-record buffer in half a
    /// second) is written as often as it needs, instead of dropping what a one-second timer could not take.
    func waitForFlush(since lastFlush: ContinuousClock.Instant, clock: ContinuousClock) async throws -> Bool {
        let due = lastFlush + self.configuration.flushInterval
        while clock.now < due {
            if self.recorder.bufferedCount >= self.recorder.maximumBuffered / 2 { return true }
            try await Task.sleep(for: min(Self.bufferCheck, due - clock.now))
        }
        return false
    }

    /// Rows written per transaction while the flush is paced.
    ///
    /// Small transactions, spaced out (``pacing``), keep the writes from crowding out the requests. Written all
    /// together, a second of traffic at 22,000 predictions/s took about 55 ms of one core in one go: for that time the
    /// network threads, the writer and the load shared two cores they could not all fill, and the requests of that
    /// moment made up the slowest percent (p99 3–5 ms, against about 1.5 ms with no outcomes written). In chunks of
    /// 100 rows, each followed by a pause, p99 went to 1.5–2.1 ms in alternating runs. The price is more work per row
    /// (each commit writes the indexes' last pages to the write-ahead log again), paid when the cores have room. These
    /// transactions are ``WritePriority/background`` writes: with SQLite their statements run at lower priority, so a
    /// network thread that wakes up does not wait for one.
    package static let rowsPerTransaction = 100

    /// Rows written per transaction once a flush writes on without pauses (it is behind): each transaction's
    /// statements wait for the network threads, which a saturated server keeps busy, so fewer and larger transactions
    /// catch up sooner. In 100-row transactions a server answering 38,000 predictions a second wrote about 34,000
    /// outcomes a second, and its buffer overflowed.
    package static let rowsPerCatchUpTransaction = 500

    /// After each transaction a paced flush waits this many times as long as the transaction took, so the writes use
    /// at most a fifth of a core.
    package static let pacing = 4

    /// Writes what the recorder buffered: outcomes first (feedback joins with them), then log entries. Returns how
    /// many records it took.
    ///
    /// - Parameter paced: pause after every transaction (``pacing``), until the flush has taken half of the flush
    ///   interval or the buffer is a quarter full again: the rest is written at once, in larger transactions, so
    ///   that a busy second never falls behind the next. Pauses end when a graceful shutdown begins.
    @discardableResult
    public func flush(paced: Bool = false) async -> Int {
        let (outcomes, logged, dropped) = self.recorder.drain()
        if dropped > 0 {
            self.logger.warning(
                "prediction records dropped: the buffer was full (their feedback cannot be joined)",
                metadata: ["records.dropped": "\(dropped)"]
            )
        }
        guard !outcomes.isEmpty else { return 0 }
        let clock = ContinuousClock()
        let started = clock.now
        var pacing = paced
        var failed = 0
        var lastError: (any Error)?
        /// Writes `records` in transactions (sized by whether the flush still paces), pausing after each while it
        /// does; a failed transaction is counted and the next one tried.
        func write<Record>(_ records: [Record], _ insert: ([Record], WritePriority) async throws -> Void) async {
            var index = 0
            while index < records.count {
                let end = min(
                    index + (pacing ? Self.rowsPerTransaction : Self.rowsPerCatchUpTransaction),
                    records.count
                )
                let written = clock.now
                do {
                    // Paced transactions leave the cores to the requests; a flush that is behind catches up.
                    try await insert(Array(records[index..<end]), pacing ? .background : .normal)
                } catch {
                    failed += end - index
                    lastError = error
                }
                index = end
                if pacing { pacing = await self.pause(after: written, flushStarted: started, clock: clock) }
            }
        }
        await write(outcomes) { try await self.repository.insertOutcomes($0, priority: $1) }
        await write(logged) { records, priority in
            let entries = records.compactMap(RecordConversion.logEntry)
            if !entries.isEmpty { try await self.repository.insertLogEntries(entries, priority: priority) }
        }
        if let lastError {
            self.logger.warning(
                "writing prediction records failed",
                metadata: ["records.failed": "\(failed)", "error": "\(lastError)"]
            )
        }
        return outcomes.count
    }

    /// Waits after the transaction begun at `written` (``pause(transaction:flushElapsed:interval:buffered:capacity:)``)
    /// and returns whether it did; a graceful shutdown ends the wait.
    private func pause(
        after written: ContinuousClock.Instant,
        flushStarted: ContinuousClock.Instant,
        clock: ContinuousClock
    ) async -> Bool {
        let now = clock.now
        let pause = Self.pause(
            transaction: now - written,
            flushElapsed: now - flushStarted,
            interval: self.configuration.flushInterval,
            buffered: self.recorder.bufferedCount,
            capacity: self.recorder.maximumBuffered
        )
        guard let pause else { return false }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
        return true
    }

    /// How long a paced flush waits after a transaction that took `transaction`, when the flush has been running for
    /// `flushElapsed` and `buffered` new records of at most `capacity` wait for the next one: ``pacing`` times the
    /// transaction, or `nil` (write on) once the flush has taken half of the flush interval or the buffer is a
    /// quarter full again.
    package static func pause(
        transaction: Duration,
        flushElapsed: Duration,
        interval: Duration,
        buffered: Int,
        capacity: Int
    ) -> Duration? {
        flushElapsed < interval / 2 && buffered < capacity / 4 ? transaction * Self.pacing : nil
    }

    /// Hands memory freed by a large flush back to the operating system. glibc keeps freed blocks in its arenas, so
    /// after a burst of traffic the process would otherwise keep the burst's buffers as resident memory for good.
    static func returnFreedMemory() {
        #if canImport(Glibc)
        // `malloc_trim` is glibc's (malloc.h, which the Glibc module does not export): looked up once.
        _ = Self.mallocTrim?(0)
        #endif
    }

    #if canImport(Glibc)
    static let mallocTrim: (@convention(c) (Int) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)
    }()
    #endif

    func refreshSettings() async {
        do {
            self.recorder.replaceSettings(try await self.repository.allPredictionLogSettings())
        } catch {
            self.logger.info("reading prediction log settings failed", metadata: ["error": "\(error)"])
        }
    }

    /// Deletes outcomes past their retention and log entries beyond each environment's bounds.
    public func prune(now: Date = Date()) async {
        do {
            let cutoff = now.addingTimeInterval(-Double(self.configuration.outcomeRetentionDays) * 86_400)
            _ = try await self.repository.pruneOutcomes(before: cutoff)
            for settings in self.recorder.allSettings() {
                _ = try await self.repository.pruneLog(settings, now: now)
            }
        } catch {
            self.logger.info("pruning monitoring data failed", metadata: ["error": "\(error)"])
        }
    }
}
