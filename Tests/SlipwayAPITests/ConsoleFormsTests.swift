import Foundation
import HTTPTypes
import SlipwayRegistry
import Testing

@testable import SlipwayConsole

// The console's forms for alert rules (monitoring page) and the traffic split (traffic page): each goes through the
// same code as the API, needs the session's CSRF token and the API's rights, and a refused or invalid form names
// the field and changes nothing.
@Suite("Web console: alert rule and traffic split forms", .timeLimit(.minutes(3)))
struct ConsoleFormsTests {
    static let monitoring = "/models/acme/iris/monitoring"
    static let traffic = "/models/acme/iris/environments/production/traffic"
    static let trafficAPI = "/api/v1/models/acme/iris/environments/production/traffic"

    /// `acme/iris` with versions 1 (active), 2 and 3 verified in production (and the default `staging`), the viewer
    /// `vera` and the maintainer `mike`.
    static func world(_ api: TestAPI) async throws -> (viewer: Credential, maintainer: Credential) {
        try await api.createOrganization("acme", as: api.admin)
        try await api.createModel("acme/iris")
        for _ in 1...3 { try await api.deployVerified("acme/iris", "production") }
        try await api.activate("acme/iris", "production", 1)
        let viewer = try await api.createUser("vera")
        try await api.setMember("vera", role: "viewer", in: "acme")
        let maintainer = try await api.createUser("mike")
        try await api.setMember("mike", role: "maintainer", in: "acme")
        return (viewer, maintainer)
    }

    /// The names of the model's alert rules, through the API.
    static func alertNames(_ api: TestAPI) async throws -> [String] {
        let reply = try await api.get("/api/v1/models/acme/iris/alerts", as: api.admin)
        try #require(reply.status == .ok, "\(reply)")
        return (reply.json.array ?? []).compactMap { $0["name"]?.string }
    }

    /// The environment's split as `version:weight` and shadows as `version:percent`, through the API.
    static func split(_ api: TestAPI) async throws -> String {
        let reply = try await api.get(Self.trafficAPI, as: api.admin)
        try #require(reply.status == .ok, "\(reply)")
        let arms = (reply.json["arms"]?.array ?? []).map { "\($0["version"]?.int ?? 0):\($0["weight"]?.int ?? 0)" }
        let shadows = (reply.json["shadows"]?.array ?? []).map {
            "\($0["version"]?.int ?? 0):\($0["percent"]?.int ?? 0)"
        }
        let sticky = reply.json["sticky_feature"]?.string ?? ""
        return arms.joined(separator: ",") + " shadows " + shadows.joined(separator: ",") + " sticky " + sticky
    }

    static let unsplit = "1:100 shadows  sticky "

    static let goodRule: [(String, String)] = [
        ("name", "slow"), ("metric", "p99_ms"), ("op", ">"), ("threshold", "20"), ("window", "5m"),
        ("environment", "production"),
    ]

    // MARK: Alert rules

    @Test("an owner adds a rule from the monitoring page, sees it listed, and deletes it through the confirmation step")
    func createsAndDeletesAlertRule() async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let page = try await browser.send(.get, Self.monitoring)
            #expect(page.status == .ok, "\(page)")
            #expect(page.text.contains(#"id="alert-form""#))
            #expect(page.text.contains(#"<option value="p99_ms">p99_ms</option>"#))
            #expect(page.text.contains(#"<option value="&gt;=">&gt;=</option>"#), "ops escaped")
            #expect(page.text.contains(#"<option value="production" selected>production</option>"#))
            #expect(page.text.contains(#"<option value="staging">staging</option>"#))

            let missing = try await browser.send(.post, "\(Self.monitoring)/alerts", form: Self.goodRule)
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("security token (CSRF)"))
            let forged = try await browser.send(
                .post,
                "\(Self.monitoring)/alerts",
                form: [("csrf", "forged")] + Self.goodRule
            )
            #expect(forged.status == .forbidden)
            #expect(try await Self.alertNames(api).isEmpty)

            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            let created = try await browser.send(
                .post,
                "\(Self.monitoring)/alerts",
                form: [("csrf", csrf)] + Self.goodRule
            )
            #expect(created.status == .seeOther, "\(created)")
            #expect(created.headers[.location] == "\(Self.monitoring)?environment=production")
            #expect(try await Self.alertNames(api) == ["slow"])
            let listed = try await browser.send(.get, Self.monitoring).text
            #expect(listed.contains("Added the alert rule slow: p99_ms &gt; 20 over 5m in production."))
            #expect(listed.contains("<td>slow</td><td><code>p99_ms &gt; 20 over 5m in production</code></td>"))
            #expect(listed.contains(#"href="\#(Self.monitoring)/alerts/slow/delete""#))
            let activity = try await api.get("/api/v1/models/acme/iris/activity", as: api.admin)
            #expect(activity.text.contains("slow: p99_ms > 20 over 5m in production"), "\(activity)")

            // A second rule of the same name is refused and the first stays as it was.
            let twice = try await browser.send(
                .post,
                "\(Self.monitoring)/alerts",
                form: [("csrf", csrf)] + Self.goodRule.map { $0.0 == "threshold" ? ($0.0, "50") : $0 }
            )
            #expect(twice.status == .conflict, "\(twice)")
            #expect(twice.text.contains("already exists") && twice.text.contains("Nothing was changed."))
            let rules = try await api.get("/api/v1/models/acme/iris/alerts", as: api.admin)
            #expect(rules.json.array?.first?["threshold"]?.int == 20)

            let confirm = try await browser.send(.get, "\(Self.monitoring)/alerts/slow/delete")
            #expect(confirm.status == .ok, "\(confirm)")
            #expect(confirm.text.contains("Delete the alert rule slow?"))
            #expect(confirm.text.contains("It stops watching p99_ms &gt; 20 over 5m in production"))
            #expect(confirm.text.contains(#"action="\#(Self.monitoring)/alerts/slow/delete""#))
            let unconfirmed = try await browser.send(.post, "\(Self.monitoring)/alerts/slow/delete", form: [])
            #expect(unconfirmed.status == .forbidden)
            #expect(try await Self.alertNames(api) == ["slow"])
            let deleted = try await browser.send(
                .post,
                "\(Self.monitoring)/alerts/slow/delete",
                form: [("csrf", csrf)]
            )
            #expect(deleted.status == .seeOther, "\(deleted)")
            #expect(try await Self.alertNames(api).isEmpty)
            let after = try await browser.send(.get, Self.monitoring).text
            #expect(after.contains("Deleted the alert rule slow."))
            #expect(after.contains("No alert rules."))
            let again = try await browser.send(.post, "\(Self.monitoring)/alerts/slow/delete", form: [("csrf", csrf)])
            #expect(again.status == .notFound)
            #expect(again.text.contains("has no alert rule named &#39;slow&#39;"), "\(again.text)")
            let gone = try await browser.send(.get, "\(Self.monitoring)/alerts/slow/delete")
            #expect(gone.status == .notFound)
        }
    }

    @Test(
        "a bad alert rule form names the field and stores nothing",
        arguments: [
            ("threshold", "abc", "Threshold must be a number, got &#39;abc&#39;"),
            ("threshold", "", "Threshold is required"),
            ("metric", "cpu", "Metric must be one of error_rate, p99_ms, drift, key_metric, got &#39;cpu&#39;"),
            ("op", "=", "Op must be one of &gt;, &gt;=, &lt;, &lt;=, got &#39;=&#39;"),
            ("window", "10y", "Window must end in a unit s, m, h or d"),
            ("window", "30s", "Window must be from 1m to 7d, got &#39;30s&#39;"),
            ("name", "Slow P99", "Name &#39;Slow P99&#39; must be lowercase letters, digits and dashes"),
            ("name", "", "Name is required"),
            ("environment", "nowhere", "Environment &#39;nowhere&#39; does not exist in acme/iris"),
            ("environment", "<b>x", "Environment &#39;&lt;b&gt;x&#39; is not a valid environment name"),
        ]
    )
    func refusesBadAlertForms(field: String, value: String, message: String) async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let csrf = try await browser.csrf(from: Self.monitoring)
            let form = Self.goodRule.map { $0.0 == field ? (field, value) : $0 }
            let reply = try await browser.send(.post, "\(Self.monitoring)/alerts", form: [("csrf", csrf)] + form)
            #expect(reply.status == .badRequest, "\(reply)")
            #expect(reply.text.contains("Check the input"))
            #expect(reply.text.contains(message), "\(reply.text)")
            #expect(reply.text.contains("Nothing was changed."))
            #expect(!reply.text.contains("<b>x"))
            #expect(try await Self.alertNames(api).isEmpty)
        }
    }

    @Test("an error_rate threshold above 1 is refused as the API refuses it")
    func refusesErrorRateAboveOne() async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let csrf = try await browser.csrf(from: Self.monitoring)
            let form = Self.goodRule.map {
                $0.0 == "metric" ? ("metric", "error_rate") : $0.0 == "threshold" ? ("threshold", "5") : $0
            }
            let reply = try await browser.send(.post, "\(Self.monitoring)/alerts", form: [("csrf", csrf)] + form)
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains("An error_rate threshold is a share from 0 to 1, got 5.0"), "\(reply.text)")
            #expect(try await Self.alertNames(api).isEmpty)
        }
    }

    @Test("viewers and maintainers see the rules but no forms, and cannot add or delete one")
    func readersCannotChangeAlertRules() async throws {
        try await withServer { api in
            let (viewer, maintainer) = try await Self.world(api)
            let rule = try await api.post(
                "/api/v1/models/acme/iris/alerts",
                as: api.admin,
                json: #"{"name": "errors", "rule": "error_rate > 0.05 over 10m"}"#
            )
            try #require(rule.status == .created, "\(rule)")
            for credential in [viewer, maintainer] {
                let (browser, _) = try await ConsoleBrowser.signIn(api, token: credential.secret)
                let page = try await browser.send(.get, Self.monitoring)
                #expect(page.status == .ok, "\(page)")
                #expect(page.text.contains("<td>errors</td>"))
                #expect(!page.text.contains("alert-form"))
                #expect(!page.text.contains("/delete"))
                let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
                let create = try await browser.send(
                    .post,
                    "\(Self.monitoring)/alerts",
                    form: [("csrf", csrf)] + Self.goodRule
                )
                #expect(create.status == .forbidden, "\(create)")
                #expect(create.text.contains("Not allowed") && create.text.contains("Nothing was changed."))
                // Refused before the form is read: bad input from a reader is still a refusal.
                let bad = try await browser.send(
                    .post,
                    "\(Self.monitoring)/alerts",
                    form: [("csrf", csrf), ("threshold", "abc")]
                )
                #expect(bad.status == .forbidden)
                let confirm = try await browser.send(.get, "\(Self.monitoring)/alerts/errors/delete")
                #expect(confirm.status == .forbidden)
                let delete = try await browser.send(
                    .post,
                    "\(Self.monitoring)/alerts/errors/delete",
                    form: [("csrf", csrf)]
                )
                #expect(delete.status == .forbidden)
            }
            #expect(try await Self.alertNames(api) == ["errors"])
        }
    }

    // MARK: Traffic split

    @Test("a maintainer sets a 90/10 split with a shadow through the confirmation step, then clears it")
    func setsAndClearsSplit() async throws {
        try await withServer { api in
            let (_, maintainer) = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: maintainer.secret)
            let page = try await browser.send(.get, Self.traffic)
            #expect(page.status == .ok, "\(page)")
            #expect(page.text.contains(#"id="split-form""#))
            #expect(page.text.contains(#"name="weight-1" value="100""#), "the active version's weight")
            #expect(page.text.contains(#"name="weight-2" value="""#) && page.text.contains(#"name="shadow-3""#))
            #expect(!page.text.contains(#"name="shadow-1""#), "the active version cannot shadow itself")
            #expect(!page.text.contains("Clear the split"), "nothing to clear yet")
            let split: [(String, String)] = [
                ("weight-1", "90"), ("weight-2", "10"), ("weight-3", ""), ("shadow-2", ""), ("shadow-3", "5"),
                ("sticky_feature", ""),
            ]

            let missing = try await browser.send(.post, "\(Self.traffic)/split", form: split + [("confirmed", "yes")])
            #expect(missing.status == .forbidden)
            #expect(missing.text.contains("security token (CSRF)"))
            #expect(try await Self.split(api) == Self.unsplit)

            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            let confirm = try await browser.send(.post, "\(Self.traffic)/split", form: [("csrf", csrf)] + split)
            #expect(confirm.status == .ok, "\(confirm)")
            #expect(confirm.text.contains("Set the traffic split of production?"))
            #expect(
                confirm.text.contains("go to version 1 90%, version 2 10%; copies to version 3 (5%)."),
                "\(confirm.text)"
            )
            #expect(confirm.text.contains(#"<input type="hidden" name="weight-2" value="10">"#))
            #expect(confirm.text.contains(#"<input type="hidden" name="confirmed" value="yes">"#))
            #expect(try await Self.split(api) == Self.unsplit, "nothing changes before the confirmation")

            let hidden = Self.hiddenFields(in: confirm.text)
            let set = try await browser.send(.post, "\(Self.traffic)/split", form: hidden)
            #expect(set.status == .seeOther, "\(set)")
            #expect(set.headers[.location] == Self.traffic)
            #expect(try await Self.split(api) == "1:90,2:10 shadows 3:5 sticky ")
            let after = try await browser.send(.get, Self.traffic).text
            #expect(
                after.contains("Set the split of production: version 1 90%, version 2 10%; copies to version 3 (5%).")
            )
            #expect(after.contains("<td>90%</td><td><span class=\"badge ok\">active</span>"))
            #expect(after.contains("/deployments/2\">2</a></td><td>10%</td><td>split</td>"))
            #expect(after.contains(#"name="weight-2" value="10""#), "the form shows the split now in force")
            #expect(after.contains(#"href="\#(Self.traffic)/clear">Clear the split</a>"#))
            let activity = try await api.get("/api/v1/models/acme/iris/activity", as: api.admin)
            #expect(activity.text.contains("v1 90%, v2 10%; shadow v3 5%"), "\(activity)")

            let clearPage = try await browser.send(.get, "\(Self.traffic)/clear")
            #expect(clearPage.status == .ok)
            #expect(clearPage.text.contains("All predictions in production go to the active version 1"))
            let unconfirmed = try await browser.send(.post, "\(Self.traffic)/clear", form: [])
            #expect(unconfirmed.status == .forbidden)
            #expect(try await Self.split(api) == "1:90,2:10 shadows 3:5 sticky ")
            let cleared = try await browser.send(.post, "\(Self.traffic)/clear", form: [("csrf", csrf)])
            #expect(cleared.status == .seeOther, "\(cleared)")
            #expect(try await Self.split(api) == Self.unsplit)
            #expect(
                try await browser.send(.get, Self.traffic).text.contains(
                    "Cleared the split of production: all predictions go to version 1."
                )
            )
        }
    }

    @Test("while a rollout sets the split the page says so and a split form is refused as a conflict")
    func splitDuringRollout() async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let start = try await api.post(
                "/api/v1/models/acme/iris/environments/production/rollouts",
                as: api.admin,
                json: #"{"version": 2, "steps": [20, 100], "interval": 600}"#
            )
            try #require(start.status == .created, "\(start)")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let page = try await browser.send(.get, Self.traffic)
            #expect(page.text.contains("The rollout of version 2 sets the split while it runs or is paused"))
            #expect(!page.text.contains("split-form"))
            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            let reply = try await browser.send(
                .post,
                "\(Self.traffic)/split",
                form: [("csrf", csrf), ("weight-1", "50"), ("weight-3", "50"), ("confirmed", "yes")]
            )
            #expect(reply.status == .conflict, "\(reply)")
            #expect(reply.text.contains("Nothing was changed."))
            #expect(try await Self.split(api) == "1:80,2:20 shadows  sticky ")
        }
    }

    @Test(
        "a bad split form names the version and field, at the review and at the confirmed step, and changes nothing",
        arguments: [
            ([("weight-1", "90"), ("weight-2", "5")], "The arms&#39; weights must sum to 100, got 95"),
            (
                [("weight-1", "90"), ("weight-2", "ten")],
                "The weight of version 2 must be a whole number, got &#39;ten&#39;"
            ),
            ([("weight-1", "90"), ("weight-9", "10")], "The weight of version 9: acme/iris has no version 9"),
            (
                [("weight-1", "50"), ("weight-2", "150")],
                "The weight of version 2: weight must be an integer from 0 to 100, got 150"
            ),
            (
                [("weight-1", "100"), ("shadow-2", "0")],
                "The shadow percent of version 2: percent must be an integer from 1 to 100, got 0"
            ),
            (
                [("weight-1", "90"), ("weight-2", "10"), ("shadow-2", "10")],
                "The shadow percent of version 2: version 2 is already an arm or a shadow"
            ),
            ([("weight-1", "0"), ("weight-2", "100")], "The active version 1 needs a weight above 0"),
            ([("weight-2", "100")], "The active version 1 must be one of the arms"),
            ([("weight-x", "100")], "&#39;weight-x&#39; is not a field of this form"),
        ]
    )
    func refusesBadSplitForms(fields: [(String, String)], message: String) async throws {
        try await withServer { api in
            _ = try await Self.world(api)
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let csrf = try await browser.csrf(from: Self.traffic)
            for confirmed in [false, true] {
                let form = [("csrf", csrf)] + fields + (confirmed ? [("confirmed", "yes")] : [])
                let reply = try await browser.send(.post, "\(Self.traffic)/split", form: form)
                #expect(reply.status == .badRequest, "\(confirmed) \(reply)")
                #expect(reply.text.contains(message), "\(confirmed) \(reply.text)")
                #expect(reply.text.contains("Nothing was changed."))
                #expect(try await Self.split(api) == Self.unsplit)
            }
        }
    }

    @Test("a viewer sees the split without forms and cannot set or clear it")
    func viewerCannotSetSplit() async throws {
        try await withServer { api in
            let (viewer, _) = try await Self.world(api)
            let set = try await api.put(
                Self.trafficAPI,
                as: api.admin,
                json: #"{"arms": [{"version": 1, "weight": 90}, {"version": 2, "weight": 10}]}"#
            )
            try #require(set.status == .ok, "\(set)")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: viewer.secret)
            let page = try await browser.send(.get, Self.traffic)
            #expect(page.status == .ok)
            #expect(page.text.contains("/deployments/2\">2</a></td><td>10%</td><td>split</td>"))
            #expect(!page.text.contains("split-form") && !page.text.contains("Clear the split"))
            let csrf = try #require(ConsoleBrowser.csrf(in: page.text))
            for confirmed in [false, true] {
                let reply = try await browser.send(
                    .post,
                    "\(Self.traffic)/split",
                    form: [("csrf", csrf), ("weight-1", "50"), ("weight-2", "50")]
                        + (confirmed ? [("confirmed", "yes")] : [])
                )
                #expect(reply.status == .forbidden, "\(reply)")
                #expect(reply.text.contains("Not allowed") && reply.text.contains("Nothing was changed."))
            }
            #expect(try await browser.send(.get, "\(Self.traffic)/clear").status == .forbidden)
            #expect(try await browser.send(.post, "\(Self.traffic)/clear", form: [("csrf", csrf)]).status == .forbidden)
            #expect(try await Self.split(api) == "1:90,2:10 shadows  sticky ")
        }
    }

    /// The hidden fields of a confirmation page, in order, the CSRF token once (what a browser sends when the page's
    /// button is pressed; the layout's sign-out form carries the same token).
    static func hiddenFields(in page: String) -> [(String, String)] {
        var fields: [(String, String)] = []
        for match in page.matches(of: /<input type="hidden" name="([^"]*)" value="([^"]*)">/) {
            let field = (String(match.1), String(match.2))
            if field.0 == "csrf", fields.contains(where: { $0.0 == "csrf" }) { continue }
            fields.append(field)
        }
        return fields
    }
}
