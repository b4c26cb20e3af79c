import ArgumentParser
import Foundation
import SlipwayRegistry
import Testing

@testable import SlipwayCLI

/// `slipway predictions` and `slipway metrics`: arguments, and their answers from a live server.
@Suite struct MonitoringCommandTests {
    @Test(arguments: [
        (["predictions", "acme", "--env", "production"], "OWNER/NAME"),
        (["predictions", "acme/churn", "--format", "xml"], "--format"),
        (["predictions", "acme/churn", "--from", "yesterday"], "RFC 3339"),
        (["predictions", "acme/churn", "--version", "0"], "--version"),
        (["metrics", "acme/churn", "--to", "noon"], "RFC 3339"),
        (["metrics", "acme/churn", "--env", "my env"], "environment"),
    ])
    func rejectsBadArguments(arguments: [String], expected: String) {
        let message = ManagementParsingTests.validationMessage(arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "no ValidationError")")
    }

    @Test func parsesTheDocumentedForms() throws {
        let export = try ManagementParsingTests.parse(
            ["predictions", "acme/churn", "--env", "staging", "--format", "csv", "--output", "log.csv"],
            as: PredictionsCommand.self
        )
        #expect(export.env == "staging" && export.format == "csv" && export.output == "log.csv")
        let metrics = try ManagementParsingTests.parse(["metrics", "acme/churn"], as: MetricsCommand.self)
        #expect(metrics.env == "production" && metrics.version == nil)
    }

    @Test func printsMetricsAndAnEmptyLog() async throws {
        try await TestServer.with { server in
            let admin = try await server.registry.authenticate(secret: TestServer.adminToken)
            _ = try await server.registry.createModel(ModelInput(owner: "admin", name: "churn"), by: admin)
            let metrics = await server.run(["metrics", "admin/churn", "--env", "production"])
            #expect(metrics.status == 0, "\(metrics.stderr)")
            #expect(
                metrics.stdout.contains("feedback rows:") && metrics.stdout.contains("production"),
                "\(metrics.stdout)"
            )
            let json = await server.run(["metrics", "admin/churn", "--json"])
            #expect(json.stdout.contains("\"metrics\""), "\(json.stdout)")
            let log = await server.run(["predictions", "admin/churn", "--format", "csv"])
            #expect(log.status == 0 && log.stdout.hasPrefix("id,request_id,at"), "\(log.stdout) \(log.stderr)")
            let missing = await server.run(["predictions", "admin/nope"])
            #expect(missing.status != 0 && missing.stderr.contains("does not exist"), "\(missing.stderr)")
        }
    }
}
