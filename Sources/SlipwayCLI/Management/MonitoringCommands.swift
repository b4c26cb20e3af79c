import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayInference

/// `slipway predictions OWNER/NAME --env ENV [--format jsonl|csv] [--from --to --version --output FILE]`: exports
/// an environment's prediction log.
public struct PredictionsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "predictions",
        abstract: "Export an environment's prediction log (JSON Lines or CSV), newest first.",
        discussion: """
            The log is opt-in per environment: turn it on with \
            PUT /api/v1/models/OWNER/NAME/environments/ENV/prediction-log. Features marked pii: true in the \
            deployment's schema are stored as "[redacted]".
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env: String = "production"

    @Option(help: "jsonl or csv.")
    var format: String = "jsonl"

    @Option(help: ArgumentHelp("Only requests at or after this RFC 3339 time.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Only requests before this RFC 3339 time.", valueName: "time"))
    var to: String?

    @Option(help: "Only this deployment version.")
    var version: Int?

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        guard self.format == "jsonl" || self.format == "csv" else {
            throw ValidationError("--format must be jsonl or csv (got '\(self.format)')")
        }
        for (option, value) in [("--from", self.from), ("--to", self.to)] {
            if let value, ActivityCommand.parseTime(value) == nil {
                throw ValidationError("\(option) takes an RFC 3339 time, like 2026-11-28T04:31:07Z (got '\(value)')")
            }
        }
        if let version = self.version { try ArgumentChecks.version(version) }
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options) { session in
            let url = session.url(
                model.pathSegments + ["environments", self.env, "predictions", "export"],
                query: [
                    ("format", self.format), ("from", self.from), ("to", self.to),
                    ("version", self.version.map(String.init)),
                ]
            )
            let text = try await session.fetchText(url)
            if let output = self.output {
                do {
                    try Data(text.utf8).write(to: URL(fileURLWithPath: output))
                } catch {
                    throw ManagementFailure("cannot write \(output): \(error.localizedDescription)", status: nil)
                }
                let lines = text.split(separator: "\n").count - (self.format == "csv" ? 1 : 0)
                session.context.printError("wrote \(max(0, lines)) prediction(s) to \(output)")
            } else {
                session.context.writeOutput(text)
            }
        }
    }
}

/// `slipway metrics OWNER/NAME --env ENV [--from --to --version]`: quality metrics from feedback.
public struct MetricsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Show an environment's quality metrics computed from feedback, and the model's key metric.",
        discussion: "The window defaults to the last 24 hours."
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env: String = "production"

    @Option(help: ArgumentHelp("Predictions at or after this RFC 3339 time.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Predictions before this RFC 3339 time.", valueName: "time"))
    var to: String?

    @Option(help: "Only this deployment version.")
    var version: Int?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        for (option, value) in [("--from", self.from), ("--to", self.to)] {
            if let value, ActivityCommand.parseTime(value) == nil {
                throw ValidationError("\(option) takes an RFC 3339 time, like 2026-11-28T04:31:07Z (got '\(value)')")
            }
        }
        if let version = self.version { try ArgumentChecks.version(version) }
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options) { session in
            let response = try await session.send(
                .get,
                model.pathSegments + ["environments", self.env, "metrics"],
                query: [("from", self.from), ("to", self.to), ("version", self.version.map(String.init))]
            )
            session.print(response.body, human: Self.human)
        }
    }

    /// The metrics as a block: what could be computed, then per-class scores.
    static func human(_ body: JSONValue) -> String {
        let metrics = body["metrics"] ?? .null
        var pairs: [(String, String)] = [
            ("environment", body.text("environment")), ("window", "\(body.text("from")) – \(body.text("to"))"),
            ("feedback rows", metrics.text("count")),
        ]
        if let key = body["key_metric"] {
            pairs.append(("key metric", "\(key.text("name")) (\(key.text("direction"))) = \(key.text("value"))"))
        }
        for name in [
            "accuracy", "macro_precision", "macro_recall", "macro_f1", "log_loss", "roc_auc", "mae", "rmse", "r2",
            "outcome_sum", "outcome_mean",
        ] where metrics[name] != nil {
            pairs.append((name.replacingOccurrences(of: "_", with: " "), metrics.text(name)))
        }
        var text = TextLayout.block(pairs)
        let classes = (metrics["classes"] ?? .null).items
        if !classes.isEmpty {
            text +=
                "\n\n"
                + TextLayout.table(
                    ["CLASS", "PRECISION", "RECALL", "F1", "SUPPORT"],
                    classes.map {
                        [$0.text("label"), $0.text("precision"), $0.text("recall"), $0.text("f1"), $0.text("support")]
                    }
                )
        }
        return text
    }
}

extension ManagementSession {
    /// GETs a non-JSON answer (an export) as text; errors are read as the API's JSON errors.
    func fetchText(_ url: String) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "User-Agent", value: "slipway-cli")
        if let credential = self.credential {
            request.headers.add(name: "Authorization", value: "Bearer \(credential)")
        }
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await self.client.execute(request, timeout: Self.requestTimeout)
            bytes = try await response.body.collect(upTo: 1 << 30)
        } catch {
            throw self.transportFailure(error)
        }
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            if let body = try? JSONValue.parse(Array(bytes.readableBytesView)),
                case .string(let detail)? = body["detail"]
            {
                throw ManagementFailure(detail, status: status, code: body.string("code"))
            }
            throw ManagementFailure("the server answered \(status) \(response.status.reasonPhrase)", status: status)
        }
        return String(decoding: bytes.readableBytesView, as: UTF8.self)
    }
}
