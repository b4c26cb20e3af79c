import Foundation

/// One entry of a model's activity log: who changed what, when, and from what to what.
public struct ActivityEvent: Hashable, Sendable {
    /// What happened. Raw values are stable wire names.
    public enum Action: String, Hashable, Sendable, Codable, CaseIterable {
        case modelCreated = "model.created"
        case modelUpdated = "model.updated"
        case environmentCreated = "environment.created"
        case environmentDeleted = "environment.deleted"
        case deploymentCreated = "deployment.created"
        case deploymentUpdated = "deployment.updated"
        case deploymentVerified = "deployment.verified"
        case deploymentFailed = "deployment.failed"
        case deploymentActivated = "deployment.activated"
        case deploymentRolledBack = "deployment.rolled_back"
        case deploymentPromoted = "deployment.promoted"
        case keyCreated = "key.created"
        case keyRevoked = "key.revoked"
        case monitoringUpdated = "monitoring.updated"
        case predictionLogUpdated = "prediction_log.updated"
        case alertCreated = "alert.created"
        case alertDeleted = "alert.deleted"
        case alertFiring = "alert.firing"
        case alertResolved = "alert.resolved"
        case webhookCreated = "webhook.created"
        case webhookDeleted = "webhook.deleted"
        case trafficUpdated = "traffic.updated"
        case rolloutStarted = "rollout.started"
        case rolloutAdvanced = "rollout.advanced"
        case rolloutPaused = "rollout.paused"
        case rolloutResumed = "rollout.resumed"
        case rolloutCompleted = "rollout.completed"
        case rolloutRolledBack = "rollout.rolled_back"
        case rolloutAborted = "rollout.aborted"

        /// Actions that change which deployment is active in an environment.
        public static let activations: Set<Action> = [.deploymentActivated, .deploymentRolledBack, .rolloutCompleted]
    }

    /// Assigned by the repository, increasing with time.
    public var id: Int64
    /// The model the event belongs to.
    public var modelID: UUID
    /// When it happened.
    public var at: Date
    /// Who did it.
    public var actor: ActivityActor
    /// What happened.
    public var action: Action
    /// The environment concerned, if any.
    public var environment: String?
    /// The version before the change (the previously active one, for activations).
    public var fromVersion: Int?
    /// The version after the change (the newly active or created one).
    public var toVersion: Int?
    /// Human-readable details (`"summary changed"`, the key's name…).
    public var detail: String

    /// Creates an event value; the repository assigns ``id``.
    public init(
        id: Int64 = 0,
        modelID: UUID,
        at: Date,
        actor: ActivityActor,
        action: Action,
        environment: String? = nil,
        fromVersion: Int? = nil,
        toVersion: Int? = nil,
        detail: String = ""
    ) {
        self.id = id
        self.modelID = modelID
        self.at = at
        self.actor = actor
        self.action = action
        self.environment = environment
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.detail = detail
    }
}
