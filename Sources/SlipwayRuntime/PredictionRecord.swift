import Foundation
import SlipwayInference

/// One prediction request as the monitoring layer sees it: who asked which deployment what, what it answered, how
/// long it took, or why it was refused.
///
/// Built by the prediction routes after the answer is known and handed to a ``PredictionRecorder``; it holds the rows
/// and outputs the route already had, so recording copies nothing. A class: each recorder that keeps it (the
/// statistics and feedback buffers) takes one reference instead of copying every field.
public final class PredictionRecord: Sendable {
    /// Which surface served the request.
    public enum Surface: String, Sendable {
        /// TeachableHub's `POST /v1/{owner}/{model}/predict`.
        case teachableHub = "v1"
        /// The Open Inference Protocol under `/v2`.
        case inferenceProtocol = "v2"
    }

    /// The request id (`X-Request-ID`).
    public let requestID: String
    /// When the request arrived.
    public let receivedAt: Date
    /// How long the server took, from arrival to the answer being built, in seconds.
    public let latency: Double
    /// The surface.
    public let surface: Surface
    /// The HTTP status answered.
    public let status: Int
    /// The error code of a refused request (`schema_violation`, `rate_limited`, `overloaded`, …), `nil` on success.
    public let errorCode: String?
    /// The model answering, when the request got as far as resolving it.
    public let prepared: PreparedModel?
    /// The name of the serving key used, if a serving key was used.
    public let keyName: String?
    /// The input rows as sent (TeachableHub's surface), when they were read.
    public let rows: PredictionRows?
    /// The input tensors the model ran on, when the request got that far (both surfaces).
    public let inputs: [String: Tensor]?
    /// The outputs per row, when the model answered (`OutputReader.rows`).
    public let outputs: [OutputReader.Row]?
    /// Whether this is a shadow deployment's answer to a copy of a live request (recorded in its statistics,
    /// never sent to the caller, never joined with feedback).
    public let isShadow: Bool

    /// Creates a record.
    public init(
        requestID: String,
        receivedAt: Date,
        latency: Double,
        surface: Surface,
        status: Int,
        errorCode: String? = nil,
        prepared: PreparedModel? = nil,
        keyName: String? = nil,
        rows: PredictionRows? = nil,
        inputs: [String: Tensor]? = nil,
        outputs: [OutputReader.Row]? = nil,
        isShadow: Bool = false
    ) {
        self.requestID = requestID
        self.receivedAt = receivedAt
        self.latency = latency
        self.surface = surface
        self.status = status
        self.errorCode = errorCode
        self.prepared = prepared
        self.keyName = keyName
        self.rows = rows
        self.inputs = inputs
        self.outputs = outputs
        self.isShadow = isShadow
    }

    /// Whether the request was answered with a 2xx.
    public var succeeded: Bool { (200..<300).contains(self.status) }
}

/// Receives every prediction request's record. `record` is called on the request's path after the answer is built:
/// it must return at once (append to a buffer, aggregate later), never wait on I/O.
public protocol PredictionRecorder: Sendable {
    /// Takes one record.
    func record(_ record: PredictionRecord)
}

/// Hands each record to several recorders in turn.
public struct PredictionRecorders: PredictionRecorder {
    /// The recorders, called in order.
    public var recorders: [any PredictionRecorder]

    /// Creates a fan-out over `recorders`.
    public init(_ recorders: [any PredictionRecorder]) {
        self.recorders = recorders
    }

    public func record(_ record: PredictionRecord) {
        for recorder in self.recorders { recorder.record(record) }
    }
}
