import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayInference

/// `slipway predict-batch OWNER/NAME --env ENV FILE`: submits a CSV or JSONL file as a batch scoring job.
public struct PredictBatchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predict-batch",
        abstract: "Score a CSV or JSONL file as a batch job (upload, follow progress, download the result)."
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env = "production"

    @Argument(help: ArgumentHelp("The input file: CSV with a header row, or JSONL.", valueName: "file"))
    var file: String

    @Option(help: "A deployment version (default: the active one).")
    var version: Int?

    @Option(help: ArgumentHelp("The file's format (default: from the extension).", valueName: "csv|jsonl"))
    var format: String?

    @Flag(help: "Wait for the job to finish, showing progress.")
    var wait = false

    @Option(help: ArgumentHelp("Where to write the result (implies --wait).", valueName: "file"))
    var output: String?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        if let version = self.version { try ArgumentChecks.version(version) }
        if let format = self.format, !["csv", "jsonl"].contains(format) {
            throw ValidationError("--format must be csv or jsonl (got '\(format)')")
        }
        guard FileManager.default.isReadableFile(atPath: self.file) else {
            throw ValidationError("cannot read the file '\(self.file)'")
        }
    }

    /// The format from `--format` or the file's extension.
    var resolvedFormat: String {
        if let format = self.format { return format }
        let ext = URL(fileURLWithPath: self.file).pathExtension.lowercased()
        return ["jsonl", "ndjson", "json"].contains(ext) ? "jsonl" : "csv"
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        let path = model.pathSegments + ["environments", self.env, "batch-jobs"]
        try await ManagementSession.run(self.options) { session in
            let url = URL(fileURLWithPath: self.file)
            let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
            var request = HTTPClientRequest(
                url: session.url(
                    path,
                    query: [("version", self.version.map(String.init)), ("format", self.resolvedFormat)]
                )
            )
            request.method = .POST
            request.headers.add(
                name: "Content-Type",
                value: self.resolvedFormat == "csv" ? "text/csv" : "application/x-ndjson"
            )
            request.body = .stream(FileChunks(url: url), length: .known(Int64(size)))
            let response = try await session.execute(request, timeout: ManagementSession.uploadTimeout)
            guard var job = response.body, case .string(let id)? = job["id"] else {
                throw ManagementFailure("the server's answer has no job id")
            }
            guard self.wait || self.output != nil else {
                session.print(job, human: BatchJobsCommand.describe)
                return
            }
            job = try await BatchJobsCommand.follow(session, path + [id])
            if let output = self.output, case .string("succeeded")? = job["state"] {
                try await BatchJobsCommand.download(session, path + [id, "result"], to: output)
            }
            session.print(job, human: BatchJobsCommand.describe)
            if case .string(let state)? = job["state"], state != "succeeded" { throw ExitCode.failure }
        }
    }
}

/// `slipway batch-jobs list|show|cancel|download`: a model environment's batch jobs.
public struct BatchJobsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "batch-jobs",
        abstract: "List, show, cancel and download batch scoring jobs.",
        subcommands: [List.self, Show.self, Cancel.self, Download.self]
    )

    public init() {}

    /// The options naming a model environment.
    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Option(help: ArgumentHelp("The environment.", valueName: "env"))
        var env = "production"

        func validate() throws {
            _ = try ModelReference(self.model)
            try ArgumentChecks.environment(self.env)
        }

        var path: [String] {
            get throws { try ModelReference(self.model).pathSegments + ["environments", self.env, "batch-jobs"] }
        }
    }

    /// `slipway batch-jobs list OWNER/NAME [--env ENV]`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "List an environment's batch jobs.")
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            let path = try self.target.path
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(.get, path)
                session.print(response.body) { list in
                    guard case .array(let jobs) = list, !jobs.isEmpty else { return "no batch jobs" }
                    return jobs.map(BatchJobsCommand.describe).joined(separator: "\n")
                }
            }
        }
    }

    /// `slipway batch-jobs show OWNER/NAME ID [--env ENV]`.
    public struct Show: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Show one batch job.")
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        @Argument(help: "The job's id.") var id: String
        public init() {}

        public func run() async throws {
            let path = try self.target.path + [self.id]
            try await ManagementSession.run(self.options) { session in
                session.print(try await session.send(.get, path).body, human: BatchJobsCommand.describe)
            }
        }
    }

    /// `slipway batch-jobs cancel OWNER/NAME ID [--env ENV]`.
    public struct Cancel: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Cancel a queued or running batch job.")
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        @Argument(help: "The job's id.") var id: String
        public init() {}

        public func run() async throws {
            let path = try self.target.path + [self.id, "cancel"]
            try await ManagementSession.run(self.options) { session in
                session.print(try await session.send(.post, path).body, human: BatchJobsCommand.describe)
            }
        }
    }

    /// `slipway batch-jobs download OWNER/NAME ID [--env ENV] [--errors] [--output FILE]`.
    public struct Download: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Download a job's result (or its error report) to a file or standard output."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        @Argument(help: "The job's id.") var id: String
        @Flag(help: "Download the row-level error report instead of the result.") var errors = false
        @Option(help: ArgumentHelp("The file to write (default: standard output).", valueName: "file"))
        var output: String?
        public init() {}

        public func run() async throws {
            let path = try self.target.path + [self.id, self.errors ? "errors" : "result"]
            try await ManagementSession.run(self.options) { session in
                try await BatchJobsCommand.download(session, path, to: self.output)
            }
        }
    }

    /// One line about a job.
    static func describe(_ job: JSONValue) -> String {
        func text(_ key: String) -> String {
            switch job[key] {
            case .string(let value)?: value
            case .int(let value)?: String(value)
            case .double(let value)?: String(value)
            default: "–"
            }
        }
        var line = "\(text("id"))  \(text("state"))  version \(text("version"))  \(text("format"))  "
        line += "rows \(text("rows_done"))/\(text("rows_total"))  errors \(text("error_count"))"
        if case .string(let reason)? = job["reason"] { line += "  (\(reason))" }
        return line
    }

    /// Polls a job until it has finished, printing progress to standard error.
    static func follow(_ session: ManagementSession, _ path: [String]) async throws -> JSONValue {
        while true {
            guard let job = try await session.send(.get, path).body else {
                throw ManagementFailure("the server's answer is empty")
            }
            if case .string(let state)? = job["state"], ["succeeded", "failed", "cancelled"].contains(state) {
                return job
            }
            if !session.json { session.context.printError(Self.describe(job)) }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Streams a file route's body to `output` (or standard output).
    static func download(_ session: ManagementSession, _ path: [String], to output: String?) async throws {
        var request = HTTPClientRequest(url: session.url(path))
        request.method = .GET
        if let credential = session.credential {
            request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        }
        let response: HTTPClientResponse
        do {
            response = try await session.client.execute(request, timeout: ManagementSession.uploadTimeout)
        } catch {
            throw session.transportFailure(error)
        }
        guard response.status == .ok else {
            let bytes = try await response.body.collect(upTo: 1 << 20)
            if case .string(let detail)? = try? JSONValue.parse(Array(bytes.readableBytesView))["detail"] {
                throw ManagementFailure(detail, status: Int(response.status.code))
            }
            throw ManagementFailure("the server answered \(response.status.code)", status: Int(response.status.code))
        }
        let handle: FileHandle
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: nil) else {
                throw ManagementFailure("cannot create the file '\(output)'")
            }
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        } else {
            handle = FileHandle.standardOutput
        }
        defer { if output != nil { try? handle.close() } }
        for try await buffer in response.body {
            try handle.write(contentsOf: Data(buffer.readableBytesView))
        }
    }
}

/// A file read in 64 KiB chunks, as an upload body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let url: URL

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?

        mutating func next() async throws -> ByteBuffer? {
            guard let handle = self.handle, let data = try handle.read(upToCount: 1 << 16), !data.isEmpty else {
                try? self.handle?.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: try? FileHandle(forReadingFrom: self.url)) }
}
