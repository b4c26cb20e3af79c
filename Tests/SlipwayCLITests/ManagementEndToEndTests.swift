import Foundation
import Testing

@testable import SlipwayCLI
@testable import SlipwayInference

/// The management commands against a real server on loopback, run in-process.
@Suite struct ManagementEndToEndTests {
    static let schema = """
        {"features": {"sepal_length": {"type": "float"}, "sepal_width": {"type": "float"},
                      "petal_length": {"type": "float"}, "petal_width": {"type": "float"}},
         "ndarray": [["sepal_length", "sepal_width", "petal_length", "petal_width"]]}
        """
    static let samples = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"#

    /// Parses a command's `--json` output.
    static func json(_ result: CommandResult) throws -> JSONValue {
        try JSONValue.parse(result.stdout)
    }

    /// Deploys the iris fixture into `environment` and returns the new version.
    static func deployIris(
        _ server: TestServer,
        model: String = "acme/iris",
        environment: String = "production",
        summary: String = "random forest",
        extra: [String] = [],
        token: Bool = true,
        variables: [String: String] = [:]
    ) async throws -> Int {
        let result = await server.run(
            ["deploy", model, Fixtures.iris, "--env", environment, "--summary", summary, "--json"] + extra,
            token: token,
            environment: variables
        )
        #expect(result.status == 0, "\(result.stderr)")
        let deployment = try Self.json(result)
        return try #require(deployment.int("version"))
    }

    @Test func createsListsAndShowsModels() async throws {
        try await TestServer.with { server in
            let created = await server.run(["models", "create", "admin/iris", "--public", "--description", "Iris"])
            #expect(created.status == 0, "\(created.stderr)")
            #expect(created.stdout.contains("model:"))
            #expect(created.stdout.contains("admin/iris"))
            #expect(created.stdout.contains("public"))
            #expect(created.stdout.contains("production"))

            _ = await server.run(["models", "create", "admin/churn"])
            let list = await server.run(["models", "list"])
            #expect(list.status == 0, "\(list.stderr)")
            let lines = list.stdout.split(separator: "\n")
            #expect(lines.first?.hasPrefix("MODEL") == true)
            #expect(lines.contains { $0.hasPrefix("admin/iris") && $0.contains("public") })
            #expect(lines.contains { $0.hasPrefix("admin/churn") && $0.contains("private") })

            let publicOnly = try Self.json(await server.run(["models", "list", "--public", "--json"]))
            #expect(publicOnly.items.map { $0.string("full_name") } == ["admin/iris"])
            let page = try Self.json(await server.run(["models", "list", "--per-page", "1", "--json"]))
            #expect(page.items.count == 1)
            let paged = await server.run(["models", "list", "--per-page", "1"])
            #expect(paged.stdout.contains("showing 1 of 2 models"))

            let shown = try Self.json(await server.run(["models", "show", "admin/iris", "--json"]))
            #expect(shown.string("full_name") == "admin/iris")
            #expect(shown["public"] == .bool(true))
            #expect(shown.string("description") == "Iris")

            let deleted = await server.run(["models", "delete", "admin/churn"])
            #expect(deleted.status == 0 && deleted.stdout == "Deleted model admin/churn.\n")
            let gone = await server.run(["models", "show", "admin/churn"])
            #expect(gone.status == 1)
            #expect(gone.stdout.isEmpty)
            #expect(gone.stderr.hasPrefix("slipway: error: "))
        }
    }

    @Test func managesEnvironments() async throws {
        try await TestServer.with { server in
            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            let created = await server.run(["envs", "create", "admin/iris", "canary"])
            #expect(created.status == 0, "\(created.stderr)")
            let list = await server.run(["envs", "list", "admin/iris"])
            #expect(list.stdout.hasPrefix("ENVIRONMENT"))
            let names = try Self.json(await server.run(["envs", "list", "admin/iris", "--json"])).items.compactMap {
                $0.string("name")
            }
            #expect(Set(names) == ["production", "staging", "canary"])
            #expect(await server.run(["envs", "delete", "admin/iris", "canary"]).status == 0)
            let after = try Self.json(await server.run(["envs", "list", "admin/iris", "--json"]))
            #expect(after.items.count == 2)
            let duplicate = await server.run(["envs", "create", "admin/iris", "staging"])
            #expect(duplicate.status == 1)
            #expect(duplicate.stderr.hasPrefix("slipway: error: "))
        }
    }

    @Test func deploysWithSchemaAndSamplesAndReleases() async throws {
        try await TestServer.with { server in
            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            let schema = try Fixtures.write(Self.schema, named: "schema.json")
            let samples = try Fixtures.write(Self.samples, named: "samples.json")
            let reference = try Fixtures.write(
                "[[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]]",
                named: "reference.json"
            )
            let deployed = await server.run([
                "deploy", "admin/iris", Fixtures.iris, "--env", "staging", "--summary", "random forest",
                "--description", "100 trees", "--schema", schema, "--samples", samples, "--reference", reference,
            ])
            #expect(deployed.status == 0, "\(deployed.stderr)")
            #expect(deployed.stdout.contains("admin/iris staging version 1"))
            #expect(deployed.stdout.contains("pending"))
            #expect(deployed.stderr.isEmpty, "no progress bar when stderr is not a terminal")

            let shown = try Self.json(
                await server.run(["deployments", "show", "admin/iris", "--env", "staging", "--version", "1", "--json"])
            )
            #expect(
                shown["artifact"]?.int("size")
                    == (try FileManager.default.attributesOfItem(atPath: Fixtures.iris)[.size] as? Int)
            )
            #expect(shown.string("summary") == "random forest")
            #expect(shown["samples"]?["ndarray"]?.items.count == 2)
            #expect(shown["schema"]?["ndarray"] != nil)
            #expect(shown.int("reference_rows") == 3)

            // A pending deployment cannot become active.
            let pending = await server.run(["activate", "admin/iris", "--env", "staging", "--version", "1"])
            #expect(pending.status == 1)
            #expect(pending.stderr.hasPrefix("slipway: error: "))
            #expect(pending.stderr.contains("only verified deployments can be activated"), "\(pending.stderr)")
            #expect(pending.stderr.split(separator: "\n").count == 1)
            #expect(pending.stdout.isEmpty)

            try await server.verify("admin/iris", environment: "staging", version: 1)
            let activated = await server.run(["activate", "admin/iris", "--env", "staging", "--version", "1"])
            #expect(activated.status == 0, "\(activated.stderr)")
            #expect(activated.stdout.contains("Activated admin/iris staging version 1"))

            let promoted = await server.run([
                "promote", "admin/iris", "--from", "staging", "--version", "1", "--to", "production", "--json",
            ])
            #expect(promoted.status == 0, "\(promoted.stderr)")
            let copy = try Self.json(promoted)
            #expect(copy.string("environment") == "production")
            #expect(copy.int("version") == 1)
            // docs/api.md promises `promoted_from: {environment, version}`; the server sends `promoted_from_id`.
            let source = try Self.json(
                await server.run(["deployments", "show", "admin/iris", "--env", "staging", "--version", "1", "--json"])
            )
            #expect(
                copy["promoted_from"]?.string("environment") == "staging"
                    || copy.string("promoted_from_id") == source.string("id")
            )

            let second = try await Self.deployIris(server, model: "admin/iris", environment: "staging", summary: "v2")
            #expect(second == 2)
            try await server.verify("admin/iris", environment: "staging", version: 2)
            #expect(await server.run(["activate", "admin/iris", "--env", "staging", "--version", "2"]).status == 0)
            let rolledBack = await server.run(["rollback", "admin/iris", "--env", "staging", "--version", "1"])
            #expect(rolledBack.status == 0, "\(rolledBack.stderr)")
            #expect(rolledBack.stdout.contains("version 1 (was version 2)"))

            let list = await server.run(["deployments", "list", "admin/iris", "--env", "staging"])
            let lines = list.stdout.split(separator: "\n").map(String.init)
            #expect(lines.first?.hasPrefix("VERSION  STATUS") == true, "\(list.stdout)")
            #expect(lines.count == 3)
            let all = try Self.json(await server.run(["deployments", "list", "admin/iris", "--json"]))
            #expect(all.items.count == 3)
            // The promoted copy of a verified deployment stays verified (docs/api.md said `pending`).
            let verified = try Self.json(
                await server.run(["deployments", "list", "admin/iris", "--status", "verified", "--json"])
            )
            #expect(verified.items.count == 3)
            let failed = try Self.json(
                await server.run(["deployments", "list", "admin/iris", "--status", "failed", "--json"])
            )
            #expect(failed.items.isEmpty)

            let activity = await server.run(["activity", "admin/iris", "--env", "staging"])
            #expect(activity.status == 0, "\(activity.stderr)")
            #expect(activity.stdout.contains("deployment.rolled_back"))
            #expect(activity.stdout.contains("deployment.activated"))
            let events = try Self.json(await server.run(["activity", "admin/iris", "--json"]))
            #expect(events.items.first?.string("action") == "deployment.rolled_back")

            let live = await server.run(["activity", "admin/iris", "--env", "staging", "--at", Self.now()])
            #expect(live.status == 0, "\(live.stderr)")
            #expect(live.stdout.contains("version 1"))
            let before = try Self.json(
                await server.run([
                    "activity", "admin/iris", "--env", "staging", "--at", "2000-01-01T00:00:00Z", "--json",
                ])
            )
            #expect(before["version"] == .null)
        }
    }

    static func now() -> String {
        Date().addingTimeInterval(1).formatted(.iso8601)
    }

    @Test func createsKeysWhoseSecretIsTheLastLineAndDeploysWithThem() async throws {
        try await TestServer.with { server in
            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            let created = await server.run([
                "keys", "create", "admin/iris", "--kind", "deploy", "--env", "staging", "--expires", "30d",
            ])
            #expect(created.status == 0, "\(created.stderr)")
            let secret = created.lastLine
            #expect(secret.hasPrefix("slw_d_"))
            #expect(created.stdout.contains("deploy-staging"))

            // The deploy key alone deploys into its environment…
            let deployed = await server.run(
                [
                    "deploy", "admin/iris", Fixtures.iris, "--env", "staging", "--summary", "by key", "--deploy-key",
                    secret,
                ],
                token: false
            )
            #expect(deployed.status == 0, "\(deployed.stderr)")
            #expect(deployed.stdout.contains("deploy key deploy-staging"))
            // …and is preferred to a token for deploy commands, from the environment too.
            let viaEnvironment = try await Self.deployIris(
                server,
                model: "admin/iris",
                environment: "staging",
                variables: ["SLIPWAY_DEPLOY_KEY": secret]
            )
            #expect(viaEnvironment == 2)
            let deployments = try Self.json(await server.run(["deployments", "list", "admin/iris", "--json"]))
            #expect(deployments.items.allSatisfy { $0["created_by"]?.string("kind") == "deploy_key" })
            // …but not outside its environments.
            let outside = await server.run(
                [
                    "deploy", "admin/iris", Fixtures.iris, "--env", "production", "--summary", "no", "--deploy-key",
                    secret,
                ],
                token: false
            )
            #expect(outside.status == 1)
            #expect(outside.stderr.hasPrefix("slipway: error: "))

            let serving = await server.run([
                "keys", "create", "admin/iris", "--kind", "serving", "--env", "production", "--name", "web",
                "--rate-limit", "600", "--json",
            ])
            #expect(serving.status == 0, "\(serving.stderr)")
            let servingKey = try Self.json(serving)
            #expect(servingKey.string("secret")?.hasPrefix("slw_s_") == true)
            #expect(servingKey.int("rate_limit") == 600)

            let list = await server.run(["keys", "list", "admin/iris"])
            #expect(list.stdout.hasPrefix("ID"))
            #expect(!list.stdout.contains(secret))
            let keyID = try #require(servingKey.string("id"))
            #expect(await server.run(["keys", "revoke", "admin/iris", keyID]).status == 0)
            let keys = try Self.json(await server.run(["keys", "list", "admin/iris", "--json"]))
            #expect(keys.items.first { $0.string("id") == keyID }?["revoked_at"] != .null)
        }
    }

    @Test func reportsServerErrorsAndWhoami() async throws {
        try await TestServer.with { server in
            let me = await server.run(["whoami"])
            #expect(me.status == 0, "\(me.stderr)")
            #expect(me.stdout.contains("username:"))
            #expect(me.stdout.contains("admin"))
            let meJSON = try Self.json(await server.run(["whoami", "--json"]))
            #expect(meJSON["is_admin"] == .bool(true))

            let anonymous = await server.run(["models", "create", "admin/iris"], token: false)
            #expect(anonymous.status == 1)
            #expect(anonymous.stderr.hasPrefix("slipway: error: "))

            let badToken = await server.run(["whoami", "--token", "slw_u_nope"])
            #expect(badToken.status == 1)
            #expect(badToken.stderr.split(separator: "\n").count == 1)

            let badName = await server.run(["models", "create", "admin/Not_Valid!"])
            #expect(badName.status == 1)
            #expect(badName.stderr.hasPrefix("slipway: error: "))

            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            let badJSON = try Fixtures.write("{not json", named: "samples.json")
            let rejected = await server.run([
                "deploy", "admin/iris", Fixtures.iris, "--env", "staging", "--summary", "s", "--samples", badJSON,
            ])
            #expect(rejected.status == 1)
            #expect(rejected.stderr.contains("--samples file \(badJSON) is not valid JSON"))
            let missing = await server.run([
                "deploy", "admin/iris", "/nonexistent/model.onnx", "--env", "staging", "--summary", "s",
            ])
            #expect(missing.status == 1)
            #expect(missing.stderr.contains("/nonexistent/model.onnx does not exist"))
            let badSamples = try Fixtures.write(#"{"rows": [[1]]}"#, named: "samples.json")
            let invalid = await server.run([
                "deploy", "admin/iris", Fixtures.iris, "--env", "staging", "--summary", "s", "--samples", badSamples,
            ])
            #expect(invalid.status == 1)
            #expect(invalid.stderr.contains("samples.rows"), "\(invalid.stderr)")
            let deployments = try Self.json(await server.run(["deployments", "list", "admin/iris", "--json"]))
            #expect(deployments.items.isEmpty)
        }
    }

    @Test func reportsAnUnreachableServer() async {
        let result = await slipway(["models", "list", "--server", "http://127.0.0.1:9"])
        #expect(result.status == 1)
        #expect(result.stderr.hasPrefix("slipway: error: cannot reach the Slipway server at http://127.0.0.1:9: "))
    }
}
