import Foundation
import SlipwayRegistry

/// A batch job on the wire.
struct BatchJobDTO: Encodable {
    struct Links: Encodable {
        var this: String
        var result: String
        var errors: String
        var cancel: String

        enum CodingKeys: String, CodingKey {
            case this = "self"
            case result, errors, cancel
        }
    }

    var id: String
    var model: String
    var environment: String
    var version: Int
    var format: String
    var state: String
    var reason: String?
    var cancelRequested: Bool
    var order: String
    var limit: Int
    var threshold: Double
    var inputBytes: Int64
    var rowsDone: Int
    var rowsTotal: Int?
    var errorCount: Int
    var submittedBy: String
    var createdAt: Date
    var startedAt: Date?
    var finishedAt: Date?
    var links: Links

    enum CodingKeys: String, CodingKey {
        case id, model, environment, version, format, state, reason
        case cancelRequested = "cancel_requested"
        case order, limit, threshold
        case inputBytes = "input_bytes"
        case rowsDone = "rows_done"
        case rowsTotal = "rows_total"
        case errorCount = "error_count"
        case submittedBy = "submitted_by"
        case createdAt = "created_at"
        case startedAt = "started_at"
        case finishedAt = "finished_at"
        case links
    }

    init(_ job: BatchJob, model: Model, cancelling: Bool = false) {
        let base = "/" + BatchJobsAPI.path(model, job.environment) + "/" + job.id.uuidString.lowercased()
        self.id = job.id.uuidString.lowercased()
        self.model = "\(model.owner)/\(model.name)"
        self.environment = job.environment
        self.version = job.version
        self.format = job.format.rawValue
        self.state = job.state.rawValue
        self.reason = job.reason
        self.cancelRequested = cancelling
        self.order = job.descending ? "desc" : "asc"
        self.limit = job.limit
        self.threshold = job.threshold
        self.inputBytes = job.inputBytes
        self.rowsDone = job.rowsDone
        self.rowsTotal = job.rowsTotal
        self.errorCount = job.errorCount
        self.submittedBy = job.submittedBy
        self.createdAt = job.createdAt
        self.startedAt = job.startedAt
        self.finishedAt = job.finishedAt
        self.links = Links(this: base, result: base + "/result", errors: base + "/errors", cancel: base + "/cancel")
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.id, forKey: .id)
        try container.encode(self.model, forKey: .model)
        try container.encode(self.environment, forKey: .environment)
        try container.encode(self.version, forKey: .version)
        try container.encode(self.format, forKey: .format)
        try container.encode(self.state, forKey: .state)
        try container.encode(self.reason, forKey: .reason)
        try container.encode(self.cancelRequested, forKey: .cancelRequested)
        try container.encode(self.order, forKey: .order)
        try container.encode(self.limit, forKey: .limit)
        try container.encode(self.threshold, forKey: .threshold)
        try container.encode(self.inputBytes, forKey: .inputBytes)
        try container.encode(self.rowsDone, forKey: .rowsDone)
        try container.encode(self.rowsTotal, forKey: .rowsTotal)
        try container.encode(self.errorCount, forKey: .errorCount)
        try container.encode(self.submittedBy, forKey: .submittedBy)
        try container.encode(self.createdAt, forKey: .createdAt)
        try container.encode(self.startedAt, forKey: .startedAt)
        try container.encode(self.finishedAt, forKey: .finishedAt)
        try container.encode(self.links, forKey: .links)
    }
}
