import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SlipwayRegistry
import Testing

@testable import SlipwayConsole

/// The console's traffic page: the split, the live rollout with its guardrails and controls, the start form, the
/// history and the experiment readout.
@Suite("Web console: traffic")
struct ConsoleTrafficTests {
    static let environment = "/models/acme/iris/environments/production"
    static let page = "\(Self.environment)/traffic"

    /// `acme/iris` with versions 1 (active), 2 and 3 verified in production, and the viewer `vera`.
    static func world(_ api: TestAPI) async throws -> Credential {
        try await api.createOrganization("acme", as: api.admin)
        try await api.createModel("acme/iris")
        for _ in 1...3 { try await api.deployVerified("acme/iris", "production") }
        try await api.activate("acme/iris", "production", 1)
        let viewer = try await api.createUser("vera")
        try await api.setMember("vera", role: "viewer", in: "acme")
        return viewer
    }

    /// The state of the environment's latest rollout, through the API.
    static func rolloutState(_ api: TestAPI) async throws -> String? {
        let reply = try await api.get(
            "/api/v1/models/acme/iris/environments/production/rollouts/current",
            as: api.admin
        )
        return reply.status == .ok ? reply.json["state"]?.string : nil
    }

    /// The rows of the table with `id` on a page, as plain text cells.
    static func rows(of id: String, in page: String) -> [[String]] {
        guard let start = page.range(of: "id=\"\(id)\""), let end = page[start.upperBound...].range(of: "</table>")
        else { return [] }
        let table = page[start.upperBound..<end.lowerBound]
        return table.components(separatedBy: "<tr>").dropFirst(2).map { row in
            row.components(separatedBy: "<td>").dropFirst().map { cell in
                cell.replacing(/<[^>]*>/, with: "").trimmingCharacters(in: .whitespacesAndNewlines)
            }
        }
    }

    @Test("the page shows a split, then a rollout started from its form with its guardrails, history and readout")
    func rendersSplitAndLiveRollout() async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let split = try await api.put(
                "/api/v1/models/acme/iris/environments/production/traffic",
                as: api.admin,
                json:
                    #"{"arms": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}], "sticky_feature": "user_id"}"#
            )
            try #require(split.status == .ok, "\(split)")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)

            let overview = try await browser.send(.get, "/models/acme/iris")
            #expect(overview.text.contains("href=\"\(Self.environment)/traffic\""), "linked from the model page")
            let environment = try await browser.send(.get, Self.environment)
            #expect(environment.text.contains("href=\"\(Self.page)\""), "linked from the environment page")

            let page = try await browser.send(.get, Self.page)
            #expect(page.status == .ok, "\(page)")
            let text = page.text
            #expect(text.contains("<h1>Traffic of acme/iris · production</h1>"))
            #expect(text.contains("<td>90%</td><td><span class=\"badge ok\">active</span>"), "\(text)")
            #expect(text.contains("/deployments/2\">2</a></td><td>10%</td><td>split</td>"))
            #expect(text.contains("<code>user_id</code>"))
            #expect(text.contains("No rollout is running in production."))
            #expect(text.contains("No rollout yet."))
            // The readout compares the split's arms; no requests yet, so the error rate has no estimate.
            let errorRows = Self.rows(of: "readout-error-rate", in: text)
            #expect(errorRows.map { $0.first } == ["1 baseline", "2"], "\(errorRows)")
            #expect(errorRows.allSatisfy { $0.count == 9 && $0[1] == "0" })
            #expect(text.contains("<li>Version 2 has 0 samples, at least 2 needed.</li>"), "\(text)")
            // Only versions that are verified and not active can be rolled out.
            #expect(text.contains("<option value=\"2\">version 2: iris forest</option>"))
            #expect(!text.contains("<option value=\"1\">"))

            let csrf = try #require(ConsoleBrowser.csrf(in: text))
            let started = try await browser.send(
                .post,
                "\(Self.page)/rollouts",
                form: [
                    ("csrf", csrf), ("version", "3"), ("steps", "10, 50, 100"), ("interval", "1h"),
                    ("guardrails", "error_rate < 1%, p99_ms<20"),
                ]
            )
            #expect(started.status == .seeOther, "\(started)")
            #expect(started.headers[.location] == Self.page)
            #expect(try await Self.rolloutState(api) == "running")

            let live = try await browser.send(.get, Self.page).text
            #expect(live.contains("Started rolling out version 3: it gets 10% of production now."))
            #expect(live.contains("<dd>version 3 (from version 1)</dd>"))
            #expect(live.contains("<span class=\"badge ok\">running</span>"))
            #expect(live.contains("<strong>10%</strong> to the candidate"))
            #expect(live.contains("10% → 50% → 100%, every 1 h"))
            #expect(live.contains("50% at "), "the next step and when")
            #expect(live.contains("<code>error_rate&lt;1%,p99_ms&lt;20</code>"), "canonical and escaped")
            #expect(live.contains("<span class=\"badge pending\">undetermined</span>"), "no requests yet")
            #expect(live.contains("the candidate has 0 of the"))
            #expect(live.contains("<td>candidate</td><td>3</td><td>0</td>"))
            #expect(live.contains("href=\"\(Self.page)/pause\">Pause the rollout</a>"))
            #expect(live.contains("href=\"\(Self.page)/abort\">Abort the rollout</a>"))
            #expect(!live.contains("Start a rollout"), "one live rollout at a time")
            // The rollout's split replaced the manual one: the candidate takes its step's share.
            #expect(live.contains("<td>90%</td>") && live.contains("/deployments/3\">3</a></td><td>10%</td>"))
            #expect(live.contains("<span class=\"badge ok\">running</span></td><td></td><td></td></tr>"), "history")
        }
    }

    @Test("pausing needs the confirmation step and the CSRF token; a form without it changes nothing")
    func pauseResumeAbort() async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let start = try await api.post(
                "/api/v1/models/acme/iris/environments/production/rollouts",
                as: api.admin,
                json: #"{"version": 2, "steps": "20,100", "interval": "10m"}"#
            )
            try #require(start.status == .created, "\(start)")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)

            let missing = try await browser.send(.post, "\(Self.page)/pause", form: [])
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("security token (CSRF)"))
            let forged = try await browser.send(.post, "\(Self.page)/abort", form: [("csrf", "not-the-token")])
            #expect(forged.status == .forbidden)
            #expect(try await Self.rolloutState(api) == "running")

            let confirm = try await browser.send(.get, "\(Self.page)/pause")
            #expect(confirm.status == .ok)
            #expect(confirm.text.contains("Pause the rollout of version 2 in production?"))
            #expect(confirm.text.contains("action=\"\(Self.page)/pause\""))
            let csrf = try #require(ConsoleBrowser.csrf(in: confirm.text))
            let paused = try await browser.send(.post, "\(Self.page)/pause", form: [("csrf", csrf)])
            #expect(paused.status == .seeOther, "\(paused)")
            #expect(try await Self.rolloutState(api) == "paused")
            let page = try await browser.send(.get, Self.page).text
            #expect(page.contains("Paused the rollout of version 2 at 20%."))
            #expect(page.contains("paused by admin"))
            #expect(page.contains("href=\"\(Self.page)/resume\">Resume the rollout</a>"))
            #expect(!page.contains("/pause\">"))

            let again = try await browser.send(.post, "\(Self.page)/pause", form: [("csrf", csrf)])
            #expect(again.status == .conflict)
            #expect(again.text.contains("already paused") && again.text.contains("Nothing was changed."))

            #expect(try await browser.send(.post, "\(Self.page)/resume", form: [("csrf", csrf)]).status == .seeOther)
            #expect(try await Self.rolloutState(api) == "running")
            let abort = try await browser.send(.get, "\(Self.page)/abort")
            #expect(abort.text.contains("All traffic goes back to version 1 at once."))
            #expect(try await browser.send(.post, "\(Self.page)/abort", form: [("csrf", csrf)]).status == .seeOther)
            #expect(try await Self.rolloutState(api) == "aborted")
            let after = try await browser.send(.get, Self.page).text
            #expect(after.contains("Aborted the rollout of version 2: all traffic goes to version 1."))
            #expect(after.contains("No rollout is running in production."))
            #expect(after.contains("<span class=\"badge pending\">aborted</span></td><td>aborted by admin</td>"))
            #expect(after.contains("<td>100%</td><td><span class=\"badge ok\">active</span>"))
            // The readout now reads the aborted rollout's arms.
            #expect(Self.rows(of: "readout-error-rate", in: after).map { $0.first } == ["1 baseline", "2"])

            let gone = try await browser.send(.get, "\(Self.page)/resume")
            #expect(gone.status == .notFound)
            #expect(gone.text.contains("No rollout is running or paused in &#39;production&#39;."))
        }
    }

    @Test("a viewer sees the page without controls and cannot pause or start a rollout; text is escaped")
    func viewerCannotPause() async throws {
        try await withServer { api in
            let viewer = try await Self.world(api)
            let sticky = try await api.put(
                "/api/v1/models/acme/iris/environments/production/traffic",
                as: api.admin,
                json: #"{"arms": [], "sticky_feature": "<script>alert('x')</script>"}"#
            )
            try #require(sticky.status == .ok, "\(sticky)")
            let start = try await api.post(
                "/api/v1/models/acme/iris/environments/production/rollouts",
                as: api.admin,
                json: #"{"version": 2, "steps": [20, 100], "interval": 600}"#
            )
            try #require(start.status == .created, "\(start)")
            let (visitor, _) = try await ConsoleBrowser.signIn(api, token: viewer.secret)
            let page = try await visitor.send(.get, Self.page)
            #expect(page.status == .ok)
            #expect(page.text.contains("<dd>version 2 (from version 1)</dd>"))
            #expect(!page.text.contains("Pause the rollout"), "a viewer sees no controls")
            #expect(!page.text.contains("Start a rollout"))
            #expect(page.text.contains("<code>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</code>"), "\(page.text)")
            #expect(!page.text.contains("<script>alert"))

            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            let pause = try await visitor.send(.post, "\(Self.page)/pause", form: [("csrf", csrf)])
            #expect(pause.status == .forbidden)
            #expect(pause.text.contains("Not allowed"))
            #expect(try await Self.rolloutState(api) == "running")
            let abort = try await visitor.send(.post, "\(Self.page)/abort", form: [("csrf", csrf)])
            #expect(abort.status == .forbidden)
            let startForm = try await visitor.send(
                .post,
                "\(Self.page)/rollouts",
                form: [("csrf", csrf), ("version", "3"), ("interval", "10m")]
            )
            #expect(startForm.status == .forbidden)
            #expect(try await Self.rolloutState(api) == "running")
        }
    }

    @Test("the readout compares the arms' key metric from feedback: estimate, interval, difference, p-value, MDE")
    func readoutWithFeedback() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let candidate = try await api.ship(
                "admin/iris",
                file: try irisExampleModel(),
                schema: try irisExample("schema.json"),
                samples: try irisExample("samples.json"),
                classes: try irisExample("classes.json"),
                activate: false
            )
            let split = try await api.put(
                "/api/v1/models/admin/iris/environments/production/traffic",
                as: api.admin,
                json: #"{"arms": [{"version": 1, "weight": 50}, {"version": \#(candidate), "weight": 50}]}"#
            )
            try #require(split.status == .ok, "\(split)")
            let metric = try await api.put(
                "/api/v1/models/admin/iris/key-metric",
                as: api.admin,
                json: #"{"name": "accuracy"}"#
            )
            try #require(metric.status == .ok, "\(metric)")
            let key = Credential.servingKey(
                try await api.createKey("serving", in: "admin/iris", environments: ["production"]).secret
            )
            // Each caller keeps its arm; the baseline is right 3 times in 4, the candidate every other time.
            var counts: [Int: (n: Int, right: Int)] = [:]
            for caller in 0..<48 {
                let reply = try await api.predict(
                    "/v1/admin/iris/predict/",
                    as: key,
                    json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
                    headers: [HTTPField.Name("X-Slipway-Route-Key")!: "caller-\(caller)"]
                )
                try #require(reply.status == .ok, "\(reply)")
                let version = try #require(reply.json["version"]?.int)
                let id = try #require(reply.json["request_id"]?.string)
                let seen = counts[version, default: (0, 0)]
                let right = version == 1 ? seen.n % 4 != 0 : seen.n % 2 == 0
                counts[version] = (seen.n + 1, seen.right + (right ? 1 : 0))
                let label = right ? "setosa" : "virginica"
                let feedback = try await api.postFeedback(#"{"request_id": "\#(id)", "label": "\#(label)"}"#, key: key)
                try #require(feedback.status == .ok, "\(feedback)")
            }
            let baseline = try #require(counts[1])
            let other = try #require(counts[candidate])
            try #require(baseline.n >= 2 && other.n >= 2, "both arms need samples: \(counts)")

            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let page = try await browser.send(.get, "/models/admin/iris/environments/production/traffic")
            #expect(page.status == .ok, "\(page)")
            #expect(page.text.contains("key metric accuracy (maximize), tested as the share of rows predicted right"))
            let rows = Self.rows(of: "readout-key-metric", in: page.text)
            try #require(rows.count == 2 && rows.allSatisfy { $0.count == 10 }, "\(rows)")
            let rate = { (arm: (n: Int, right: Int)) in Console.number(Double(arm.right) / Double(arm.n)) }
            #expect(rows[0][0] == "1 baseline" && rows[0][1] == "\(baseline.n)" && rows[0][2] == "\(baseline.n)")
            #expect(rows[0][3] == rate(baseline) && rows[0][4].contains(" to ") && rows[0][5].isEmpty)
            #expect(rows[1][0] == "\(candidate)" && rows[1][1] == "\(other.n)" && rows[1][3] == rate(other))
            let difference = Double(other.right) / Double(other.n) - Double(baseline.right) / Double(baseline.n)
            #expect(rows[1][5] == (difference > 0 ? "+" : "") + Console.number(difference), "\(rows[1])")
            #expect(rows[1][6].contains(" to "))
            let pValue = try #require(Double(rows[1][7]), "\(rows[1])")
            #expect(pValue > 0 && pValue <= 1)
            #expect(rows[1][8] == (pValue < 0.05 ? "yes" : "no"))
            #expect((Double(rows[1][9]) ?? 0) > 0, "the MDE")
            let errors = Self.rows(of: "readout-error-rate", in: page.text)
            #expect(errors.map { $0[2] } == ["0%", "0%"], "\(errors)")
            #expect(page.text.contains("the rate is 0 in both arms"), "\(page.text)")
            #expect(!page.text.contains("readout-key-metric-notes"), "every key metric number was computed")
        }
    }

    @Test(
        "a bad start form names the field and starts nothing",
        arguments: [
            ([("version", "2"), ("interval", "10y")], "Interval must be seconds or a duration"),
            ([("version", "2"), ("interval", "10m"), ("steps", "5,x,100")], "Steps must be percents"),
            (
                [("version", "2"), ("interval", "10m"), ("guardrails", "p99_ms<<20")],
                "Guardrail 1 &#39;p99_ms&lt;&lt;20&#39;"
            ),
            ([("version", "two"), ("interval", "10m")], "Version must be a whole number"),
            ([("version", "1"), ("interval", "10m")], "already active"),
            ([("version", "9"), ("interval", "10m")], "has no version 9"),
            ([("version", "2"), ("interval", "10m"), ("steps", "50,25,100")], "Steps must increase"),
        ]
    )
    func refusesBadStartForms(fields: [(String, String)], message: String) async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let csrf = try await browser.csrf(from: Self.page)
            let reply = try await browser.send(.post, "\(Self.page)/rollouts", form: [("csrf", csrf)] + fields)
            #expect(reply.status == .badRequest, "\(reply)")
            #expect(reply.text.contains(message), "\(reply.text)")
            #expect(reply.text.contains("Nothing was changed."))
            #expect(try await Self.rolloutState(api) == nil)
        }
    }
}
