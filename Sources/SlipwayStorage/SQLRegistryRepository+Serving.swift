import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    public func servingRoutes() async throws -> [ServingRoute] {
        try await self.read("reading the serving routes") { database in
            let models = try await database.rows("SELECT * FROM models").map(Self.decodeModel)
            let environments = try await database.rows(
                "SELECT \(Self.environmentColumns) FROM \(Self.environmentJoin) ORDER BY e.model_id, e.ordinal"
            ).map(Self.decodeEnvironment)
            // The active deployments named by the environment rows just read, not by a second look at the
            // environments: on PostgreSQL each statement sees the latest commits, so a switch committed between
            // the two reads would otherwise leave an environment pointing at a deployment that was not fetched,
            // and the route would answer "no active deployment" until the next reload.
            var policies: [UUID: TrafficPolicy] = [:]
            for row in try await database.rows("SELECT environment_id, policy FROM traffic_policies") {
                policies[try row.uuid("environment_id")] = try row.json("policy", as: TrafficPolicy.self)
            }
            let named = environments.compactMap(\.activeDeploymentID) + policies.values.flatMap(\.deploymentIDs)
            let ids = Array(Set(named).map(SQLValues.text)).sorted()
            var active: [Deployment] = []
            for start in stride(from: 0, to: ids.count, by: 500) {
                let chunk: [any Encodable & Sendable] = Array(ids[start..<min(start + 500, ids.count)])
                active += try await database.rows("\(Self.deploymentSelect) WHERE d.id IN (\(binds: chunk))")
                    .map(Self.decodeDeployment)
            }
            let modelsByID = Dictionary(models.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            let activeByID = Dictionary(active.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return environments.compactMap { environment in
                guard let model = modelsByID[environment.modelID] else { return nil }
                let policy = policies[environment.id]
                return ServingRoute(
                    model: model,
                    environment: environment,
                    active: environment.activeDeploymentID.flatMap { activeByID[$0] },
                    policy: policy,
                    policyDeployments: policy?.deploymentIDs.compactMap { activeByID[$0] } ?? []
                )
            }
        }
    }

    public func latestActivityID() async throws -> Int64 {
        try await self.read("reading the latest activity id") { database in
            guard let row = try await database.row("SELECT COALESCE(MAX(id), 0) AS latest FROM activity") else {
                return 0
            }
            return try row.int64("latest")
        }
    }
}
