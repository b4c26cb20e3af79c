import Foundation

extension Registry {
    /// The role that may change a model's monitoring settings (alert rules, webhooks, the prediction log, the key
    /// metric): owners, and administrators, who own everything.
    public static let monitoringChangeRole = Role.owner

    /// Loads a model for a monitoring route: reading needs read access, changing needs owner rights (owners and
    /// administrators), like the model's other settings.
    ///
    /// - Parameters:
    ///   - owner: the model's owner.
    ///   - name: the model's name.
    ///   - changing: whether the caller means to change a setting.
    ///   - principal: the caller.
    /// - Throws: notFound for models the caller may not see, forbidden or unauthenticated for missing rights.
    public func monitoredModel(
        owner: String,
        name: String,
        changing: Bool,
        by principal: Principal
    ) async throws -> Model {
        if changing {
            return try await self.model(owner: owner, name: name, requiring: Self.monitoringChangeRole, by: principal)
        }
        return try await self.readableModel(owner: owner, name: name, by: principal).0
    }

    /// Loads a model and one of its environments for a monitoring route (see ``monitoredModel(owner:name:changing:by:)``).
    public func monitoredEnvironment(
        owner: String,
        name: String,
        environment: String,
        changing: Bool,
        by principal: Principal
    ) async throws -> (Model, Environment) {
        let model = try await self.monitoredModel(owner: owner, name: name, changing: changing, by: principal)
        guard let found = try await self.repository.environment(modelID: model.id, name: environment) else {
            throw RegistryError.notFound("environment '\(environment)' does not exist in \(model.fullName)")
        }
        return (model, found)
    }

    /// An activity event by `principal` on `model`, stamped now.
    public func monitoringEvent(
        _ action: ActivityEvent.Action,
        on model: Model,
        by principal: Principal,
        environment: String? = nil,
        detail: String
    ) -> ActivityEvent {
        self.event(action, on: model, by: principal, environment: environment, detail: detail)
    }
}
