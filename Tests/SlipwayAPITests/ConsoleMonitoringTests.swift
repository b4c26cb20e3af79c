import Foundation
import HTTPTypes
import SlipwayRegistry
import Testing

@testable import SlipwayConsole

// The console's monitoring page (docs/console.md): charts drawn on the server from the statistics and feedback of a
// real server, a range picker whose bad values are refused with a message, and the model's alert rules.
@Suite("Web console: monitoring", .timeLimit(.minutes(2)))
struct ConsoleMonitoringTests {
    static let page = "/models/admin/iris/monitoring"

    @Test("without an active deployment or traffic the page says so and still lists the alert rules")
    func withoutData() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let empty = try await browser.send(.get, Self.page)
            #expect(empty.status == .ok, "\(empty)")
            #expect(empty.text.contains("<h1>Monitoring of admin/iris</h1>"))
            #expect(empty.text.contains(#"/monitoring" aria-current="page">Monitoring</a>"#))
            #expect(empty.text.contains("has no active deployment") || empty.text.contains("has no environments yet"))
            #expect(empty.text.contains("No alert rules"))
            #expect(!empty.text.contains("<svg"))

            try await api.shipIrisExample("admin/iris")
            let quiet = try await browser.send(.get, Self.page + "?range=24h")
            #expect(quiet.status == .ok, "\(quiet)")
            #expect(quiet.text.contains(#"<option value="24h" selected>"#))
            #expect(quiet.text.contains(#"<dt>Requests</dt><dd><span id="requests-total">0</span> (0 rows)</dd>"#))
            #expect(quiet.text.contains(#"<title id="traffic-title">Requests per hour</title>"#))
            #expect(quiet.text.contains("No drift to show"))
            #expect(quiet.text.contains("No key metric is set"))
            let overview = try await browser.send(.get, "/models/admin/iris")
            #expect(overview.text.contains("/models/admin/iris/monitoring?environment=production"))
            #expect(overview.text.contains("This model has no key metric set"))
        }
    }

    @Test("predictions, errors, latency, drift, the key metric and alert rules appear at once")
    func withData() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"])
            let key = Credential.servingKey(created.secret)
            var ids: [String] = []
            for row in ["[5.1, 3.5, 1.4, 0.2]", "[6.9, 3.2, 5.7, 2.3]"] {
                ids.append(try await api.predictIris(row, key: key))
            }
            let refused = try await api.predict("/v1/admin/iris/predict/", as: key, json: #"{"ndarray": [[1, 2]]}"#)
            #expect(refused.status.code >= 400)
            let metric = try await api.put(
                "/api/v1/models/admin/iris/key-metric",
                as: api.admin,
                json: #"{"name": "accuracy"}"#
            )
            try #require(metric.status == .ok, "\(metric)")
            let alert = try await api.post(
                "/api/v1/models/admin/iris/alerts",
                as: api.admin,
                json:
                    #"{"name": "few-right", "metric": "key_metric", "op": "<", "threshold": 0.8, "window": "1h", "environment": "production"}"#
            )
            try #require(alert.status.code == 201 || alert.status == .ok, "\(alert)")

            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let before = try await browser.send(.get, Self.page)
            #expect(
                before.text.contains(#"<dt>Requests</dt><dd><span id="requests-total">3</span> (2 rows)</dd>"#),
                "\(before.text)"
            )
            #expect(before.text.contains("<dt>Errors</dt><dd>1</dd>"))
            #expect(before.text.contains("No feedback yet."))
            for id in ["traffic", "latency", "errors", "drift"] {
                #expect(before.text.contains(#"aria-labelledby="\#(id)-title \#(id)-desc""#), "\(id)")
            }
            #expect(before.text.contains("<rect x="), "traffic bars")
            #expect(before.text.contains(">sepal_length</text>"), "drift per feature")
            #expect(before.text.contains("<td>few-right</td>"))
            #expect(before.text.contains("key_metric &lt; 0.8 over 1h in production"))

            let feedback = try await api.postFeedback(#"{"request_id": "\#(ids[0])", "label": "setosa"}"#, key: key)
            try #require(feedback.status == .ok, "\(feedback)")
            let after = try await browser.send(.get, Self.page)
            #expect(after.text.contains(#"<title id="key-metric-title">accuracy per minute</title>"#), "\(after.text)")
            let overview = try await browser.send(.get, "/models/admin/iris")
            #expect(overview.text.contains(#"<svg class="spark""#))
            #expect(overview.text.contains("latest 1 "))
        }
    }

    @Test("a bad range or version is a 400 page naming the parameter; an unknown environment a 404")
    func badParameters() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: api.server.adminToken)
            let range = try await browser.send(.get, Self.page + "?range=2w")
            #expect(range.status == .badRequest)
            #expect(range.text.contains("Check the input"))
            #expect(range.text.contains("Range must be one of 1h, 6h, 24h or 7d, got &#39;2w&#39;"), "\(range.text)")
            let version = try await browser.send(.get, Self.page + "?version=latest")
            #expect(version.status == .badRequest)
            #expect(version.text.contains("Version must be a whole number"))
            let escaped = try await browser.send(.get, Self.page + "?range=%3Cscript%3E")
            #expect(escaped.status == .badRequest)
            #expect(!escaped.text.contains("<script>"))
            let environment = try await browser.send(.get, Self.page + "?environment=nowhere")
            #expect(environment.status == .notFound)
        }
    }

    @Test("a user who may not read the model is refused and sees none of its statistics")
    func refusesWithoutReadAccess() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let stranger = try await api.createUser("sam")
            let (browser, _) = try await ConsoleBrowser.signIn(api, token: stranger.secret)
            let page = try await browser.send(.get, Self.page)
            #expect(page.status == .notFound || page.status == .forbidden, "\(page)")
            #expect(!page.text.contains("<svg"))
            #expect(!page.text.contains("Requests per"))
        }
    }

    @Test("chart text is escaped: series names, titles and descriptions")
    func chartEscapes() {
        let chart = ConsoleChart(
            id: "drift",
            title: "Drift of <b>",
            description: "a \"quoted\" & <script>alert(1)</script>",
            axis: ChartAxis(start: Date(timeIntervalSince1970: 0), step: 60, count: 3, showsDay: false),
            series: [.init(name: "<script>x</script>", color: "#000", values: [0.1, nil, 0.3])]
        )
        let svg = chart.svg()
        #expect(!svg.contains("<script>"))
        #expect(!svg.contains("<b>"))
        #expect(svg.contains("&lt;script&gt;x&lt;/script&gt;"))
        #expect(svg.contains("a &quot;quoted&quot; &amp; &lt;script&gt;"))
        #expect(svg.contains("00:00 UTC"))
        #expect(svg.contains("<circle"), "isolated points are drawn")
        let spark = ConsoleChart.sparkline([1, nil, 0.5], label: "<i>")
        #expect(spark.contains("<title>&lt;i&gt;</title>"))
    }

    @Test("y-axis tops are round numbers")
    func ceilings() {
        #expect(ConsoleChart.ceiling(0) == 1)
        #expect(ConsoleChart.ceiling(3) == 5)
        #expect(ConsoleChart.ceiling(0.13) == 0.2)
        #expect(ConsoleChart.ceiling(100) == 100)
        #expect(ConsoleChart.number(2) == "2")
        #expect(ConsoleChart.number(0.12345) == "0.123")
        #expect(ConsoleChart.number(0.8) == "0.8")
        #expect(ConsoleChart.number(1234.56) == "1234.6")
    }
}
