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
public struct FeedbackService: Service {
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
            while true {
                do {
                    // Only the wait is cancelled on shutdown, never a write in progress.
                    try await cancelWhenGracefulShutdown {
                        try await Task.sleep(for: self.configuration.flushInterval)
                    }
                } catch {
                    break
                }
                let written = await self.flush(paced: true)
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

    /// Rows written per transaction.
    ///
    /// Small transactions, spaced out (``pacing``), keep the writes from crowding out the requests. Written all
    /// together, a second of traffic at 22,000 predictions/s took about 55 ms of one core in one go: for that time the
    /// network threads, the writer and the load shared two cores they could not all fill, and the requests of that
    /// moment made up the slowest percent (p99 3–5 ms, against about 1.5 ms with no outcomes written). In chunks of
    /// 100 rows, each followed by a pause, p99 went to 1.5–2.1 ms in alternating runs.
    package static let rowsPerTransaction = 100

    /// After each transaction a paced flush waits this many times as long as the transaction took, so the writes use
    /// at most a fifth of a core.
    package static let pacing = 4

    /// Writes what the recorder buffered: outcomes first (feedback joins with them), then log entries. Returns how
    /// many records it took.
    ///
    /// - Parameter paced: pause after every transaction (``pacing``), until the flush has taken half of the flush
    ///   interval: the rest is written at once, so that a busy second never falls behind the next. Pauses end when a
    ///   graceful shutdown begins.
    @discardableResult
    public func flush(paced: Bool = false) async -> Int {
        let (outcomes, logged, dropped) = self.recorder.drain()
        if dropped > 0 {
            self.logger.info(
                "prediction records dropped: the buffer was full",
                metadata: ["records.dropped": "\(dropped)"]
            )
        }
        guard !outcomes.isEmpty else { return 0 }
        let clock = ContinuousClock()
        let started = clock.now
        let rows = Self.rowsPerTransaction
        do {
            for start in stride(from: 0, to: outcomes.count, by: rows) {
                let written = clock.now
                try await self.repository.insertOutcomes(Array(outcomes[start..<min(start + rows, outcomes.count)]))
                if paced { await self.pause(after: written, flushStarted: started, clock: clock) }
            }
            for start in stride(from: 0, to: logged.count, by: rows) {
                let written = clock.now
                let entries = logged[start..<min(start + rows, logged.count)].compactMap(RecordConversion.logEntry)
                if !entries.isEmpty { try await self.repository.insertLogEntries(entries) }
                if paced { await self.pause(after: written, flushStarted: started, clock: clock) }
            }
        } catch {
            self.logger.info("writing prediction records failed", metadata: ["error": "\(error)"])
        }
        return outcomes.count
    }

    /// Waits after the transaction begun at `written` (``pause(transaction:flushElapsed:interval:)``); a graceful
    /// shutdown ends the wait.
    private func pause(
        after written: ContinuousClock.Instant,
        flushStarted: ContinuousClock.Instant,
        clock: ContinuousClock
    ) async {
        let now = clock.now
        let pause = Self.pause(
            transaction: now - written,
            flushElapsed: now - flushStarted,
            interval: self.configuration.flushInterval
        )
        guard let pause else { return }
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pause) }
    }

    /// How long a paced flush waits after a transaction that took `transaction`, when the flush has been running for
    /// `flushElapsed`: ``pacing`` times the transaction, or `nil` once the flush has taken half of the flush interval.
    package static func pause(transaction: Duration, flushElapsed: Duration, interval: Duration) -> Duration? {
        flushElapsed < interval / 2 ? transaction * Self.pacing : nil
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
