import Foundation
import HTTPTypes
import SlipwayAPI
import SlipwayRegistry

/// Creating and deleting a model's alert rules, shared by `POST`/`DELETE …/alerts` and the console's forms so both
/// check and record a change the same way.
///
/// ```swift
/// let rules = AlertRules(registry: registry, repository: feedback)
/// let model = try await registry.monitoredModel(owner: "acme", name: "iris", changing: true, by: principal)
/// let rule = try AlertRule.make(name: "slow", metric: "p99_ms", op: ">", threshold: 20, window: "5m", environment: nil)
/// try await rules.create(rule, on: model, by: principal)
/// ```
public struct AlertRules: Sendable {
    let registry: Registry
    let repository: any FeedbackRepository

    /// Creates the helper over the registry (for activity events) and the feedback store (which holds the rules).
    public init(registry: Registry, repository: any FeedbackRepository) {
        self.registry = registry
        self.repository = repository
    }

    /// Stores `rule` on `model`, recording the change in the activity log.
    ///
    /// - Parameters:
    ///   - rule: a rule already checked by ``AlertRule/make(name:metric:op:threshold:window:environment:)``.
    ///   - model: the model, loaded with `Registry.monitoredModel(…, changing: true, …)`.
    ///   - principal: the caller.
    /// - Throws: a 400 naming `environment` when the environment does not exist; a conflict naming `name` when the
    ///   model already has a rule of that name.
    @discardableResult
    public func create(_ rule: AlertRule, on model: Model, by principal: Principal) async throws -> StoredAlertRule {
        guard try await self.registry.repository.environment(modelID: model.id, name: rule.environment) != nil else {
            throw APIError.invalid(
                "environment",
                "environment '\(rule.environment)' does not exist in \(model.fullName)"
            )
        }
        let now = Date()
        let stored = StoredAlertRule(
            id: UUID(),
            modelID: model.id,
            name: rule.name,
            metric: rule.metric.rawValue,
            comparison: rule.comparison.rawValue,
            threshold: rule.threshold,
            windowSeconds: rule.windowSeconds,
            environment: rule.environment,
            isFiring: false,
            changedAt: now,
            createdAt: now
        )
        try await self.repository.createAlertRule(
            stored,
            event: self.registry.monitoringEvent(
                .alertCreated,
                on: model,
                by: principal,
                environment: rule.environment,
                detail: "\(rule.name): \(rule.compact)"
            )
        )
        return stored
    }

    /// Deletes the rule called `name` from `model`, recording the change in the activity log.
    ///
    /// - Parameters:
    ///   - name: the rule's name.
    ///   - model: the model, loaded with `Registry.monitoredModel(…, changing: true, …)`.
    ///   - principal: the caller.
    /// - Throws: a 404 when the model has no rule of that name.
    public func delete(named name: String, on model: Model, by principal: Principal) async throws {
        let deleted = try await self.repository.deleteAlertRule(
            modelID: model.id,
            name: name,
            event: self.registry.monitoringEvent(.alertDeleted, on: model, by: principal, detail: name)
        )
        guard deleted else {
            throw APIError(.notFound, code: "not_found", detail: "\(model.fullName) has no alert rule named '\(name)'")
        }
    }
}
