import Foundation
import SlipwayRegistry

/// Where a job's files live: `<data>/jobs/<id>.input`, `<id>.result.csv|jsonl`, `<id>.errors.csv`. Names come from
/// the job's server-chosen id only; nothing the client sends reaches a path.
public struct BatchJobFiles: Sendable {
    /// The jobs folder.
    public let root: URL

    /// Uses (and creates) `root`.
    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    /// The uploaded input.
    public func input(_ id: UUID) -> URL { self.root.appendingPathComponent("\(id.uuidString.lowercased()).input") }

    /// The result file.
    public func result(_ id: UUID, format: BatchJob.Format) -> URL {
        self.root.appendingPathComponent("\(id.uuidString.lowercased()).result.\(format.rawValue)")
    }

    /// The row-level error report.
    public func errors(_ id: UUID) -> URL {
        self.root.appendingPathComponent("\(id.uuidString.lowercased()).errors.csv")
    }

    /// Removes every file of a job (missing ones are fine).
    public func remove(_ job: BatchJob) {
        for url in [self.input(job.id), self.result(job.id, format: job.format), self.errors(job.id)] {
            try? FileManager.default.removeItem(at: url)
        }
    }
}
