import Foundation
import Logging
import ServiceLifecycle
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Runs queued batch jobs, one chunk at a time per server, as a lifecycle service.
///
/// Each chunk (512 rows by default) is validated like an online prediction (``InputBuilder``), scored through the
/// deployment's admission gate (``Predictor/inferInBackground(_:inputs:outputs:)``, so online calls keep their share
/// of its slots), and appended to the result file; rows that fail go to the error report and the job goes
/// on. A job runs on a thread of its own at a lower scheduling priority (``BackgroundExecutor``), which the
/// scheduler ranks below online requests, and after each chunk the runner pauses for as long as the chunk took
/// (reading, scoring and writing it), so a job uses at most half of one core. Progress is saved at most twice a second.
///
/// On start, jobs left `running` by a previous process are marked `failed` with a reason (they are not resumed);
/// `queued` jobs run. Finished jobs older than the retention are deleted with their files.
public final class BatchJobRunner: Service, Sendable {
    /// The runner's settings.
    public struct Configuration: Sendable {
        /// Rows per chunk.
        public var chunkRows: Int
        /// How long finished jobs (and their files) are kept, in seconds.
        public var retention: TimeInterval
        /// How often the queue is checked when idle, in seconds.
        public var pollInterval: TimeInterval
        /// The pause after each chunk, as a multiple of the chunk's own time (1 = a 50% duty cycle).
        public var pauseFactor: Double

        /// Creates a configuration (512 rows, 7 days, 1 s, 1).
        public init(
            chunkRows: Int = 512,
            retention: TimeInterval = 7 * 86_400,
            pollInterval: TimeInterval = 1,
            pauseFactor: Double = 1
        ) {
            self.chunkRows = chunkRows
            self.retention = retention
            self.pollInterval = pollInterval
            self.pauseFactor = pauseFactor
        }
    }

    private struct State {
        var current: UUID?
        var cancelRequests: Set<UUID> = []
    }

    let jobs: any BatchJobRepository
    let models: any RegistryRepository
    let predictor: any Predictor
    /// The job files.
    public let files: BatchJobFiles
    let configuration: Configuration
    let logger: Logger
    private let state = Mutex(State())

    /// Creates the runner.
    public init(
        jobs: any BatchJobRepository,
        models: any RegistryRepository,
        predictor: any Predictor,
        files: BatchJobFiles,
        configuration: Configuration = Configuration(),
        logger: Logger
    ) {
        self.jobs = jobs
        self.models = models
        self.predictor = predictor
        self.files = files
        self.configuration = configuration
        self.logger = logger
    }

    /// Asks a job to stop. A queued job is cancelled at once; a running one stops after its current chunk.
    /// Returns the job as it now stands.
    public func cancel(_ job: BatchJob) async throws -> BatchJob {
        guard !job.state.isFinished else { return job }
        let isRunning = self.state.withLock { state in
            state.cancelRequests.insert(job.id)
            return state.current == job.id
        }
        if isRunning { return job }
        var cancelled = job
        cancelled.state = .cancelled
        cancelled.reason = "cancelled before it started"
        cancelled.finishedAt = Date()
        try await self.jobs.updateBatchJob(cancelled)
        return cancelled
    }

    /// Whether the job is the one running now.
    public func isRunning(_ id: UUID) -> Bool { self.state.withLock { $0.current == id } }

    /// Runs queued jobs until graceful shutdown, which cancels the running job (it is marked failed).
    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await self.loop()
        }
    }

    private func loop() async throws {
        try await self.recoverInterruptedJobs()
        var lastPurge = Date.distantPast
        while !Task.isCancelled {
            if Date().timeIntervalSince(lastPurge) > 60 {
                await self.purgeExpired()
                lastPurge = Date()
            }
            let next: BatchJob?
            do {
                next = try await self.jobs.batchJobs(in: [.queued]).first
            } catch {
                self.logger.info("reading the batch queue failed", metadata: ["error": "\(error)"])
                next = nil
            }
            if let next {
                await self.runJob(next)
                continue
            }
            do {
                try await Task.sleep(for: .seconds(self.configuration.pollInterval))
            } catch {
                break
            }
        }
    }

    /// Marks jobs a previous process left running as failed.
    public func recoverInterruptedJobs() async throws {
        for var job in try await self.jobs.batchJobs(in: [.running]) {
            job.state = .failed
            job.reason = "the server stopped while the job was running (after \(job.rowsDone) rows); submit it again"
            job.finishedAt = Date()
            try await self.jobs.updateBatchJob(job)
            self.logger.info("batch job interrupted by a restart", metadata: ["batch.job.id": "\(job.id)"])
        }
    }

    /// Deletes finished jobs older than the retention, with their files.
    func purgeExpired() async {
        do {
            let cutoff = Date().addingTimeInterval(-self.configuration.retention)
            for job in try await self.jobs.finishedBatchJobs(before: cutoff) {
                self.files.remove(job)
                try await self.jobs.deleteBatchJob(id: job.id)
            }
        } catch {
            self.logger.info("purging old batch jobs failed", metadata: ["error": "\(error)"])
        }
    }

    /// Runs one job to the end (or its cancellation), recording the outcome.
    func runJob(_ queued: BatchJob) async {
        self.state.withLock { $0.current = queued.id }
        defer {
            self.state.withLock { state in
                state.current = nil
                state.cancelRequests.remove(queued.id)
            }
        }
        var job = queued
        do {
            // Re-read: the job may have been cancelled or deleted since it was listed.
            guard let fresh = try await self.jobs.batchJob(id: queued.id), fresh.state == .queued else { return }
            job = fresh
            if self.isCancelRequested(job.id) {
                job.state = .cancelled
                job.reason = "cancelled before it started"
                job.finishedAt = Date()
                try await self.jobs.updateBatchJob(job)
                return
            }
            job.state = .running
            job.startedAt = Date()
            try await self.jobs.updateBatchJob(job)
            self.logger.info("batch job started", metadata: ["batch.job.id": "\(job.id)"])
            // On the background thread, which the scheduler ranks below online requests. The job comes back with
            // its progress whether scoring ends or throws, as it did when `score` changed it in place.
            let starting = job
            let (scored, result) = await withTaskExecutorPreference(BackgroundExecutor.shared) {
                var running = starting
                do {
                    let outcome = try await self.score(&running)
                    return (running, Result<_, any Error>.success(outcome))
                } catch {
                    return (running, .failure(error))
                }
            }
            job = scored
            let outcome = try result.get()
            job.state = outcome.state
            job.reason = outcome.reason
        } catch is CancellationError {
            job.state = .failed
            job.reason = "the server shut down while the job was running; submit it again"
        } catch {
            job.state = .failed
            job.reason = "\(error)"
        }
        job.finishedAt = Date()
        do {
            try await self.jobs.updateBatchJob(job)
        } catch {
            self.logger.info("recording a batch job's end failed", metadata: ["error": "\(error)"])
        }
        self.logger.info(
            "batch job finished",
            metadata: ["batch.job.id": "\(job.id)", "batch.job.state": "\(job.state.rawValue)"]
        )
    }

    private func isCancelRequested(_ id: UUID) -> Bool { self.state.withLock { $0.cancelRequests.contains(id) } }

    /// Streams the file through the deployment; returns the final state.
    func score(_ job: inout BatchJob) async throws -> (state: BatchJob.State, reason: String?) {
        guard let model = try await self.models.model(id: job.modelID) else {
            return (.failed, "the model no longer exists")
        }
        let prepared: PreparedModel
        do {
            prepared = try await self.predictor.prepare(
                owner: model.owner,
                name: model.name,
                environment: job.environment,
                version: job.version
            )
        } catch let error as RuntimeError {
            return (.failed, error.message)
        }
        let reader = try BatchRecordReader(url: self.files.input(job.id), format: job.format)
        var header: [String]?
        if job.format == .csv {
            switch try reader.next() {
            case .fields(let fields): header = fields
            case .malformed(let problem): return (.failed, "the header row cannot be read: \(problem)")
            default: return (.failed, "the file is empty")
            }
        }
        let decoder: BatchRowDecoder
        do {
            decoder = try BatchRowDecoder(schema: prepared.schema, format: job.format, header: header)
        } catch let error as BatchInputError {
            return (.failed, error.message)
        }
        let resultURL = self.files.result(job.id, format: job.format)
        let errorsURL = self.files.errors(job.id)
        _ = FileManager.default.createFile(atPath: resultURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorsURL.path, contents: Data(BatchResultWriter.errorHeader.utf8))
        let results = try FileHandle(forWritingTo: resultURL)
        let errors = try FileHandle(forWritingTo: errorsURL)
        defer {
            try? results.close()
            try? errors.close()
        }
        try errors.seekToEnd()
        var writer = BatchResultWriter(job: job, classes: prepared.classes)
        var index = 0
        var lastSaved = ContinuousClock.now
        job.rowsDone = 0
        job.errorCount = 0
        while true {
            if self.isCancelRequested(job.id) {
                job.rowsTotal = nil
                return (.cancelled, "cancelled after \(job.rowsDone) rows")
            }
            try Task.checkCancellation()
            // The chunk's time counts its reading and decoding and the writing of its results, not only the scoring:
            // all of it takes a core from online traffic.
            let started = ContinuousClock.now
            var chunk: [(Int, BatchRow)] = []
            chunk.reserveCapacity(self.configuration.chunkRows)
            while chunk.count < self.configuration.chunkRows, let record = try reader.next() {
                chunk.append((index, decoder.decode(record)))
                index += 1
            }
            if chunk.isEmpty { break }
            let scored = try await BatchScorer.score(chunk, model: prepared, predictor: self.predictor)
            try results.write(contentsOf: Data(writer.lines(scored.rows).utf8))
            if !scored.errors.isEmpty {
                let text = scored.errors.map {
                    BatchResultWriter.errorLine(row: $0.row, field: $0.field, problem: $0.problem)
                }.joined()
                try errors.write(contentsOf: Data(text.utf8))
            }
            job.rowsDone += chunk.count
            job.errorCount += scored.errors.count
            let elapsed = ContinuousClock.now - started
            if ContinuousClock.now - lastSaved > .milliseconds(500) {
                try await self.jobs.updateBatchJob(job)
                lastSaved = ContinuousClock.now
            }
            // Low priority: leave the inference threads to online traffic for as long as this chunk took.
            if self.configuration.pauseFactor > 0 {
                try await Task.sleep(for: elapsed * self.configuration.pauseFactor)
            } else {
                await Task.yield()
            }
        }
        job.rowsTotal = index
        if index == 0 { return (.failed, "the file has no data rows") }
        return (.succeeded, nil)
    }
}
