import SlipwayAPI
import SlipwayRegistry
import SlipwayRuntime

extension Registry {
    /// Sets or clears an environment's traffic split the way `PUT`/`DELETE …/traffic` and the console do: loads
    /// every version the policy names into this server first (only for callers who may activate there), stores the
    /// policy, then switches this server's routes at once (other servers follow through their route poll).
    ///
    /// ```swift
    /// let input = TrafficPolicyInput(arms: [.init(version: 3, weight: 90), .init(version: 4, weight: 10)])
    /// let view = try await registry.changeTraffic(owner: "acme", name: "iris", environment: "production", input,
    ///                                             lifecycle: lifecycle, by: principal)
    /// ```
    ///
    /// - Parameters:
    ///   - owner: the model's owner.
    ///   - name: the model's name.
    ///   - environment: the environment.
    ///   - input: the new policy; an empty one sends all traffic to the active version.
    ///   - lifecycle: what warms versions and reloads this server's routes, if any.
    ///   - principal: the caller.
    /// - Returns: the environment's traffic after the change.
    public func changeTraffic(
        owner: String,
        name: String,
        environment: String,
        _ input: TrafficPolicyInput,
        lifecycle: (any DeploymentLifecycle)?,
        by principal: Principal
    ) async throws -> TrafficView {
        try await self.warm(
            input.arms.map(\.version) + input.shadows.map(\.version),
            owner: owner,
            name: name,
            environment: environment,
            into: lifecycle,
            by: principal
        )
        let view = try await self.setTraffic(owner: owner, name: name, environment: environment, input, by: principal)
        await lifecycle?.trafficChanged()
        return view
    }
}
