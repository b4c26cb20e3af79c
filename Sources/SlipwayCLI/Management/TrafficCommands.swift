import ArgumentParser
import Foundation
import SlipwayExperiments
import SlipwayInference

/// `slipway traffic OWNER/NAME --env ENV [--set 3=90,4=10] [--shadow 5[=PERCENT]]... [--sticky-feature F] [--clear]`:
/// shows or replaces an environment's traffic policy.
public struct TrafficCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "traffic",
        abstract: "Show or set how an environment's traffic is split between versions (A/B, canary, shadows).",
        discussion: """
            Without --set, --shadow, --sticky-feature or --clear it shows the policy. --set, --shadow and \
            --sticky-feature together replace the whole policy: the arms' weights (the active version among them) \
            sum to 100, versions left out of --set get no share. --clear sends all traffic to the active version \
            and drops the shadows. A running rollout controls the split: pause or abort it first. See \
            docs/traffic.md.
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env = "production"

    @Option(
        name: .customLong("set"),
        help: ArgumentHelp("The arms as VERSION=WEIGHT pairs, e.g. 3=90,4=10 (weights sum to 100).", valueName: "arms")
    )
    var arms: String?

    @Option(
        name: .customLong("shadow"),
        help: ArgumentHelp(
            "A version that receives a copy of PERCENT of the requests (default 100); repeatable.",
            valueName: "version[=percent]"
        )
    )
    var shadows: [String] = []

    @Option(
        name: .customLong("sticky-feature"),
        help: ArgumentHelp(
            "The feature whose value keeps a caller on one arm when a request has no X-Slipway-Route-Key header.",
            valueName: "feature"
        )
    )
    var stickyFeature: String?

    @Flag(help: "Send all traffic to the active version again and drop the shadows.")
    var clear = false

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        if let arms = self.arms { _ = try TrafficArguments.arms(arms) }
        for shadow in self.shadows { _ = try TrafficArguments.shadow(shadow) }
        if let feature = self.stickyFeature, feature.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--sticky-feature takes a feature name, e.g. user_id")
        }
        if self.clear, self.changes {
            throw ValidationError("--clear cannot be combined with --set, --shadow or --sticky-feature")
        }
    }

    /// Whether the command sets a policy.
    var changes: Bool { self.arms != nil || !self.shadows.isEmpty || self.stickyFeature != nil }

    /// The `PUT …/traffic` body.
    func body() throws -> JSONValue {
        let arms = try self.arms.map(TrafficArguments.arms) ?? []
        let shadows = try self.shadows.map(TrafficArguments.shadow)
        var members: [(String, JSONValue)] = [
            (
                "arms",
                .array(
                    arms.map {
                        .object([("version", .int(Int64($0.version))), ("weight", .int(Int64($0.weight)))])
                    }
                )
            ),
            (
                "shadows",
                .array(
                    shadows.map { shadow in
                        var fields: [(String, JSONValue)] = [("version", .int(Int64(shadow.version)))]
                        if let percent = shadow.percent { fields.append(("percent", .int(Int64(percent)))) }
                        return .object(fields)
                    }
                )
            ),
        ]
        if let feature = self.stickyFeature {
            members.append(("sticky_feature", .string(feature.trimmingCharacters(in: .whitespaces))))
        }
        return .object(members)
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        let path = model.pathSegments + ["environments", self.env, "traffic"]
        try await ManagementSession.run(self.options) { session in
            let response: APIResponse
            var heading: String?
            if self.clear {
                response = try await session.send(.delete, path)
                heading = "All traffic of \(model) \(self.env) goes to the active version."
            } else if self.changes {
                response = try await session.send(.put, path, body: try self.body())
                heading = "Set the traffic of \(model) \(self.env)."
            } else {
                response = try await session.send(.get, path)
            }
            session.print(response.body) { view in
                [heading, TrafficFormat.traffic(view)].compactMap { $0 }.joined(separator: "\n\n")
            }
        }
    }
}

/// `slipway rollout start|status|pause|resume|abort|list`: progressive rollouts.
public struct RolloutCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "rollout",
        abstract: "Roll a version out step by step while its guardrails hold, and roll back by itself when one fails.",
        subcommands: [Start.self, Status.self, Pause.self, Resume.self, Abort.self, List.self]
    )

    public init() {}

    /// The arguments naming a model environment.
    struct Target: ParsableArguments {
        @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
        var model: String

        @Option(help: ArgumentHelp("The environment.", valueName: "env"))
        var env = "production"

        func validate() throws {
            _ = try ModelReference(self.model)
            try ArgumentChecks.environment(self.env)
        }

        var reference: ModelReference {
            get throws { try ModelReference(self.model) }
        }

        /// `models/OWNER/NAME/environments/ENV/rollouts`.
        var path: [String] {
            get throws { try self.reference.pathSegments + ["environments", self.env, "rollouts"] }
        }
    }

    /// `slipway rollout start OWNER/NAME --env ENV --version N [--steps 5,25,50,100] --interval 10m
    /// [--guardrails "error_rate<1%,p99_ms<20"]`.
    public struct Start: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Start rolling a verified version out from the active one.",
            discussion: """
                The candidate gets the first step's share at once; every --interval the server advances a step \
                while every guardrail holds, and takes the share back (rolled_back) as soon as one fails. \
                Guardrails: METRIC OP LIMIT, comma-separated; metrics error_rate, p50_ms, p95_ms, p99_ms, \
                key_metric; limits a number, or baseline, baseline+X, baseline-X, baseline*X (docs/traffic.md).
                """
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target

        @Option(help: ArgumentHelp("The candidate version (verified, not the active one).", valueName: "n"))
        var version: Int

        @Option(help: ArgumentHelp("The candidate's percent at each step, ending at 100.", valueName: "percents"))
        var steps = "5,25,50,100"

        @Option(help: ArgumentHelp("How long each step lasts: seconds, or 90s, 10m, 1h, 1d.", valueName: "duration"))
        var interval: String

        @Option(
            help: ArgumentHelp(
                "Conditions the candidate must meet, e.g. \"error_rate<1%,p99_ms<20,key_metric>=baseline-0.01\".",
                valueName: "guardrails"
            )
        )
        var guardrails: String?

        public init() {}

        public func validate() throws {
            try ArgumentChecks.version(self.version)
            _ = try TrafficArguments.steps(self.steps)
            _ = try TrafficArguments.interval(self.interval)
        }

        public func run() async throws {
            let path = try self.target.path
            let model = try self.target.reference
            let body = JSONValue.object([
                ("version", .int(Int64(self.version))),
                ("steps", .array(try TrafficArguments.steps(self.steps).map { .int(Int64($0)) })),
                ("interval", .double(try TrafficArguments.interval(self.interval))),
                ("guardrails", .string(self.guardrails ?? "")),
            ])
            try await ManagementSession.run(self.options) { session in
                let response = try await session.send(.post, path, body: body)
                session.print(response.body) { rollout in
                    "Started rolling out \(model) version \(self.version) in \(self.target.env): "
                        + "\(rollout.text("weight"))% now.\n\n" + TrafficFormat.rollout(rollout)
                }
            }
        }
    }

    /// `slipway rollout status OWNER/NAME --env ENV`.
    public struct Status: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the live (or last) rollout with its guardrails judged now."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            let path = try self.target.path + ["current"]
            try await ManagementSession.run(self.options) { session in
                session.print(try await session.send(.get, path).body, human: TrafficFormat.rollout)
            }
        }
    }

    /// `slipway rollout pause OWNER/NAME --env ENV`.
    public struct Pause: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Hold the live rollout at its current step (the guardrails are not judged while paused)."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            try await RolloutCommand.command("pause", verb: "Paused", self.options, self.target)
        }
    }

    /// `slipway rollout resume OWNER/NAME --env ENV`.
    public struct Resume: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Resume a paused rollout (its current step's interval starts again)."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            try await RolloutCommand.command("resume", verb: "Resumed", self.options, self.target)
        }
    }

    /// `slipway rollout abort OWNER/NAME --env ENV`.
    public struct Abort: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Stop the live rollout: all traffic goes back to the baseline version."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            try await RolloutCommand.command("abort", verb: "Aborted", self.options, self.target)
        }
    }

    /// `slipway rollout list OWNER/NAME --env ENV`.
    public struct List: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "List an environment's rollouts, newest first."
        )
        @OptionGroup var options: ManagementOptions
        @OptionGroup var target: Target
        public init() {}

        public func run() async throws {
            let path = try self.target.path
            try await ManagementSession.run(self.options) { session in
                session.print(try await session.send(.get, path).body, human: TrafficFormat.rollouts)
            }
        }
    }

    /// Pauses, resumes or aborts, and reports it.
    static func command(_ name: String, verb: String, _ options: ManagementOptions, _ target: Target) async throws {
        let path = try target.path + ["current", name]
        let model = try target.reference
        try await ManagementSession.run(options) { session in
            let response = try await session.send(.post, path)
            session.print(response.body) { rollout in
                "\(verb) the rollout of \(model) version \(rollout.text("candidate_version")) in \(target.env).\n\n"
                    + TrafficFormat.rollout(rollout)
            }
        }
    }
}

/// `slipway experiment OWNER/NAME --env ENV [--from --to] [--confidence 0.95]`: the experiment readout.
public struct ExperimentCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Compare an environment's arms: the key metric with its confidence interval, the test against "
            + "the baseline (active) version, the minimum detectable effect, and the error rate.",
        discussion: """
            The arms are the traffic split's versions, or the live (or last) rollout's candidate and baseline. The \
            window defaults to the time since the split or rollout began. Rates are compared with a two-proportion \
            z-test, means with Welch's t-test (docs/traffic.md).
            """
    )

    @OptionGroup var options: ManagementOptions

    @Argument(help: ArgumentHelp("The model.", valueName: "owner/name"))
    var model: String

    @Option(help: ArgumentHelp("The environment.", valueName: "env"))
    var env = "production"

    @Option(help: ArgumentHelp("Requests at or after this RFC 3339 time.", valueName: "time"))
    var from: String?

    @Option(help: ArgumentHelp("Requests before this RFC 3339 time.", valueName: "time"))
    var to: String?

    @Option(help: ArgumentHelp("The confidence level of the intervals, between 0.5 and 1.", valueName: "level"))
    var confidence: Double?

    public init() {}

    public func validate() throws {
        _ = try ModelReference(self.model)
        try ArgumentChecks.environment(self.env)
        for (option, value) in [("--from", self.from), ("--to", self.to)] {
            if let value, ActivityCommand.parseTime(value) == nil {
                throw ValidationError("\(option) takes an RFC 3339 time, like 2026-11-28T04:31:07Z (got '\(value)')")
            }
        }
        if let confidence = self.confidence, !(confidence > 0.5 && confidence < 1) {
            throw ValidationError("--confidence must be between 0.5 and 1, e.g. 0.95 (got \(confidence))")
        }
    }

    public func run() async throws {
        let model = try ModelReference(self.model)
        try await ManagementSession.run(self.options) { session in
            let response = try await session.send(
                .get,
                model.pathSegments + ["environments", self.env, "experiment"],
                query: [
                    ("from", self.from), ("to", self.to), ("confidence", self.confidence.map { String($0) }),
                ]
            )
            session.print(response.body, human: TrafficFormat.experiment)
        }
    }
}

/// Parses the traffic commands' compact arguments; every error names the option and shows the expected form.
enum TrafficArguments {
    /// `3=90,4=10` → arms.
    static func arms(_ text: String) throws -> [(version: Int, weight: Int)] {
        let expected = "--set takes VERSION=WEIGHT pairs such as 3=90,4=10"
        var arms: [(version: Int, weight: Int)] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pair = part.trimmingCharacters(in: .whitespaces)
            let sides = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard sides.count == 2 else { throw ValidationError("\(expected); got '\(pair)'") }
            guard let version = Int(sides[0].trimmingCharacters(in: .whitespaces)), version >= 1 else {
                throw ValidationError("\(expected); in '\(pair)' the version must be a whole number from 1")
            }
            guard let weight = Int(sides[1].trimmingCharacters(in: .whitespaces)), (0...100).contains(weight) else {
                throw ValidationError("\(expected); in '\(pair)' the weight must be a whole percent from 0 to 100")
            }
            guard !arms.contains(where: { $0.version == version }) else {
                throw ValidationError("--set names version \(version) twice")
            }
            arms.append((version, weight))
        }
        return arms
    }

    /// `5` or `5=50` → a shadow (percent `nil`: the server's default, 100).
    static func shadow(_ text: String) throws -> (version: Int, percent: Int?) {
        let expected = "--shadow takes VERSION or VERSION=PERCENT, e.g. 5 or 5=50"
        let sides = text.trimmingCharacters(in: .whitespaces).split(separator: "=", omittingEmptySubsequences: false)
        guard (1...2).contains(sides.count), let version = Int(sides[0].trimmingCharacters(in: .whitespaces)),
            version >= 1
        else { throw ValidationError("\(expected); got '\(text)'") }
        guard sides.count == 2 else { return (version, nil) }
        guard let percent = Int(sides[1].trimmingCharacters(in: .whitespaces)), (1...100).contains(percent) else {
            throw ValidationError("\(expected); in '\(text)' the percent must be a whole number from 1 to 100")
        }
        return (version, percent)
    }

    /// `5,25,50,100` → steps (their order and range are the server's to judge).
    static func steps(_ text: String) throws -> [Int] {
        guard let steps = RolloutText.steps(text) else {
            throw ValidationError("--steps takes percents such as 5,25,50,100; got '\(text)'")
        }
        return steps
    }

    /// `600`, `90s`, `10m`, `1h`, `1d` → seconds.
    static func interval(_ text: String) throws -> Double {
        guard let seconds = RolloutText.seconds(text), seconds > 0 else {
            throw ValidationError("--interval takes seconds or a duration such as 90s, 10m or 1h; got '\(text)'")
        }
        return seconds
    }
}
