import Foundation
import HTTPTypes
import Testing

// The traffic, rollout and experiment routes in the authorisation matrix. Reading follows the model's read rule;
// changing the split and commanding rollouts follow the activation rule (maintainers, or a deploy key of the
// environment). A cell that should succeed first gets the state its route needs (an active version, a candidate,
// a rollout in the right state), set up as the administrator.

extension MatrixCell {
    /// Makes version 1 active in the target environment unless a version is active already.
    func ensureActiveVersion() async throws {
        let traffic = try await self.api.get("\(self.environmentPath)/traffic", as: self.api.admin)
        guard traffic.json["active_version"]?.int == nil else { return }
        let reply = try await self.api.post(
            "\(self.environmentPath)/activate",
            as: self.api.admin,
            json: #"{"version": 1}"#
        )
        try #require(reply.status == .ok, "\(reply)")
    }

    /// The live rollout's state, or `nil` when none is live.
    func liveRolloutState() async throws -> String? {
        let reply = try await self.api.get("\(self.environmentPath)/rollouts/current", as: self.api.admin)
        guard reply.status == .ok, let state = reply.json["state"]?.string, ["running", "paused"].contains(state)
        else { return nil }
        return state
    }

    /// Aborts any live rollout and deploys a new verified version to roll out; returns its version.
    func freshCandidate() async throws -> Int {
        try await self.ensureActiveVersion()
        if try await self.liveRolloutState() != nil {
            let reply = try await self.api.post("\(self.environmentPath)/rollouts/current/abort", as: self.api.admin)
            try #require(reply.status == .ok, "\(reply)")
        }
        return try await self.api.deployVerified(self.model, self.environment)
    }

    /// A live rollout in `state` (`running` or `paused`) in the target environment.
    func liveRollout(_ state: String) async throws {
        var current = try await self.liveRolloutState()
        if current == nil {
            let version = try await self.freshCandidate()
            let reply = try await self.api.post(
                "\(self.environmentPath)/rollouts",
                as: self.api.admin,
                json: #"{"version": \#(version), "interval": 3600}"#
            )
            try #require(reply.status == .created, "\(reply)")
            current = "running"
        }
        if current != state {
            let command = state == "paused" ? "pause" : "resume"
            let reply = try await self.api.post(
                "\(self.environmentPath)/rollouts/current/\(command)",
                as: self.api.admin
            )
            try #require(reply.status == .ok, "\(reply)")
        }
    }
}

extension MatrixRoute {
    /// Every route of the matrix.
    static let all: [MatrixRoute] = coreRoutes + trafficRoutes

    static let trafficRoutes: [MatrixRoute] = {
        let environment = "/api/v1/models/{owner}/{name}/environments/{env}"
        var routes = [
            MatrixRoute("GET \(environment)/traffic", .read) { MatrixRequest(path: "\($0.environmentPath)/traffic") },
            MatrixRoute("PUT \(environment)/traffic", .deploy()) { cell in
                if cell.expectsSuccess { try await cell.ensureActiveVersion() }
                return MatrixRequest(
                    path: "\(cell.environmentPath)/traffic",
                    json: #"{"arms": [{"version": 1, "weight": 100}]}"#
                )
            },
            MatrixRoute("DELETE \(environment)/traffic", .deploy()) { cell in
                if cell.expectsSuccess { try await cell.ensureActiveVersion() }
                return MatrixRequest(path: "\(cell.environmentPath)/traffic")
            },
            MatrixRoute("GET \(environment)/rollouts", .read) { MatrixRequest(path: "\($0.environmentPath)/rollouts") },
            MatrixRoute("POST \(environment)/rollouts", .deploy(), .created) { cell in
                let version = cell.expectsSuccess ? try await cell.freshCandidate() : 1
                return MatrixRequest(
                    path: "\(cell.environmentPath)/rollouts",
                    json: #"{"version": \#(version), "steps": "50,100", "interval": "1h"}"#
                )
            },
            MatrixRoute("GET \(environment)/rollouts/current", .read) { cell in
                if cell.expectsSuccess { try await cell.liveRollout("running") }
                return MatrixRequest(path: "\(cell.environmentPath)/rollouts/current")
            },
            MatrixRoute("GET \(environment)/experiment", .read) { cell in
                if cell.expectsSuccess { try await cell.ensureActiveVersion() }
                return MatrixRequest(path: "\(cell.environmentPath)/experiment")
            },
        ]
        for (command, needs) in [("pause", "running"), ("resume", "paused"), ("abort", "running")] {
            routes.append(
                MatrixRoute("POST \(environment)/rollouts/current/\(command)", .deploy()) { cell in
                    if cell.expectsSuccess { try await cell.liveRollout(needs) }
                    return MatrixRequest(path: "\(cell.environmentPath)/rollouts/current/\(command)")
                }
            )
        }
        return routes
    }()
}
