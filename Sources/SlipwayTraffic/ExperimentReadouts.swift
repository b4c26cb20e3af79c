import Foundation
import SlipwayExperiments
import SlipwayFeedback
import SlipwayRegistry

/// An experiment's readout as the API returns it.
public struct ExperimentDTO: Encodable, Sendable {
    /// The key metric compared.
    public struct KeyMetricDTO: Encodable, Sendable {
        package var name: String
        package var direction: String
        /// What the test compares per request: the share of correct predictions, or the mean of a per-row value.
        package var tested: String?
        /// Why the key metric cannot be tested per arm (a metric that is not a mean or a share of rows).
        package var note: String?
    }

    package var environment: String
    package var from: Date
    package var to: Date
    package var baselineVersion: Int
    package var keyMetric: KeyMetricDTO?
    /// The key metric per arm, with its test against the baseline.
    package var readout: ExperimentReadout?
    /// The error rate per arm, with a two-proportion z-test against the baseline.
    package var errorRate: ExperimentReadout?
    /// Why there is no readout (no other arm).
    package var note: String?

    enum CodingKeys: String, CodingKey {
        case environment, from, to, readout, note
        case baselineVersion = "baseline_version"
        case keyMetric = "key_metric"
        case errorRate = "error_rate"
    }
}

/// Builds experiment readouts: per arm of an environment's traffic split (or of its latest rollout), the requests,
/// the key metric with a confidence interval, and a significance test against the baseline (the active version).
public struct ExperimentReadouts: Sendable {
    let registry: Registry
    let evaluator: RolloutEvaluator

    /// Creates the readouts over the evaluator's request records and feedback.
    package init(registry: Registry, evaluator: RolloutEvaluator) {
        self.registry = registry
        self.evaluator = evaluator
    }

    /// The per-row form of each testable key metric: a share of rows, or the mean of a per-row value.
    static let testable: [String: String] = [
        "accuracy": "share of rows predicted right",
        "outcome_mean": "mean outcome per row",
        "outcome_sum": "mean outcome per row (the sum grows with traffic; its mean is compared)",
        "mae": "mean absolute error per row",
        "rmse": "mean squared error per row",
        "log_loss": "mean log loss per row",
    ]

    /// The readout of an environment over `[from, to)` (defaults: since the policy or rollout began, until now).
    package func readout(
        owner: String,
        name: String,
        environment: String,
        from: Date?,
        to: Date?,
        confidence: Double,
        by principal: Principal
    ) async throws -> ExperimentDTO {
        let view = try await self.registry.traffic(owner: owner, name: name, environment: environment, by: principal)
        guard let model = try await self.registry.repository.model(id: view.environment.modelID) else {
            throw RegistryError.notFound("model \(owner)/\(name) does not exist")
        }
        let latest = try await self.registry.repository.rollouts(environmentID: view.environment.id, limit: 1).first
        var baseline = view.activeVersion
        var others = view.policy.splits.map(\.version)
        var start = view.updatedAt
        var end: Date?
        if let latest, latest.state.isLive || others.isEmpty {
            // A live rollout's arms, or after it ended (and nothing else is split) the experiment it ran.
            baseline = latest.baselineVersion
            others = [latest.candidateVersion]
            start = latest.createdAt
            end = latest.state.isLive ? nil : latest.updatedAt
        }
        let now = self.registry.now()
        let range = (from: from ?? start ?? now.addingTimeInterval(-86_400), to: to ?? end ?? now)
        guard range.to > range.from else { throw RegistryError.invalid("to", "to must be after from") }
        guard let baseline else {
            throw RegistryError.conflict("'\(environment)' has no active version to compare with")
        }
        var dto = ExperimentDTO(environment: environment, from: range.from, to: range.to, baselineVersion: baseline)
        let definition = model.keyMetric
        if let definition {
            dto.keyMetric = ExperimentDTO.KeyMetricDTO(
                name: definition.name,
                direction: definition.direction.rawValue,
                tested: Self.testable[definition.name],
                note: Self.testable[definition.name] == nil
                    ? "\(definition.name) is not a share or a mean of rows, so it has no per-arm test; choose accuracy, "
                        + "mae, rmse, log_loss or an outcome as the key metric to test it"
                    : nil
            )
        }
        guard !others.isEmpty else {
            dto.note = "all traffic goes to version \(baseline); split it or start a rollout to compare versions"
            return dto
        }
        var keyArms: [ExperimentArm] = []
        var errorArms: [ExperimentArm] = []
        for version in [baseline] + others {
            let window = try await self.evaluator.feedback.versionWindow(
                modelID: model.id,
                environment: environment,
                version: version,
                from: range.from,
                to: range.to
            )
            errorArms.append(
                ExperimentArm(
                    version: String(version),
                    requests: window.requests,
                    keyMetric: .proportion(ProportionSample(n: window.requests, successes: window.errors))
                )
            )
            var sample: KeyMetricSample?
            if let definition, Self.testable[definition.name] != nil {
                let joined = try await self.evaluator.feedback.joinedFeedback(
                    modelID: model.id,
                    environment: environment,
                    from: range.from,
                    to: range.to,
                    version: version
                )
                sample = Self.sample(definition.name, joined.map(FeedbackMetrics.JoinedRow.init))
            }
            keyArms.append(ExperimentArm(version: String(version), requests: window.requests, keyMetric: sample))
        }
        do {
            dto.errorRate = try ExperimentReadout(
                baseline: errorArms[0],
                others: Array(errorArms.dropFirst()),
                confidence: confidence
            )
            if definition != nil {
                dto.readout = try ExperimentReadout(
                    baseline: keyArms[0],
                    others: Array(keyArms.dropFirst()),
                    confidence: confidence
                )
            }
        } catch {
            throw RegistryError.invalid("confidence", "\(error)")
        }
        return dto
    }

    /// A key metric's per-row sample, `nil` when no row has what it needs.
    static func sample(_ metric: String, _ rows: [FeedbackMetrics.JoinedRow]) -> KeyMetricSample? {
        switch metric {
        case "accuracy":
            var n = 0
            var correct = 0
            for row in rows {
                guard let actual = row.actualLabel, let predicted = row.predictedLabel else { continue }
                n += 1
                if actual == predicted { correct += 1 }
            }
            return n == 0 ? nil : .proportion(ProportionSample(n: n, successes: correct))
        case "outcome_mean", "outcome_sum":
            let values = rows.compactMap(\.outcome)
            return values.isEmpty ? nil : .mean(MeanSample(values: values))
        case "mae", "rmse":
            let values = rows.compactMap { row -> Double? in
                guard let actual = row.actualValue, let predicted = row.predictedValue else { return nil }
                let error = predicted - actual
                return metric == "mae" ? abs(error) : error * error
            }
            return values.isEmpty ? nil : .mean(MeanSample(values: values))
        case "log_loss":
            let values = rows.compactMap { row -> Double? in
                guard let actual = row.actualLabel, let classes = row.classes, let probabilities = row.probabilities,
                    let index = classes.firstIndex(of: actual), index < probabilities.count
                else { return nil }
                return -log(min(max(probabilities[index], 1e-15), 1 - 1e-15))
            }
            return values.isEmpty ? nil : .mean(MeanSample(values: values))
        default:
            return nil
        }
    }
}
