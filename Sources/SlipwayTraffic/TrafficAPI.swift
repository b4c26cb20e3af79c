import Foundation
import HTTPTypes
import Hummingbird
import SlipwayAPI
import SlipwayExperiments
import SlipwayRegistry
import SlipwayRuntime

/// The routes of traffic policies, progressive rollouts and experiment readouts, under
/// `/api/v1/models/{owner}/{name}/environments/{env}/`.
///
/// ```console
/// $ curl -X PUT localhost:8080/api/v1/models/acme/iris/environments/production/traffic \
///     -H "Authorization: Bearer $TOKEN" -d '{"arms": [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}]}'
/// $ curl -X POST localhost:8080/api/v1/models/acme/iris/environments/production/rollouts \
///     -H "Authorization: Bearer $TOKEN" -d '{"version": 4, "steps": [5, 25, 50, 100], "interval": "10m",
///     "guardrails": "error_rate<1%,p99_ms<20"}'
/// ```
public struct TrafficAPI: Sendable {
    let registry: Registry
    let lifecycle: (any DeploymentLifecycle)?
    let evaluator: RolloutEvaluator
    let readouts: ExperimentReadouts

    /// Creates the routes. `lifecycle` warms the deployments a policy names before it is stored and switches this
    /// server at once (other servers follow through their route poll).
    public init(registry: Registry, lifecycle: (any DeploymentLifecycle)?, evaluator: RolloutEvaluator) {
        self.registry = registry
        self.lifecycle = lifecycle
        self.evaluator = evaluator
        self.readouts = ExperimentReadouts(registry: registry, evaluator: evaluator)
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<SlipwayRequestContext>) {
        let environment = router.group("api/v1/models/:owner/:name/environments/:env")
        environment.get("traffic") { request, context in try await self.getTraffic(request, context) }
        environment.put("traffic") { request, context in try await self.putTraffic(request, context) }
        environment.delete("traffic") { request, context in try await self.deleteTraffic(request, context) }
        environment.get("rollouts") { request, context in try await self.listRollouts(request, context) }
        environment.post("rollouts") { request, context in try await self.startRollout(request, context) }
        environment.get("rollouts/current") { request, context in try await self.currentRollout(request, context) }
        for command in Registry.RolloutCommand.allCases {
            environment.post("rollouts/current/\(command.rawValue)") { request, context in
                try await self.command(command, request, context)
            }
        }
        environment.get("experiment") { request, context in try await self.experiment(request, context) }
    }

    struct Target {
        var owner: String
        var name: String
        var environment: String
    }

    static func target(_ context: SlipwayRequestContext) throws -> Target {
        Target(
            owner: try context.parameters.require("owner"),
            name: try context.parameters.require("name"),
            environment: try context.parameters.require("env")
        )
    }

    // MARK: Traffic

    func getTraffic(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let view = try await self.registry.traffic(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            by: principal
        )
        return try Wire.json(TrafficDTO(view))
    }

    func putTraffic(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let (input, _) = try await Wire.decode(
            TrafficPolicyInput.self,
            from: &request,
            allowed: ["arms", "shadows", "sticky_feature"]
        )
        return try await self.apply(input, target, by: principal)
    }

    func deleteTraffic(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        return try await self.apply(TrafficPolicyInput(), try Self.target(context), by: principal)
    }

    /// Warms the versions the policy names, stores it, and switches this server.
    func apply(_ input: TrafficPolicyInput, _ target: Target, by principal: Principal) async throws -> Response {
        let view = try await self.registry.changeTraffic(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            input,
            lifecycle: self.lifecycle,
            by: principal
        )
        return try Wire.json(TrafficDTO(view))
    }

    // MARK: Rollouts

    /// `POST …/rollouts` body.
    struct RolloutBody: Decodable {
        var version: Int
        var steps: StepsField?
        var interval: IntervalField
        var guardrails: String?
    }

    /// Steps as a list of integers or a comma-separated string.
    struct StepsField: Decodable {
        var steps: [Int]

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let list = try? container.decode([Int].self) {
                self.steps = list
                return
            }
            let text = try container.decode(String.self)
            guard let steps = RolloutText.steps(text) else {
                throw APIError.invalid("steps", "steps must be percents such as 5,25,50,100, got '\(text)'")
            }
            self.steps = steps
        }
    }

    /// An interval as seconds or a duration string (`90s`, `10m`, `1h`).
    struct IntervalField: Decodable {
        var seconds: Double

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                self.seconds = seconds
                return
            }
            let text = try container.decode(String.self)
            guard let seconds = RolloutText.seconds(text) else {
                throw APIError.invalid(
                    "interval",
                    "interval must be seconds or a duration such as 90s, 10m or 1h, got '\(text)'"
                )
            }
            self.seconds = seconds
        }
    }

    func startRollout(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        var request = request
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let (body, _) = try await Wire.decode(
            RolloutBody.self,
            from: &request,
            allowed: ["version", "steps", "interval", "guardrails"]
        )
        let guardrails = body.guardrails ?? ""
        let canonical: String
        do {
            canonical = try Guardrail.parseList(guardrails).map(\.description).joined(separator: ",")
        } catch {
            throw APIError.invalid("guardrails", error.description)
        }
        try await self.registry.warm(
            [body.version],
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            into: self.lifecycle,
            by: principal
        )
        let rollout = try await self.registry.startRollout(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            RolloutInput(
                version: body.version,
                steps: body.steps?.steps ?? [5, 25, 50, 100],
                interval: body.interval.seconds,
                guardrails: canonical
            ),
            by: principal
        )
        await self.lifecycle?.trafficChanged()
        return try Wire.json(RolloutDTO(rollout, evaluation: nil), status: .created)
    }

    func listRollouts(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let rollouts = try await self.registry.rollouts(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            by: principal
        )
        return try Wire.json(rollouts.map { RolloutDTO($0, evaluation: nil) })
    }

    /// The live rollout (or the last one) with its guardrails evaluated now.
    func currentRollout(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        guard
            let rollout = try await self.registry.rollouts(
                owner: target.owner,
                name: target.name,
                environment: target.environment,
                by: principal
            ).first
        else {
            throw APIError(.notFound, code: "not_found", detail: "no rollout was started in '\(target.environment)'")
        }
        let evaluation =
            rollout.state.isLive ? try await self.evaluator.evaluate(rollout, at: self.registry.now()) : nil
        return try Wire.json(RolloutDTO(rollout, evaluation: evaluation))
    }

    func command(
        _ command: Registry.RolloutCommand,
        _ request: Request,
        _ context: SlipwayRequestContext
    ) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let rollout = try await self.registry.commandRollout(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            command,
            by: principal
        )
        await self.lifecycle?.trafficChanged()
        return try Wire.json(RolloutDTO(rollout, evaluation: nil))
    }

    // MARK: Experiment

    func experiment(_ request: Request, _ context: SlipwayRequestContext) async throws -> Response {
        let principal = try await self.registry.principal(for: request)
        let target = try Self.target(context)
        let from = try Wire.time(request, "from")
        let to = try Wire.time(request, "to")
        var confidence = 0.95
        if let text = request.uri.queryParameters.get("confidence") {
            guard let value = Double(text), value > 0.5, value < 1 else {
                throw APIError.invalid("confidence", "confidence must be a number between 0.5 and 1, e.g. 0.95")
            }
            confidence = value
        }
        let readout = try await self.readouts.readout(
            owner: target.owner,
            name: target.name,
            environment: target.environment,
            from: from,
            to: to,
            confidence: confidence,
            by: principal
        )
        return try Wire.json(readout)
    }
}
