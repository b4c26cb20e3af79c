import Foundation
import SlipwayRegistry
import SlipwayStorage
import Testing

/// The behaviour every ``RegistryRepository`` backend must show. `SQLiteRepositoryTests` and
/// `PostgresRepositoryTests` run each body against their backend.
enum RepositoryContract {
    // MARK: Migrations

    static func migratesTwiceAndConcurrently(_ backend: Backend) async throws {
        try await backend.withDatabase { database in
            let first = try await database.open()
            let second: SQLRegistryRepository
            do {
                second = try await database.open()
            } catch {
                try? await first.shutdown()
                throw error
            }
            do {
                async let a: Void = first.migrate()
                async let b: Void = second.migrate()
                _ = try await (a, b)
                try await first.migrate()
                try await second.migrate()
                try await first.createUser(Fixtures.user("alice"))
                #expect(try await second.user(named: "alice")?.username == "alice")
            } catch {
                // Both pools are shut down whatever failed (a pool dropped without shutdown() traps).
                try? await first.shutdown()
                try? await second.shutdown()
                throw error
            }
            try await first.shutdown()
            try await second.shutdown()
        }
    }

    // MARK: Users, tokens, organisations

    static func storesUsersAndTokens(_ repository: SQLRegistryRepository) async throws {
        #expect(try await !repository.hasAdministrator())
        let alice = Fixtures.user("alice", admin: true)
        try await repository.createUser(alice)
        for name in ["carol", "bob", "dave"] { try await repository.createUser(Fixtures.user(name)) }
        #expect(try await repository.hasAdministrator())
        #expect(try await repository.user(id: alice.id) == alice)
        #expect(try await repository.user(named: "alice") == alice)
        #expect(try await repository.user(named: "nobody") == nil)
        #expect(try await repository.user(id: UUID()) == nil)
        #expect(try await repository.isOwnerNameTaken("alice"))
        #expect(try await !repository.isOwnerNameTaken("zed"))

        let page = try await repository.listUsers(page: try PageRequest(page: 2, size: 3))
        #expect(page.total == 4)
        #expect(page.items.map(\.username) == ["dave"])
        let first = try await repository.listUsers(page: try PageRequest(page: 1, size: 3))
        #expect(first.items.map(\.username) == ["alice", "bob", "carol"])

        await expectRegistryError(.conflict) { try await repository.createUser(Fixtures.user("alice")) }

        let older = APIToken(id: "tok1", userID: alice.id, name: "laptop", secretHash: "h1", createdAt: Fixtures.at(0))
        let newer = APIToken(
            id: "tok2",
            userID: alice.id,
            name: "ci",
            secretHash: "h2",
            createdAt: Fixtures.at(1),
            expiresAt: Fixtures.at(86_400)
        )
        try await repository.createToken(older)
        try await repository.createToken(newer)
        #expect(try await repository.token(id: "tok2") == newer)
        #expect(try await repository.token(id: "missing") == nil)
        #expect(try await repository.listTokens(userID: alice.id).map(\.id) == ["tok2", "tok1"])
        await expectRegistryError(.conflict) { try await repository.createToken(older) }
        await expectRegistryError(.notFound) {
            try await repository.createToken(
                APIToken(id: "tok3", userID: UUID(), name: "x", secretHash: "h", createdAt: Fixtures.start)
            )
        }

        try await repository.revokeToken(id: "tok1", at: Fixtures.at(10))
        try await repository.revokeToken(id: "tok1", at: Fixtures.at(20))
        #expect(try await repository.token(id: "tok1")?.revokedAt == Fixtures.at(10))
        await expectRegistryError(.notFound) { try await repository.revokeToken(id: "missing", at: Fixtures.start) }
    }

    static func storesOrganizations(_ repository: SQLRegistryRepository) async throws {
        let alice = Fixtures.user("alice")
        let bob = Fixtures.user("bob")
        try await repository.createUser(alice)
        try await repository.createUser(bob)
        let acme = Organization(name: "acme", displayName: "Acme", createdAt: Fixtures.start)
        let beta = Organization(name: "beta", createdAt: Fixtures.start)
        try await repository.createOrganization(acme, owner: alice.id)
        try await repository.createOrganization(beta, owner: bob.id)

        #expect(try await repository.organization(named: "acme") == acme)
        #expect(try await repository.organization(named: "nope") == nil)
        #expect(try await repository.isOwnerNameTaken("acme"))
        await expectRegistryError(.conflict) {
            try await repository.createOrganization(
                Organization(name: "alice", createdAt: Fixtures.start),
                owner: alice.id
            )
        }
        await expectRegistryError(.conflict) { try await repository.createUser(Fixtures.user("acme")) }
        await expectRegistryError(.notFound) {
            try await repository.createOrganization(
                Organization(name: "ghost", createdAt: Fixtures.start),
                owner: UUID()
            )
        }
        // The failed organisation did not keep its name.
        #expect(try await !repository.isOwnerNameTaken("ghost"))

        #expect(try await repository.listOrganizations(memberID: nil).map(\.name) == ["acme", "beta"])
        #expect(try await repository.listOrganizations(memberID: alice.id).map(\.name) == ["acme"])

        try await repository.setMembership(organizationID: acme.id, userID: bob.id, role: .viewer)
        #expect(try await repository.role(userID: bob.id, inOrganization: "acme") == .viewer)
        try await repository.setMembership(organizationID: acme.id, userID: bob.id, role: .maintainer)
        #expect(try await repository.role(userID: bob.id, inOrganization: "acme") == .maintainer)
        #expect(try await repository.role(userID: alice.id, inOrganization: "beta") == nil)
        #expect(
            try await repository.memberships(organizationID: acme.id)
                == [
                    Membership(organizationID: acme.id, userID: alice.id, username: "alice", role: .owner),
                    Membership(organizationID: acme.id, userID: bob.id, username: "bob", role: .maintainer),
                ]
        )
        #expect(try await repository.listOrganizations(memberID: bob.id).map(\.name) == ["acme", "beta"])

        await expectRegistryError(.conflict) {
            try await repository.removeMembership(organizationID: acme.id, userID: alice.id)
        }
        await expectRegistryError(.conflict) {
            try await repository.setMembership(organizationID: acme.id, userID: alice.id, role: .viewer)
        }
        await expectRegistryError(.notFound) {
            try await repository.setMembership(organizationID: UUID(), userID: bob.id, role: .viewer)
        }
        try await repository.setMembership(organizationID: acme.id, userID: bob.id, role: .owner)
        try await repository.removeMembership(organizationID: acme.id, userID: alice.id)
        #expect(try await repository.role(userID: alice.id, inOrganization: "acme") == nil)
        await expectRegistryError(.notFound) {
            try await repository.removeMembership(organizationID: acme.id, userID: alice.id)
        }
    }

    // MARK: Models and environments

    static func storesModelsAndEnvironments(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository, description: "Predicts churn")
        #expect(try await repository.model(id: model.id) == model)
        #expect(try await repository.model(owner: "acme", name: "churn") == model)
        #expect(try await repository.model(owner: "acme", name: "other") == nil)
        #expect(try await repository.environments(modelID: model.id) == environments)
        #expect(try await repository.environment(modelID: model.id, name: "staging") == environments[1])
        #expect(try await repository.environment(modelID: model.id, name: "nope") == nil)

        await expectRegistryError(.conflict) { try await Fixtures.model(repository) }
        await expectRegistryError(.notFound) {
            let orphan = Model(owner: "ghost", name: "m", createdAt: Fixtures.start)
            try await repository.createModel(
                orphan,
                environments: [],
                event: Fixtures.event(orphan.id, .modelCreated)
            )
        }

        var updated = model
        updated.isPublic = true
        updated.metadata = ModelMetadata(
            description: "Predicts churn better",
            topics: ["churn", "tabular"],
            homepageURL: "https://example.com",
            sourceURL: "https://example.com/src",
            datasetURL: "https://example.com/data",
            licenseURL: "https://example.com/license"
        )
        updated.card = ModelCard(intendedUse: "Retention", factors: "Tenure", caveatsAndRecommendations: "None")
        updated.keyMetric = KeyMetric(name: "accuracy", direction: .maximize)
        updated.updatedAt = Fixtures.at(60)
        try await repository.updateModel(updated, event: Fixtures.event(model.id, .modelUpdated, at: Fixtures.at(60)))
        #expect(try await repository.model(id: model.id) == updated)
        var missing = updated
        missing.id = UUID()
        await expectRegistryError(.notFound) {
            try await repository.updateModel(missing, event: Fixtures.event(model.id, .modelUpdated))
        }

        let canary = Environment(modelID: model.id, name: "canary", createdAt: Fixtures.at(5))
        try await repository.createEnvironment(
            canary,
            event: Fixtures.event(model.id, .environmentCreated, environment: "canary")
        )
        #expect(
            try await repository.environments(modelID: model.id).map(\.name) == ["production", "staging", "canary"]
        )
        await expectRegistryError(.conflict) {
            try await repository.createEnvironment(
                Environment(modelID: model.id, name: "canary", createdAt: Fixtures.start),
                event: Fixtures.event(model.id, .environmentCreated)
            )
        }
        await expectRegistryError(.notFound) {
            try await repository.createEnvironment(
                Environment(modelID: UUID(), name: "x", createdAt: Fixtures.start),
                event: Fixtures.event(model.id, .environmentCreated)
            )
        }
        let activity = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(),
            page: PageRequest()
        )
        #expect(activity.items.map(\.action) == [.modelUpdated, .environmentCreated, .modelCreated])
    }

    static func listsModelsByVisibilitySearchAndTopic(_ repository: SQLRegistryRepository) async throws {
        let alice = Fixtures.user("alice")
        try await repository.createUser(alice)
        try await repository.createUser(Fixtures.user("bob"))
        try await repository.createOrganization(Organization(name: "acme", createdAt: Fixtures.start), owner: alice.id)
        let mine = try await Fixtures.model(repository, owner: "alice", name: "mine", description: "My 100% model")
        let org = try await Fixtures.model(repository, owner: "acme", name: "fraud", topics: ["finance", "tabular"])
        let shared = try await Fixtures.model(
            repository,
            owner: "bob",
            name: "public-churn",
            isPublic: true,
            description: "Customer CHURN",
            topics: ["tabular"]
        )
        let hidden = try await Fixtures.model(repository, owner: "bob", name: "secret_sauce")

        func names(_ filter: ModelFilter, page: PageRequest? = nil) async throws -> [String] {
            try await repository.listModels(filter: filter, page: page ?? PageRequest()).items.map(\.fullName)
        }
        #expect(
            try await names(ModelFilter(viewer: .all))
                == ["acme/fraud", "alice/mine", "bob/public-churn", "bob/secret_sauce"]
        )
        #expect(try await names(ModelFilter(viewer: .publicOnly)) == ["bob/public-churn"])
        #expect(
            try await names(ModelFilter(viewer: .user(alice.id, username: "alice")))
                == ["acme/fraud", "alice/mine", "bob/public-churn"]
        )
        #expect(try await names(ModelFilter(viewer: .model(hidden.model.id))) == ["bob/secret_sauce"])
        #expect(try await names(ModelFilter(viewer: .all, owner: "bob")) == ["bob/public-churn", "bob/secret_sauce"])
        #expect(try await names(ModelFilter(viewer: .all, isPublic: false)).count == 3)
        #expect(try await names(ModelFilter(viewer: .all, topic: "tabular")) == ["acme/fraud", "bob/public-churn"])
        #expect(try await names(ModelFilter(viewer: .all, topic: "finance")) == ["acme/fraud"])
        #expect(try await names(ModelFilter(viewer: .all, search: "churn")) == ["bob/public-churn"])
        #expect(try await names(ModelFilter(viewer: .all, search: "CUSTOMER")) == ["bob/public-churn"])
        #expect(try await names(ModelFilter(viewer: .all, search: "100%")) == ["alice/mine"])
        #expect(try await names(ModelFilter(viewer: .all, search: "%")) == ["alice/mine"])
        #expect(try await names(ModelFilter(viewer: .all, search: "t_s")) == ["bob/secret_sauce"])
        #expect(try await names(ModelFilter(viewer: .all, search: "_")) == ["bob/secret_sauce"])

        let page = try await repository.listModels(
            filter: ModelFilter(viewer: .all),
            page: PageRequest(page: 2, size: 3)
        )
        #expect(page.total == 4)
        #expect(page.items.map(\.fullName) == ["bob/secret_sauce"])
        #expect(page.lastPage == 2)
        let stored = try await repository.model(id: org.model.id)
        #expect(stored?.metadata.topics == ["finance", "tabular"])
        _ = (mine, shared)
    }

    // MARK: Deployments

    static func storesDeployments(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let staging = environments[1]
        let first = try await Fixtures.deploy(repository, production, digest: Fixtures.digest("a"), at: Fixtures.at(1))
        let second = try await Fixtures.deploy(repository, production, digest: Fixtures.digest("b"), at: Fixtures.at(2))
        let other = try await Fixtures.deploy(repository, staging, digest: Fixtures.digest("a"), at: Fixtures.at(3))
        #expect(first.version == 1)
        #expect(second.version == 2)
        #expect(other.version == 1)
        #expect(first.environmentName == "production")
        #expect(try await repository.deployment(id: first.id) == first)
        #expect(try await repository.deployment(environmentID: production.id, version: 2) == second)
        #expect(try await repository.deployment(environmentID: production.id, version: 3) == nil)
        #expect(try await repository.deployment(id: UUID()) == nil)

        let all = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(),
            page: PageRequest()
        )
        #expect(all.items.map(\.id) == [other.id, second.id, first.id])
        #expect(all.total == 3)
        let inProduction = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(environmentID: production.id),
            page: PageRequest(page: 1, size: 1)
        )
        #expect(inProduction.total == 2)
        #expect(inProduction.items.map(\.id) == [second.id])
        let version1 = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(environmentID: production.id, version: 1, status: .pending),
            page: PageRequest()
        )
        #expect(version1.items.map(\.id) == [first.id])

        let described = try await repository.updateDeploymentDescription(
            id: first.id,
            description: "changelog",
            event: Fixtures.event(model.id, .deploymentUpdated)
        )
        #expect(described.description == "changelog")
        #expect(try await repository.deployment(id: first.id)?.description == "changelog")
        await expectRegistryError(.notFound) {
            try await repository.updateDeploymentDescription(
                id: UUID(),
                description: "x",
                event: Fixtures.event(model.id, .deploymentUpdated)
            )
        }
        await expectRegistryError(.notFound) {
            try await repository.createDeployment(
                Fixtures.deployment(Environment(modelID: model.id, name: "ghost", createdAt: Fixtures.start)),
                event: Fixtures.event(model.id, .deploymentCreated)
            )
        }
        await expectRegistryError(.conflict) {
            try await repository.createDeployment(first, event: Fixtures.event(model.id, .deploymentCreated))
        }
        // The failed insert gave its version back.
        let third = try await Fixtures.deploy(repository, production, at: Fixtures.at(4))
        #expect(third.version == 3)

        #expect(try await repository.isArtifactReferenced(digest: Fixtures.digest("b")))
        #expect(try await !repository.isArtifactReferenced(digest: Fixtures.digest("c")))

        let created = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(actions: [.deploymentCreated]),
            page: PageRequest()
        )
        #expect(created.items.map(\.toVersion) == [3, 1, 2, 1])
        #expect(created.items.map(\.environment) == ["production", "staging", "production", "production"])
    }

    static func storesReferenceRowsApart(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let rows = "[" + Array(repeating: #"[1.5, "a", null]"#, count: 10_000).joined(separator: ",") + "]"
        var deployment = Fixtures.deployment(environments[0])
        deployment.referenceRows = 10_000
        let stored = try await repository.createDeployment(
            deployment,
            reference: rows,
            event: Fixtures.event(model.id, .deploymentCreated)
        )
        #expect(stored.referenceRows == 10_000)
        #expect(try await repository.deployment(id: stored.id) == stored)
        #expect(try await repository.deploymentReference(id: stored.id) == rows)
        let listed = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(),
            page: PageRequest()
        )
        #expect(listed.items.map(\.referenceRows) == [10_000])

        let plain = try await Fixtures.deploy(repository, environments[0], at: Fixtures.at(1))
        #expect(plain.referenceRows == nil)
        #expect(try await repository.deployment(id: plain.id)?.referenceRows == nil)
        #expect(try await repository.deploymentReference(id: plain.id) == nil)
        #expect(try await repository.deploymentReference(id: UUID()) == nil)
    }

    static func numbersConcurrentDeploymentsWithoutGaps(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let versions = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await Fixtures.deploy(repository, production, at: Fixtures.at(Double(index))).version
                }
            }
            var versions: [Int] = []
            for try await version in group { versions.append(version) }
            return versions
        }
        #expect(versions.sorted() == Array(1...20))
        let stored = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(environmentID: production.id),
            page: PageRequest(size: 50)
        )
        #expect(stored.items.map(\.version).sorted() == Array(1...20))
        let next = try await Fixtures.deploy(repository, production)
        #expect(next.version == 21)
    }

    static func activatesOnlyVerifiedDeployments(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let first = try await Fixtures.verifiedDeployment(repository, production)
        let activation = try await repository.activate(
            environmentID: production.id,
            deploymentID: first.id,
            event: Fixtures.event(model.id, .deploymentActivated, at: Fixtures.at(10))
        )
        #expect(activation.previous == nil)
        #expect(activation.current.id == first.id)
        #expect(activation.environment.activeDeploymentID == first.id)
        #expect(activation.environment.activeVersion == 1)
        #expect(activation.event.fromVersion == nil)
        #expect(activation.event.toVersion == 1)
        #expect(activation.event.environment == "production")
        #expect(activation.event.id > 0)

        let pending = try await Fixtures.deploy(repository, production)
        await expectRegistryError(.notVerified) {
            try await repository.activate(
                environmentID: production.id,
                deploymentID: pending.id,
                event: Fixtures.event(model.id, .deploymentActivated)
            )
        }
        #expect(try await repository.environment(modelID: model.id, name: "production")?.activeVersion == 1)

        let second = try await Fixtures.verifiedDeployment(repository, production)
        let switched = try await repository.activate(
            environmentID: production.id,
            deploymentID: second.id,
            event: Fixtures.event(model.id, .deploymentActivated, at: Fixtures.at(20))
        )
        #expect(switched.previous?.id == first.id)
        #expect(switched.event.fromVersion == 1)
        #expect(switched.event.toVersion == 3)
        let rolledBack = try await repository.activate(
            environmentID: production.id,
            deploymentID: first.id,
            event: Fixtures.event(model.id, .deploymentRolledBack, at: Fixtures.at(30))
        )
        #expect(rolledBack.event.action == .deploymentRolledBack)
        #expect(rolledBack.event.fromVersion == 3)
        #expect(rolledBack.event.toVersion == 1)
        let again = try await repository.activate(
            environmentID: production.id,
            deploymentID: first.id,
            event: Fixtures.event(model.id, .deploymentActivated, at: Fixtures.at(40))
        )
        #expect(again.event.fromVersion == 1)
        #expect(again.event.toVersion == 1)

        // A deployment of another environment is not found in this one.
        let staged = try await Fixtures.verifiedDeployment(repository, environments[1])
        await expectRegistryError(.notFound) {
            try await repository.activate(
                environmentID: production.id,
                deploymentID: staged.id,
                event: Fixtures.event(model.id, .deploymentActivated)
            )
        }
        await expectRegistryError(.notFound) {
            try await repository.activate(
                environmentID: UUID(),
                deploymentID: first.id,
                event: Fixtures.event(model.id, .deploymentActivated)
            )
        }
        let environmentsNow = try await repository.environments(modelID: model.id)
        #expect(environmentsNow.map(\.activeVersion) == [1, nil])
    }

    static func movesDeploymentStatusOnce(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let failing = try await Fixtures.deploy(repository, production)
        let (failed, noActivation) = try await repository.setDeploymentStatus(
            id: failing.id,
            status: .failed,
            reason: "samples do not run: missing input 'age'",
            verification: nil,
            at: Fixtures.at(5),
            event: Fixtures.event(model.id, .deploymentFailed, at: Fixtures.at(5))
        )
        #expect(noActivation == nil)
        #expect(failed.status == .failed)
        #expect(failed.statusReason == "samples do not run: missing input 'age'")
        #expect(failed.verifiedAt == Fixtures.at(5))
        await expectRegistryError(.conflict) {
            try await repository.setDeploymentStatus(
                id: failing.id,
                status: .verified,
                reason: nil,
                verification: nil,
                at: Fixtures.at(6),
                event: Fixtures.event(model.id, .deploymentVerified)
            )
        }
        #expect(try await repository.deployment(id: failing.id)?.status == .failed)
        let pending = try await Fixtures.deploy(repository, production)
        await expectRegistryError(.conflict) {
            try await repository.setDeploymentStatus(
                id: pending.id,
                status: .pending,
                reason: nil,
                verification: nil,
                at: Fixtures.at(6),
                event: Fixtures.event(model.id, .deploymentVerified)
            )
        }
        await expectRegistryError(.notFound) {
            try await repository.setDeploymentStatus(
                id: UUID(),
                status: .verified,
                reason: nil,
                verification: nil,
                at: Fixtures.at(6),
                event: Fixtures.event(model.id, .deploymentVerified)
            )
        }

        let automatic = try await Fixtures.deploy(repository, production, activateOnVerify: true)
        let verifier = ActivityActor.system
        let (verified, activation) = try await repository.setDeploymentStatus(
            id: automatic.id,
            status: .verified,
            reason: nil,
            verification: nil,
            at: Fixtures.at(7),
            event: Fixtures.event(model.id, .deploymentVerified, at: Fixtures.at(7), actor: verifier)
        )
        #expect(verified.status == .verified)
        let activated = try #require(activation)
        #expect(activated.current.id == automatic.id)
        #expect(activated.event.action == .deploymentActivated)
        #expect(activated.event.actor == verifier)
        #expect(activated.event.toVersion == automatic.version)
        #expect(activated.environment.activeDeploymentID == automatic.id)
        #expect(try await repository.environment(modelID: model.id, name: "production")?.activeVersion == 3)
        let events = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(actions: [.deploymentVerified, .deploymentActivated, .deploymentFailed]),
            page: PageRequest()
        )
        #expect(events.items.map(\.action) == [.deploymentActivated, .deploymentVerified, .deploymentFailed])
    }

    static func feedsTheRuntime(_ repository: SQLRegistryRepository) async throws {
        #expect(try await repository.latestActivityID() == 0)
        #expect(try await repository.servingRoutes().isEmpty)
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let first = try await Fixtures.deploy(repository, production, at: Fixtures.at(1))
        let second = try await Fixtures.deploy(repository, production, at: Fixtures.at(2))
        #expect(try await repository.pendingDeployments(limit: 10).map(\.id) == [first.id, second.id])
        #expect(try await repository.pendingDeployments(limit: 1).map(\.id) == [first.id])

        let report = #"{"samples":[{"form":"ndarray","latency_us":12}]}"#
        let (verified, _) = try await repository.setDeploymentStatus(
            id: first.id,
            status: .verified,
            reason: nil,
            verification: report,
            at: Fixtures.at(3),
            event: Fixtures.event(model.id, .deploymentVerified, at: Fixtures.at(3))
        )
        #expect(verified.verification == report)
        #expect(try await repository.deployment(id: first.id)?.verification == report)
        #expect(try await repository.pendingDeployments(limit: 10).map(\.id) == [second.id])

        let before = try await repository.latestActivityID()
        #expect(before > 0)
        var routes = try await repository.servingRoutes()
        #expect(routes.count == 2)
        #expect(routes.allSatisfy { $0.model.id == model.id && $0.active == nil })
        _ = try await repository.activate(
            environmentID: production.id,
            deploymentID: first.id,
            event: Fixtures.event(model.id, .deploymentActivated)
        )
        #expect(try await repository.latestActivityID() > before)
        routes = try await repository.servingRoutes()
        let live = try #require(routes.first { $0.environment.name == "production" })
        #expect(live.active?.id == first.id)
        #expect(live.active?.verification == report)
        #expect(live.environment.activeVersion == first.version)
        #expect(live.model.fullName == model.fullName)
    }

    static func deletesEnvironmentsAndModels(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        let staging = environments[1]
        let live = try await Fixtures.verifiedDeployment(repository, production, digest: Fixtures.digest("a"))
        _ = try await repository.activate(
            environmentID: production.id,
            deploymentID: live.id,
            event: Fixtures.event(model.id, .deploymentActivated)
        )
        await expectRegistryError(.conflict) {
            try await repository.deleteEnvironment(
                id: production.id,
                event: Fixtures.event(model.id, .environmentDeleted)
            )
        }
        _ = try await Fixtures.deploy(repository, staging, digest: Fixtures.digest("b"))
        _ = try await Fixtures.deploy(repository, staging, digest: Fixtures.digest("b"))
        _ = try await Fixtures.deploy(repository, staging, digest: Fixtures.digest("c"))
        let freed = try await repository.deleteEnvironment(
            id: staging.id,
            event: Fixtures.event(model.id, .environmentDeleted, environment: "staging")
        )
        #expect(freed == [Fixtures.digest("b"), Fixtures.digest("c")])
        #expect(try await repository.environments(modelID: model.id).map(\.name) == ["production"])
        #expect(try await !repository.isArtifactReferenced(digest: Fixtures.digest("b")))
        await expectRegistryError(.notFound) {
            try await repository.deleteEnvironment(id: staging.id, event: Fixtures.event(model.id, .environmentDeleted))
        }

        try await repository.createKey(
            AccessKey(
                id: "key1",
                modelID: model.id,
                kind: .serving,
                name: "app",
                environments: ["production"],
                secretHash: "h",
                createdBy: Fixtures.alice,
                createdAt: Fixtures.start
            ),
            event: Fixtures.event(model.id, .keyCreated)
        )
        let other = try await Fixtures.model(repository, name: "other")
        _ = try await Fixtures.deploy(repository, other.environments[0], digest: Fixtures.digest("a"))

        #expect(try await repository.deleteModel(id: model.id) == [Fixtures.digest("a")])
        #expect(try await repository.model(id: model.id) == nil)
        #expect(try await repository.environments(modelID: model.id).isEmpty)
        #expect(try await repository.deployment(id: live.id) == nil)
        #expect(try await repository.key(id: "key1") == nil)
        #expect(
            try await repository.listActivity(modelID: model.id, filter: ActivityFilter(), page: PageRequest()).total
                == 0
        )
        // The other model still uses artifact "a".
        #expect(try await repository.isArtifactReferenced(digest: Fixtures.digest("a")))
        await expectRegistryError(.notFound) { try await repository.deleteModel(id: model.id) }
    }

    // MARK: Keys

    static func storesKeys(_ repository: SQLRegistryRepository) async throws {
        let (model, _) = try await Fixtures.model(repository)
        func key(_ id: String, _ kind: AccessKey.Kind, _ name: String, at seconds: Double) -> AccessKey {
            AccessKey(
                id: id,
                modelID: model.id,
                kind: kind,
                name: name,
                environments: ["production", "staging"],
                secretHash: "hash-\(id)",
                rateLimit: kind == .serving ? 50 : nil,
                expiresAt: Fixtures.at(86_400),
                createdBy: Fixtures.alice,
                createdAt: Fixtures.at(seconds)
            )
        }
        let deploy = key("k1", .deploy, "ci", at: 1)
        let serving = key("k2", .serving, "ci", at: 2)
        try await repository.createKey(deploy, event: Fixtures.event(model.id, .keyCreated))
        try await repository.createKey(serving, event: Fixtures.event(model.id, .keyCreated))
        #expect(try await repository.key(id: "k1") == deploy)
        #expect(try await repository.key(id: "k2") == serving)
        #expect(try await repository.key(id: "nope") == nil)
        await expectRegistryError(.conflict) {
            try await repository.createKey(
                key("k3", .deploy, "ci", at: 3),
                event: Fixtures.event(model.id, .keyCreated)
            )
        }
        await expectRegistryError(.notFound) {
            var orphan = key("k4", .deploy, "x", at: 3)
            orphan.modelID = UUID()
            try await repository.createKey(orphan, event: Fixtures.event(model.id, .keyCreated))
        }
        try await repository.revokeKey(id: "k1", at: Fixtures.at(10), event: Fixtures.event(model.id, .keyRevoked))
        try await repository.revokeKey(id: "k1", at: Fixtures.at(20), event: Fixtures.event(model.id, .keyRevoked))
        #expect(try await repository.key(id: "k1")?.revokedAt == Fixtures.at(10))
        // The name is free again once the old key is revoked.
        try await repository.createKey(key("k3", .deploy, "ci", at: 3), event: Fixtures.event(model.id, .keyCreated))
        #expect(try await repository.listKeys(modelID: model.id).map(\.id) == ["k3", "k2", "k1"])
        await expectRegistryError(.notFound) {
            try await repository.revokeKey(id: "nope", at: Fixtures.start, event: Fixtures.event(model.id, .keyRevoked))
        }
    }

    // MARK: Activity

    static func answersWhichVersionWasLive(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        let production = environments[0]
        var deployments: [Deployment] = []
        for _ in 0..<3 { deployments.append(try await Fixtures.verifiedDeployment(repository, production)) }
        // Activations at t = 100 (v1), 200 (v2), 300 (v3), 400 (rollback to v1).
        let steps: [(Int, Double, ActivityEvent.Action)] = [
            (0, 100, .deploymentActivated), (1, 200, .deploymentActivated), (2, 300, .deploymentActivated),
            (0, 400, .deploymentRolledBack),
        ]
        for (index, seconds, action) in steps {
            _ = try await repository.activate(
                environmentID: production.id,
                deploymentID: deployments[index].id,
                event: Fixtures.event(model.id, action, at: Fixtures.at(seconds))
            )
        }
        // An unrelated event later must not count.
        _ = try await Fixtures.deploy(repository, production, at: Fixtures.at(450))
        func live(_ seconds: Double, _ environment: String = "production") async throws -> Int? {
            try await repository.liveVersion(modelID: model.id, environment: environment, at: Fixtures.at(seconds))
        }
        #expect(try await live(50) == nil)
        #expect(try await live(99.999_999) == nil)
        #expect(try await live(100) == 1)
        #expect(try await live(150) == 1)
        #expect(try await live(200) == 2)
        #expect(try await live(299) == 2)
        #expect(try await live(350) == 3)
        #expect(try await live(400) == 1)
        #expect(try await live(10_000) == 1)
        #expect(try await live(10_000, "staging") == nil)

        let window = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(
                environment: "production",
                actions: ActivityEvent.Action.activations,
                since: Fixtures.at(200),
                until: Fixtures.at(300)
            ),
            page: PageRequest()
        )
        #expect(window.items.map(\.toVersion) == [3, 2])
        #expect(window.items.map(\.fromVersion) == [2, 1])
        let paged = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(actions: ActivityEvent.Action.activations),
            page: PageRequest(page: 2, size: 3)
        )
        #expect(paged.total == 4)
        #expect(paged.items.map(\.at) == [Fixtures.at(100)])
        let none = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(actions: []),
            page: PageRequest()
        )
        #expect(none.total == 0)
    }

    static func roundTripsTimestampsToTheMicrosecond(_ repository: SQLRegistryRepository) async throws {
        let instants = [
            Date(timeIntervalSince1970: 1_700_000_000.123456),
            Date(timeIntervalSince1970: 0.000001),
            Date(timeIntervalSince1970: -86_400.5),
            Date(timeIntervalSince1970: 4_102_444_800.999999),
        ]
        for (index, instant) in instants.enumerated() {
            let user = User(username: "user\(index)", createdAt: instant)
            try await repository.createUser(user)
            let stored = try #require(try await repository.user(id: user.id))
            #expect(stored.createdAt == instant)
            #expect(
                (stored.createdAt.timeIntervalSince1970 * 1_000_000).rounded()
                    == (instant.timeIntervalSince1970 * 1_000_000).rounded()
            )
        }
        let (model, _) = try await Fixtures.model(
            repository,
            createdAt: Date(timeIntervalSince1970: 1_234_567_890.654321)
        )
        #expect(
            try await repository.model(id: model.id)?.createdAt == Date(timeIntervalSince1970: 1_234_567_890.654321)
        )
    }

    static func servesConcurrentReadsAndWrites(_ repository: SQLRegistryRepository) async throws {
        let (model, environments) = try await Fixtures.model(repository)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<40 {
                group.addTask {
                    if index % 4 == 0 {
                        _ = try await Fixtures.deploy(repository, environments[index % 8 == 0 ? 0 : 1])
                    } else {
                        _ = try await repository.model(id: model.id)
                        _ = try await repository.listDeployments(
                            modelID: model.id,
                            filter: DeploymentFilter(),
                            page: PageRequest()
                        )
                    }
                }
            }
            try await group.waitForAll()
        }
        let all = try await repository.listDeployments(
            modelID: model.id,
            filter: DeploymentFilter(),
            page: PageRequest()
        )
        #expect(all.total == 10)
        try await repository.ping()
    }
}
