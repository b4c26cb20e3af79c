import ArgumentParser
import Foundation
import Testing

@testable import SlipwayCLI

/// `slipway predict-batch` and `slipway batch-jobs` parse their documented arguments and refuse bad ones.
@Suite struct BatchJobsCommandTests {
    @Test func parsesPredictBatchAndInfersTheFormat() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString).jsonl")
        try Data("[1, 2]\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let command = try ManagementParsingTests.parse(
            ["predict-batch", "acme/iris", "--env", "staging", file.path, "--version", "3", "--output", "out.jsonl"],
            as: PredictBatchCommand.self
        )
        #expect(command.env == "staging")
        #expect(command.version == 3)
        #expect(command.output == "out.jsonl")
        #expect(command.resolvedFormat == "jsonl")
        let show = try ManagementParsingTests.parse(
            ["batch-jobs", "download", "acme/iris", "5f0c", "--errors"],
            as: BatchJobsCommand.Download.self
        )
        #expect(show.errors && show.target.env == "production")
    }

    @Test func refusesBadArguments() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("rows-\(UUID().uuidString).csv")
        try Data("a\n1\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(
            ManagementParsingTests.validationMessage(["predict-batch", "acme/iris", file.path, "--format", "xlsx"])?
                .contains("--format must be csv or jsonl") == true
        )
        #expect(
            ManagementParsingTests.validationMessage(["predict-batch", "acme/iris", "/nonexistent/rows.csv"])?
                .contains("cannot read the file") == true
        )
        #expect(
            ManagementParsingTests.validationMessage(["predict-batch", "acme/iris", file.path, "--version", "0"]) != nil
        )
        #expect(ManagementParsingTests.validationMessage(["batch-jobs", "list", "iris"]) != nil)
    }
}
