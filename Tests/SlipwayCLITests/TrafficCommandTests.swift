import ArgumentParser
import Foundation
import Testing

@testable import SlipwayCLI
@testable import SlipwayInference

/// `slipway traffic`, `slipway rollout` and `slipway experiment`: arguments, and their answers from a live server.
@Suite struct TrafficCommandTests {
    @Test(arguments: [
        (["traffic", "acme/iris", "--set", "3=abc"], "--set takes VERSION=WEIGHT pairs such as 3=90,4=10"),
        (["traffic", "acme/iris", "--set", "3=90,4"], "got '4'"),
        (["traffic", "acme/iris", "--set", "0=100"], "the version must be a whole number from 1"),
        (["traffic", "acme/iris", "--set", "3=101"], "the weight must be a whole percent from 0 to 100"),
        (["traffic", "acme/iris", "--set", "3=50,3=50"], "--set names version 3 twice"),
        (["traffic", "acme/iris", "--shadow", "five"], "--shadow takes VERSION or VERSION=PERCENT"),
        (["traffic", "acme/iris", "--shadow", "5=0"], "the percent must be a whole number from 1 to 100"),
        (["traffic", "acme/iris", "--sticky-feature", " "], "--sticky-feature takes a feature name"),
        (["traffic", "acme/iris", "--clear", "--set", "3=100"], "--clear cannot be combined"),
        (["traffic", "iris"], "OWNER/NAME"),
        (["rollout", "start", "acme/iris", "--version", "4", "--steps", "5,x,100", "--interval", "10m"], "--steps"),
        (["rollout", "start", "acme/iris", "--version", "4", "--interval", "10y"], "--interval takes seconds"),
        (["rollout", "start", "acme/iris", "--version", "4", "--interval", "0s"], "--interval takes seconds"),
        (["rollout", "start", "acme/iris", "--version", "0", "--interval", "10m"], "--version"),
        (["rollout", "pause", "acme/iris", "--env", "my env"], "environment"),
        (["experiment", "acme/iris", "--from", "yesterday"], "RFC 3339"),
        (["experiment", "acme/iris", "--confidence", "1.5"], "--confidence must be between 0.5 and 1"),
    ])
    func rejectsBadArguments(arguments: [String], expected: String) {
        let message = ManagementParsingTests.validationMessage(arguments)
        #expect(message?.contains(expected) == true, "\(arguments): \(message ?? "no ValidationError")")
    }

    @Test func parsesTheDocumentedForms() throws {
        let set = try ManagementParsingTests.parse(
            [
                "traffic", "acme/iris", "--env", "production", "--set", "3=90, 4=10", "--shadow", "5", "--shadow",
                "6=25", "--sticky-feature", "user_id",
            ],
            as: TrafficCommand.self
        )
        #expect(
            try set.body()
                == JSONValue.parse(
                    #"{"arms": [{"version": 3, "weight": 90}, {"version": 4, "weight": 10}], "#
                        + #""shadows": [{"version": 5}, {"version": 6, "percent": 25}], "sticky_feature": "user_id"}"#
                )
        )
        let show = try ManagementParsingTests.parse(["traffic", "acme/iris"], as: TrafficCommand.self)
        #expect(!show.changes && !show.clear && show.env == "production")
        let start = try ManagementParsingTests.parse(
            [
                "rollout", "start", "acme/iris", "--env", "production", "--version", "4", "--steps", "5,25,50,100",
                "--interval", "10m", "--guardrails", "error_rate<1%,p99_ms<20,key_metric>=baseline-0.01",
            ],
            as: RolloutCommand.Start.self
        )
        #expect(start.version == 4 && start.guardrails == "error_rate<1%,p99_ms<20,key_metric>=baseline-0.01")
        #expect(try TrafficArguments.interval(start.interval) == 600)
        #expect(try TrafficArguments.interval("90s") == 90 && TrafficArguments.interval("1.5h") == 5400)
        #expect(try TrafficArguments.interval("250ms") == 0.25 && TrafficArguments.interval("2d") == 172_800)
        #expect(try TrafficArguments.steps(start.steps) == [5, 25, 50, 100])
        for command in ["status", "pause", "resume", "abort", "list"] {
            let parsed = try SlipwayCommand.parseAsRoot(["rollout", command, "acme/iris", "--env", "staging"])
            #expect("\(type(of: parsed))".lowercased() == command, "\(type(of: parsed))")
        }
        let experiment = try ManagementParsingTests.parse(
            ["experiment", "acme/iris", "--from", "2026-11-28T00:00:00Z", "--confidence", "0.9", "--json"],
            as: ExperimentCommand.self
        )
        #expect(experiment.confidence == 0.9 && experiment.options.json)
    }

    @Test func formatsNumbersDurationsAndReadouts() throws {
        #expect(TrafficFormat.duration(.int(600)) == "10m" && TrafficFormat.duration(.double(90)) == "90s")
        #expect(TrafficFormat.duration(.int(7200)) == "2h" && TrafficFormat.duration(.double(1.5)) == "1.5s")
        #expect(TrafficFormat.percent(.double(0.0123)) == "1.23%" && TrafficFormat.percent(nil) == "-")
        #expect(TrafficFormat.number(.double(0.041_321), digits: 3) == "0.0413")
        let readout = try JSONValue.parse(
            """
            {"environment": "production", "from": "2026-11-28T10:00:00Z", "to": "2026-11-28T11:00:00Z",
             "baseline_version": 3, "key_metric": {"name": "accuracy", "direction": "maximize",
             "tested": "share of rows predicted right"},
             "readout": {"confidence": 0.95, "alpha": 0.05, "power": 0.8, "baseline_version": "3", "arms": [
               {"version": "3", "requests": 4100, "is_baseline": true, "metric": "proportion", "n": 40,
                "estimate": 0.125, "ci_low": 0.0225, "ci_high": 0.2275},
               {"version": "4", "requests": 3900, "is_baseline": false, "metric": "proportion", "n": 38,
                "estimate": 0.3158, "ci_low": 0.168, "ci_high": 0.4636,
                "comparison": {"test": "two_proportion_z", "difference": 0.1908, "ci_low": 0.0109,
                               "ci_high": 0.3706, "statistic": 2.04, "p_value": 0.0413, "significant": true,
                               "mde": 0.262}}]}}
            """
        )
        let text = TrafficFormat.experiment(readout)
        #expect(text.contains("key metric:   accuracy (maximize), tested as the share of rows predicted right"))
        #expect(text.contains("confidence:   95%"))
        let lines = text.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("VERSION") })
        #expect(header.split(separator: " ", omittingEmptySubsequences: true).first == "VERSION")
        #expect(header.contains("P-VALUE") && header.contains("MDE"))
        let candidate = try #require(lines.first { $0.hasPrefix("4 ") })
        for cell in [
            "3900", "38", "0.3158", "[0.168, 0.4636]", "+0.1908", "[0.0109, 0.3706]", "0.0413", "yes", "0.262",
        ] {
            #expect(candidate.contains(cell), "\(cell) in \(candidate)")
        }
        #expect(lines.contains { $0.hasPrefix("3 (baseline)") && $0.contains("[0.0225, 0.2275]") })
    }

    @Test func showsSetsAndClearsTrafficAndRunsARollout() async throws {
        try await TestServer.with { server in
            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            for version in 1...3 {
                #expect(try await ManagementEndToEndTests.deployIris(server, model: "admin/iris") == version)
                try await server.verify("admin/iris", environment: "production", version: version)
            }
            #expect(await server.run(["activate", "admin/iris", "--env", "production", "--version", "1"]).status == 0)

            let shown = await server.run(["traffic", "admin/iris", "--env", "production"])
            #expect(shown.status == 0, "\(shown.stderr)")
            #expect(shown.stdout.contains("active version:  1"), "\(shown.stdout)")
            #expect(shown.stdout.contains("VERSION  WEIGHT  ROLE\n1        100%    active"), "\(shown.stdout)")

            let set = await server.run([
                "traffic", "admin/iris", "--env", "production", "--set", "1=90,2=10", "--shadow", "3=50",
                "--sticky-feature", "user_id",
            ])
            #expect(set.status == 0, "\(set.stderr)")
            #expect(set.stdout.hasPrefix("Set the traffic of admin/iris production."), "\(set.stdout)")
            #expect(set.stdout.contains("1        90%     active\n2        10%     split"), "\(set.stdout)")
            #expect(set.stdout.contains("SHADOW  COPIED\n3       50%"), "\(set.stdout)")
            #expect(set.stdout.contains("sticky feature:  user_id"))
            let json = try ManagementEndToEndTests.json(await server.run(["traffic", "admin/iris", "--json"]))
            #expect(json["arms"]?.items.map { [$0.int("version"), $0.int("weight")] } == [[1, 90], [2, 10]])
            #expect(json["shadows"]?.items.first?.int("percent") == 50)

            let weights = await server.run(["traffic", "admin/iris", "--set", "1=80,2=10"])
            #expect(weights.status == 1 && weights.stdout.isEmpty)
            #expect(weights.stderr.hasPrefix("slipway: error: ") && weights.stderr.contains("100"), "\(weights.stderr)")

            let cleared = await server.run(["traffic", "admin/iris", "--env", "production", "--clear"])
            #expect(cleared.status == 0, "\(cleared.stderr)")
            #expect(cleared.stdout.contains("All traffic of admin/iris production goes to the active version."))
            let after = try ManagementEndToEndTests.json(await server.run(["traffic", "admin/iris", "--json"]))
            #expect(after["arms"]?.items.count == 1 && after["shadows"]?.items.isEmpty == true)

            // A guardrail the server cannot parse is refused with its message; nothing starts.
            let bad = await server.run([
                "rollout", "start", "admin/iris", "--version", "2", "--interval", "1h", "--guardrails", "p99_ms<<20",
            ])
            #expect(bad.status == 1 && bad.stderr.contains("guardrail 1 'p99_ms<<20'"), "\(bad.stderr)")
            let none = await server.run(["rollout", "status", "admin/iris"])
            #expect(none.status == 1 && none.stderr.contains("no rollout was started"), "\(none.stderr)")

            let started = await server.run([
                "rollout", "start", "admin/iris", "--env", "production", "--version", "2", "--steps", "10,50,100",
                "--interval", "1h", "--guardrails", "error_rate < 0.01, p99_ms<20",
            ])
            #expect(started.status == 0, "\(started.stderr)")
            #expect(started.stdout.hasPrefix("Started rolling out admin/iris version 2 in production: 10% now."))
            #expect(started.stdout.contains("guardrails:    error_rate<1%,p99_ms<20"), "\(started.stdout)")

            let status = await server.run(["rollout", "status", "admin/iris", "--env", "production"])
            #expect(status.status == 0, "\(status.stderr)")
            #expect(status.stdout.contains("state:         running"), "\(status.stdout)")
            #expect(status.stdout.contains("step:          1 of 3: 10% to the candidate"))
            #expect(status.stdout.contains("steps:         10,50,100%, every 1h"))
            #expect(status.stdout.contains("waiting for:   the candidate has 0 of the"))
            #expect(status.stdout.contains("candidate  2        0         0"), "\(status.stdout)")
            #expect(status.stdout.contains("error_rate<1%  undetermined  -         -      the candidate has 0"))
            let evaluated = try ManagementEndToEndTests.json(
                await server.run(["rollout", "status", "admin/iris", "--json"])
            )
            #expect(
                evaluated["evaluation"]?["guardrails"]?.items.map { $0.string("verdict") } == [
                    "undetermined", "undetermined",
                ]
            )

            let controlled = await server.run(["traffic", "admin/iris"])
            #expect(
                controlled.stdout.contains("A rollout controls this split: version 2 at 10% (step 1 of 3), running.")
            )
            let blocked = await server.run(["traffic", "admin/iris", "--set", "1=50,2=50"])
            #expect(blocked.status == 1 && blocked.stderr.contains("rollout"), "\(blocked.stderr)")

            let paused = await server.run(["rollout", "pause", "admin/iris"])
            #expect(
                paused.status == 0
                    && paused.stdout.hasPrefix("Paused the rollout of admin/iris version 2 in production.")
            )
            #expect(paused.stdout.contains("reason:        paused by admin"), "\(paused.stdout)")
            let twice = await server.run(["rollout", "pause", "admin/iris"])
            #expect(twice.status == 1 && twice.stderr == "slipway: error: the rollout is already paused\n")
            #expect(await server.run(["rollout", "resume", "admin/iris"]).stdout.hasPrefix("Resumed the rollout"))
            let aborted = await server.run(["rollout", "abort", "admin/iris", "--json"])
            #expect(try ManagementEndToEndTests.json(aborted).string("state") == "aborted")

            let list = await server.run(["rollout", "list", "admin/iris", "--env", "production"])
            #expect(list.status == 0)
            let rows = list.stdout.split(separator: "\n")
            #expect(rows.first?.hasPrefix("STARTED") == true)
            #expect(
                rows.count == 2 && rows[1].contains("  2        1     1/3   0%      aborted  aborted by admin"),
                "\(list.stdout)"
            )
            let last = await server.run(["rollout", "status", "admin/iris"])
            #expect(last.stdout.contains("state:         aborted") && !last.stdout.contains("GUARDRAIL"))
        }
    }

    @Test func printsTheExperimentReadout() async throws {
        try await TestServer.with { server in
            #expect(await server.run(["models", "create", "admin/iris"]).status == 0)
            for version in 1...2 {
                _ = try await ManagementEndToEndTests.deployIris(server, model: "admin/iris")
                try await server.verify("admin/iris", environment: "production", version: version)
            }
            #expect(await server.run(["activate", "admin/iris", "--env", "production", "--version", "1"]).status == 0)
            let alone = await server.run(["experiment", "admin/iris"])
            #expect(alone.status == 0, "\(alone.stderr)")
            #expect(alone.stdout.contains("all traffic goes to version 1; split it or start a rollout"))

            #expect(await server.run(["traffic", "admin/iris", "--set", "1=50,2=50"]).status == 0)
            let readout = await server.run(["experiment", "admin/iris", "--env", "production"])
            #expect(readout.status == 0, "\(readout.stderr)")
            #expect(readout.stdout.contains("baseline:     version 1"), "\(readout.stdout)")
            #expect(readout.stdout.contains("key metric:   none set"))
            #expect(readout.stdout.contains("Error rate\nVERSION"), "\(readout.stdout)")
            #expect(readout.stdout.contains("1 (baseline)  0"))
            let json = try ManagementEndToEndTests.json(
                await server.run(["experiment", "admin/iris", "--confidence", "0.9", "--json"])
            )
            #expect(json["error_rate"]?["arms"]?.items.compactMap { $0.string("version") } == ["1", "2"])
            if case .double(let confidence)? = json["error_rate"]?["confidence"] {
                #expect(abs(confidence - 0.9) < 1e-12)
            } else {
                Issue.record("no confidence in \(json)")
            }
            let window = await server.run([
                "experiment", "admin/iris", "--from", "2026-11-28T12:00:00Z", "--to", "2026-11-28T11:00:00Z",
            ])
            #expect(window.status == 1 && window.stderr.contains("to must be after from"), "\(window.stderr)")
        }
    }
}
