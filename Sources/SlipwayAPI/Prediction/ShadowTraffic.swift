import Foundation
import HTTPTypes
import Logging
import SlipwayInference
import SlipwayRuntime
import Synchronization

/// Sends copies of live requests to shadow deployments after the caller's answer is built.
///
/// Each copy runs in a low-priority task of its own: the caller never waits for it, its answer goes to the
/// recorder (marked ``PredictionRecord/isShadow``, so it counts in the shadow's statistics and nowhere else) and is
/// discarded. At most ``limit`` copies run at once; beyond that copies are dropped (and counted) rather than queued,
/// so shadows can never build a backlog that slows live traffic.
final class ShadowTraffic: Sendable {
    let predictor: any Predictor
    let recorder: (any PredictionRecorder)?
    /// The most copies in flight.
    let limit: Int
    let inFlight = Atomic<Int>(0)
    /// Copies dropped because ``limit`` copies were running.
    let dropped = Atomic<Int>(0)

    init(predictor: any Predictor, recorder: (any PredictionRecorder)?, limit: Int = 64) {
        self.predictor = predictor
        self.recorder = recorder
        self.limit = limit
    }

    /// What a copy runs on.
    enum Input: Sendable {
        /// TeachableHub's rows, built into inputs through the shadow's own schema.
        case rows(PredictionRows)
        /// The Open Inference Protocol's tensors, passed to the shadow as they are (its model checks their names,
        /// types and shapes as it would a live request's).
        case tensors([String: Tensor])

        var surface: PredictionRecord.Surface {
            switch self {
            case .rows: .teachableHub
            case .tensors: .inferenceProtocol
            }
        }
    }

    /// Starts one copy per shadow; returns at once.
    func mirror(_ input: Input, to shadows: [PreparedModel], requestID: String, keyName: String?) {
        for shadow in shadows {
            guard self.inFlight.add(1, ordering: .relaxed).newValue <= self.limit else {
                self.inFlight.subtract(1, ordering: .relaxed)
                self.dropped.add(1, ordering: .relaxed)
                // Counted as a shed copy in the shadow's statistics and the shadow metrics.
                self.recorder?.record(
                    PredictionRecord(
                        requestID: requestID,
                        receivedAt: Date(),
                        latency: 0,
                        surface: input.surface,
                        status: 503,
                        errorCode: "shadow_shed",
                        prepared: shadow,
                        keyName: keyName,
                        isShadow: true
                    )
                )
                continue
            }
            Task(priority: .low) {
                defer { self.inFlight.subtract(1, ordering: .relaxed) }
                await self.run(input, on: shadow, requestID: requestID, keyName: keyName)
            }
        }
    }

    func run(_ input: Input, on shadow: PreparedModel, requestID: String, keyName: String?) async {
        let receivedAt = Date()
        let started = ContinuousClock.now
        var rows: PredictionRows?
        var inputs: [String: Tensor]?
        var outputs: [OutputReader.Row]?
        var status = 200
        var errorCode: String?
        do {
            let built: [String: Tensor]
            switch input {
            case .rows(let sent):
                rows = sent
                built = try InputBuilder.inputs(for: shadow, rows: sent)
            case .tensors(let sent):
                built = sent
            }
            inputs = built
            let answer = try await self.predictor.infer(shadow, inputs: built, outputs: nil)
            let count = rows?.count ?? built.values.first?.shape.first ?? 1
            outputs = OutputReader.rows(answer, count: count, classCount: shadow.classes?.count)
        } catch {
            let refusal = Self.refusal(error)
            status = Int(refusal.status.code)
            errorCode = refusal.code
        }
        self.recorder?.record(
            PredictionRecord(
                requestID: requestID,
                receivedAt: receivedAt,
                latency: PredictionAPI.seconds(ContinuousClock.now - started),
                surface: input.surface,
                status: status,
                errorCode: errorCode,
                prepared: shadow,
                keyName: keyName,
                rows: rows,
                inputs: inputs,
                outputs: outputs,
                isShadow: true
            )
        )
    }

    /// The status and code a live request would have got for `error`.
    static func refusal(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as RuntimeError: APIError(error)
        case let error as PredictionInputError: APIError(error)
        case let error as InferenceError where error.code == .invalidInput || error.code == .invalidRequest:
            APIError(error)
        default: APIError(.internalServerError, code: "internal", detail: "\(error)")
        }
    }
}
