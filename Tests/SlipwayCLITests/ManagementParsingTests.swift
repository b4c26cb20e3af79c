import ArgumentParser
import Foundation
import SlipwayInference
import Testing

@testable import SlipwayCLI

/// Every management command parses its documented arguments, and bad ones are `ValidationError`s.
@Suite struct ManagementParsingTests {
    /// Parses a command line and returns the command as `T`.
    static func parse<T: ParsableCommand>(_ arguments: [String], as type: T.Type = T.self) throws -> T {
        let command = try SlipwayCommand.parseAsRoot(arguments)
        return try #require(command as? T, "parsed \(Swift.type(of: command)), not \(T.self)")
    }

    /// The message of the `ValidationError` that parsing throws, or `nil` when parsing succeeds or fails otherwise.
    static func validationMessage(_ arguments: [String]) -> String? {
        do {
            _ = try SlipwayCommand.parseAsRoot(arguments)
            return nil
        } catch {
            // ArgumentParser wraps what `validate()` throws as `ParserError.userValidationError(error)`
            // inside its internal `CommandError`.
            for child in Mirror(reflecting: error).children where child.label == "parserError" {
                for payload in Mirror(reflecting: child.value).children where payload.label == "userValidationError" {
                    if let validation = payload.value as? ValidationError { return validation.message }
                }
            }
            return nil
        }
    }

    @Test func parsesGlobalOptionsOnEveryCommand() throws {
        let command = try Self.parse(
            ["models", "show", "acme/churn", "--server", "https://slipway.example/", "--token", "t", "--json"],
            as: ModelsCommand.Show.self
        )
        #expect(command.model == "acme/churn")
        #expect(command.options.server == "https://slipway.example/")
        #expect(command.options.token == "t")
        #expect(command.options.json)
        let context = CommandContext.test(environment: [:])
        #expect(try command.options.resolvedServer(in: context).absoluteString == "https://slipway.example")
    }

    @Test func parsesModelsCommands() throws {
        let create = try Self.parse(
            ["models", "create", "acme/churn", "--public", "--description", "Churn"],
            as: ModelsCommand.Create.self
        )
        #expect(create.public && create.description == "Churn")
        let list = try Self.parse(
            ["models", "list", "--owner", "acme", "--private", "--search", "churn", "--page", "2", "--per-page", "10"],
            as: ModelsCommand.List.self
        )
        #expect(list.owner == "acme" && list.private && !list.public && list.search == "churn")
        #expect(list.page == 2 && list.perPage == 10)
        _ = try Self.parse(["models", "delete", "acme/churn"], as: ModelsCommand.Delete.self)
    }

    @Test func parsesEnvsAndKeysCommands() throws {
        let env = try Self.parse(["envs", "create", "acme/churn", "canary"], as: EnvsCommand.Create.self)
        #expect(env.environment == "canary")
        _ = try Self.parse(["envs", "list", "acme/churn"], as: EnvsCommand.List.self)
        _ = try Self.parse(["envs", "delete", "acme/churn", "canary"], as: EnvsCommand.Delete.self)
        let key = try Self.parse(
            [
                "keys", "create", "acme/churn", "--kind", "serving", "--env", "production", "--env", "staging",
                "--expires", "30d", "--rate-limit", "600",
            ],
            as: KeysCommand.Create.self
        )
        #expect(key.environments == ["production", "staging"])
        #expect(key.resolvedName == "serving-production-staging")
        #expect(key.rateLimit == 600)
        _ = try Self.parse(["keys", "list", "acme/churn"], as: KeysCommand.List.self)
        let revoke = try Self.parse(["keys", "revoke", "acme/churn", "abc123"], as: KeysCommand.Revoke.self)
        #expect(revoke.keyID == "abc123")
    }

    @Test func keyRequestCarriesExpiryAndDefaultName() throws {
        let key = try Self.parse(
            ["keys", "create", "acme/churn", "--kind", "deploy", "--env", "production", "--expires", "12h"],
            as: KeysCommand.Create.self
        )
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let body = try key.requestBody(now: now)
        #expect(body["name"] == .string("deploy-production"))
        #expect(body["kind"] == .string("deploy"))
        #expect(body["environments"] == .array([.string("production")]))
        #expect(body["expires_at"] == .string("2027-01-15T20:00:00Z"))
        #expect(body["rate_limit"] == nil)
        #expect(try KeysCommand.Lifetime("30d").seconds == 30 * 86_400)
    }

    @Test func readsAReferenceCSVAsFeatureRows() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        func write(_ name: String, _ text: String) throws -> String {
            let url = folder.appendingPathComponent(name)
            try Data(text.utf8).write(to: url)
            return url.path
        }
        let good = try write("reference.csv", "age,plan,score,active\n42,\"gold, yearly\",0.5,true\n7,basic,,false\n")
        #expect(
            try DeployCommand.csvRows(good)
                == #"[{"age":42,"plan":"gold, yearly","score":0.5,"active":true},"#
                + #"{"age":7,"plan":"basic","score":null,"active":false}]"#
        )
        let ragged = try write("ragged.csv", "a,b\n1,2\n3\n")
        #expect(throws: ManagementFailure.self) { try DeployCommand.csvRows(ragged) }
        let headerOnly = try write("header.csv", "a,b\n")
        #expect(throws: ManagementFailure.self) { try DeployCommand.csvRows(headerOnly) }
        let duplicate = try write("duplicate.csv", "a,a\n1,2\n")
        #expect(throws: ManagementFailure.self) { try DeployCommand.csvRows(duplicate) }
        #expect(throws: ManagementFailure.self) {
            try DeployCommand.csvRows(folder.appendingPathComponent("no.csv").path)
        }
    }

    @Test func parsesDeployAndReleaseCommands() throws {
        let deploy = try Self.parse(
            [
                "deploy", "acme/churn", "model.onnx", "--env", "staging", "--summary", "more trees",
                "--description", "d", "--schema", "s.json", "--samples", "x.json", "--classes", "c.json",
                "--context", "ctx.json", "--params", "p.json", "--format", "onnx", "--activate", "--deploy-key", "k",
                "--reference", "r.json",
            ],
            as: DeployCommand.self
        )
        #expect(deploy.modelFile == "model.onnx" && deploy.env == "staging" && deploy.activate)
        #expect(deploy.reference == "r.json")
        #expect(deploy.options.deployKey == "k")
        let activate = try Self.parse(
            ["activate", "acme/churn", "--env", "production", "--version", "3"],
            as: ActivateCommand.self
        )
        #expect(activate.arguments.version == 3 && activate.arguments.env == "production")
        let rollback = try Self.parse(
            ["rollback", "acme/churn", "--env", "production", "--version", "2"],
            as: RollbackCommand.self
        )
        #expect(rollback.arguments.model == "acme/churn" && rollback.arguments.version == 2)
        let promote = try Self.parse(
            ["promote", "acme/churn", "--from", "staging", "--version", "4", "--to", "production"],
            as: PromoteCommand.self
        )
        #expect(promote.from == "staging" && promote.to == "production" && promote.version == 4)
    }

    @Test func parsesDeploymentsActivityAndWhoami() throws {
        let list = try Self.parse(
            ["deployments", "list", "acme/churn", "--env", "production", "--status", "verified"],
            as: DeploymentsCommand.List.self
        )
        #expect(list.env == "production" && list.status == "verified")
        _ = try Self.parse(
            ["deployments", "show", "acme/churn", "--env", "production", "--version", "1"],
            as: DeploymentsCommand.Show.self
        )
        let activity = try Self.parse(
            ["activity", "acme/churn", "--env", "production", "--at", "2026-11-28T04:31:07.123456Z"],
            as: ActivityCommand.self
        )
        #expect(activity.at == "2026-11-28T04:31:07.123456Z")
        _ = try Self.parse(["activity", "acme/churn", "--at", "2026-11-28T06:31:07+02:00"], as: ActivityCommand.self)
        _ = try Self.parse(["whoami"], as: WhoamiCommand.self)
    }

    @Test(arguments: [
        (["models", "show", "churn"], "OWNER/NAME"),
        (["models", "create", "acme/churn/extra"], "OWNER/NAME"),
        (["models", "create", "/churn"], "OWNER/NAME"),
        (["models", "list", "--public", "--private"], "exclude each other"),
        (["models", "list", "--per-page", "500"], "--per-page"),
        (["keys", "create", "acme/churn", "--kind", "deploy", "--env", "production", "--expires", "3x"], "--expires"),
        (["keys", "create", "acme/churn", "--kind", "deploy", "--env", "production", "--expires", "0d"], "--expires"),
        (["keys", "create", "acme/churn", "--kind", "admin", "--env", "production"], "--kind"),
        (["keys", "create", "acme/churn", "--kind", "deploy"], "--env"),
        (["keys", "create", "acme/churn", "--kind", "deploy", "--env", "production", "--rate-limit", "5"], "serving"),
        (["deploy", "acme", "model.onnx", "--env", "production", "--summary", "s"], "OWNER/NAME"),
        (["deploy", "acme/churn", "model.onnx", "--env", "production", "--summary", " "], "--summary"),
        (["activate", "acme/churn", "--env", "production", "--version", "0"], "--version"),
        (["promote", "acme/churn", "--from", "staging", "--version", "1", "--to", "staging"], "same environment"),
        (["deployments", "list", "acme/churn", "--status", "done"], "--status"),
        (["activity", "acme/churn", "--at", "yesterday"], "RFC 3339"),
        (["whoami", "--server", "ftp://example.com"], "http"),
        (["envs", "create", "acme/churn", "my env"], "environment"),
    ])
    func rejectsBadArgumentsWithValidationErrors(arguments: [String], expected: String) {
        let message = Self.validationMessage(arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "no ValidationError")")
    }

    @Test func optionsBeatEnvironmentAndDeployCommandsPreferDeployKeys() throws {
        let environment = [
            "SLIPWAY_TOKEN": "env-token", "SLIPWAY_DEPLOY_KEY": "env-key", "SLIPWAY_SERVER": "http://h:1",
        ]
        let context = CommandContext.test(environment: environment)
        let bare = try Self.parse(["whoami"], as: WhoamiCommand.self).options
        #expect(bare.credential(in: context, preferDeployKey: false) == "env-token")
        #expect(bare.credential(in: context, preferDeployKey: true) == "env-key")
        #expect(try bare.resolvedServer(in: context).absoluteString == "http://h:1")
        let withToken = try Self.parse(["whoami", "--token", "opt-token"], as: WhoamiCommand.self).options
        #expect(withToken.credential(in: context, preferDeployKey: true) == "opt-token")
        let both = try Self.parse(["whoami", "--token", "t", "--deploy-key", "k"], as: WhoamiCommand.self).options
        #expect(both.credential(in: context, preferDeployKey: false) == "t")
        #expect(both.credential(in: context, preferDeployKey: true) == "k")
        let none = try Self.parse(["whoami"], as: WhoamiCommand.self).options
        #expect(none.credential(in: .test(environment: [:]), preferDeployKey: true) == nil)
        #expect(try none.resolvedServer(in: .test(environment: [:])).absoluteString == "http://127.0.0.1:8080")
    }
}
