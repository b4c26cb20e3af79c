import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import SlipwayFeedback
import SlipwayRegistry
import SlipwayStorage
import Testing

extension TestAPI {
    /// Predicts one iris row with `key` and returns the request id.
    func predictIris(_ row: String, key: Credential, environment: String = "production") async throws -> String {
        let reply = try await self.predict(
            "/v1/admin/iris/predict/?environment=\(environment)",
            as: key,
            json: #"{"ndarray": [\#(row)]}"#
        )
        try #require(reply.status == .ok, "\(reply)")
        return try #require(reply.json["request_id"]?.string)
    }

    /// Posts feedback, retrying while the prediction's outcome is not written yet (the flush runs every 50 ms; on a
    /// machine busy with other suites it may wait seconds for a thread, hence 20 s).
    func postFeedback(_ json: String, key: Credential, environment: String = "production") async throws -> Reply {
        var reply = try await self.post("/v1/admin/iris/feedback?environment=\(environment)", as: key, json: json)
        var tries = 0
        while reply.status == .notFound && reply.text.contains("unknown") && tries < 400 {
            try await Task.sleep(for: .milliseconds(50))
            reply = try await self.post("/v1/admin/iris/feedback?environment=\(environment)", as: key, json: json)
            tries += 1
        }
        return reply
    }

    /// Ships the iris example with `sepal_width` marked as PII.
    func shipIrisWithPII() async throws {
        let schema = try irisExample("schema.json").replacingOccurrences(
            of: #""help": "sepal width in centimetres","#,
            with: #""help": "sepal width in centimetres", "pii": true,"#
        )
        #expect(schema.contains("pii"))
        _ = try await self.ship(
            "admin/iris",
            "production",
            file: try irisExampleModel(),
            schema: schema,
            samples: try irisExample("samples.json"),
            classes: try irisExample("classes.json")
        )
    }
}

@Suite("Feedback, metrics and the prediction log")
struct FeedbackRouteTests {
    @Test func feedbackJoinsPredictionsAndMetricsFollow() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"], name: "fb")
            let key = Credential.servingKey(created.secret)
            // Predicted: setosa, versicolor, virginica (examples/iris/expected.json).
            let rows = ["[5.1, 3.5, 1.4, 0.2]", "[5.0, 2.0, 3.5, 1.0]", "[6.9, 3.2, 5.7, 2.3]"]
            var ids: [String] = []
            for row in rows { ids.append(try await api.predictIris(row, key: key)) }

            // Truth: setosa, virginica (wrong), virginica.
            let first = try await api.postFeedback(#"{"request_id": "\#(ids[0])", "label": "setosa"}"#, key: key)
            #expect(first.status == .ok && first.json["accepted"]?.int == 1, "\(first)")
            let batch = try await api.postFeedback(
                #"{"feedback": [{"request_id": "\#(ids[1])", "label": "virginica"}, {"request_id": "\#(ids[2])", "label": "virginica", "outcome": 12.5}]}"#,
                key: key
            )
            #expect(batch.status == .ok && batch.json["accepted"]?.int == 2, "\(batch)")

            // The same feedback again changes nothing; a different one is refused and the first stands.
            let again = try await api.postFeedback(#"{"request_id": "\#(ids[0])", "label": "setosa"}"#, key: key)
            #expect(again.status == .ok && again.json["unchanged"]?.int == 1 && again.json["accepted"]?.int == 0)
            let conflicting = try await api.postFeedback(
                #"{"request_id": "\#(ids[0])", "label": "versicolor"}"#,
                key: key
            )
            conflicting.expectError(.conflict, code: "conflict", field: "request_id")

            let metrics = try await api.get("/api/v1/models/admin/iris/environments/production/metrics", as: api.admin)
            #expect(metrics.status == .ok, "\(metrics)")
            let values = try #require(metrics.json["metrics"])
            #expect(values["count"]?.int == 3)
            #expect(abs((values["accuracy"]?.double ?? 0) - 2.0 / 3.0) < 1e-9, "\(metrics)")
            // Per class: setosa P=1 R=1; versicolor P=0 R=0; virginica P=1 R=0.5 → macro P 2/3, R 0.5, F1 (1+0+2/3)/3.
            #expect(abs((values["macro_precision"]?.double ?? 0) - 2.0 / 3.0) < 1e-9)
            #expect(abs((values["macro_recall"]?.double ?? 0) - 0.5) < 1e-9)
            #expect(abs((values["macro_f1"]?.double ?? 0) - (1 + 2.0 / 3.0) / 3) < 1e-9)
            #expect(values["log_loss"]?.double != nil && values["roc_auc"] == nil)
            #expect(values["outcome_sum"]?.double == 12.5 && values["outcome_count"]?.int == 1)

            let keyMetric = try await api.put(
                "/api/v1/models/admin/iris/key-metric",
                as: api.admin,
                json: #"{"name": "macro_f1"}"#
            )
            #expect(keyMetric.status == .ok && keyMetric.json["direction"]?.string == "maximize", "\(keyMetric)")
            let withKey = try await api.get(
                "/api/v1/models/admin/iris/environments/production/metrics?version=1",
                as: api.admin
            )
            #expect(abs((withKey.json["key_metric"]?["value"]?.double ?? 0) - (1 + 2.0 / 3.0) / 3) < 1e-9, "\(withKey)")
            // The key metric is also a gauge of this server's /metrics.
            let scrape = try await api.get("/metrics", as: api.admin)
            let gauge = scrape.text.split(separator: "\n").first { $0.hasPrefix("slipway_key_metric{") }
            #expect(gauge?.contains(#"model="admin/iris""#) == true, "\(scrape.text.prefix(2_000))")
            #expect(gauge?.contains(#"version="1""#) == true && gauge?.contains(#"metric="macro_f1""#) == true)
            let reported: Double? = gauge.flatMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
            let expected: Double = (1 + 2.0 / 3.0) / 3
            #expect(abs((reported ?? 0) - expected) < 1e-9, "\(gauge ?? "no gauge")")
            let activity = try await api.get("/api/v1/models/admin/iris/activity", as: api.admin)
            #expect(activity.text.contains("key_metric"), "\(activity)")
        }
    }

    @Test func feedbackBadInputNamesTheProblem() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"], name: "fb")
            let key = Credential.servingKey(created.secret)
            // Predicted first, so it is written no later than the one the first feedback waits for.
            let other = try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)
            let id = try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)
            _ = try await api.postFeedback(#"{"request_id": "\#(id)", "outcome": 1}"#, key: key)

            let path = "/v1/admin/iris/feedback"
            try await api.post(path, as: key, json: #"{"request_id": "nope", "label": "setosa"}"#)
                .expectError(.notFound, code: "not_found", field: "request_id", detailContains: "unknown")
            try await api.post(path, as: key, json: #"{"request_id": "\#(id)", "value": 3.2, "row": 0}"#)
                .expectError(.unprocessableContent, code: "invalid_input", field: "value", detailContains: "classifier")
            try await api.post(path, as: key, json: #"{"request_id": "\#(id)", "label": "rose"}"#)
                .expectError(.unprocessableContent, code: "invalid_input", field: "label", detailContains: "setosa")
            try await api.post(path, as: key, json: #"{"request_id": "\#(id)", "label": true}"#)
                .expectError(.badRequest, code: "invalid_input", field: "label")
            try await api.post(path, as: key, json: #"{"request_id": "\#(id)", "row": 3, "label": "setosa"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "row")
            try await api.post(path, as: key, json: #"{"request_id": "\#(id)"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "label")
            try await api.post(path, as: key, json: #"{"request": "\#(id)"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "request")
            try await api.post(path, as: key, json: #"{"feedback": {"request_id": "x"}}"#)
                .expectError(.badRequest, code: "invalid_input", field: "feedback")
            try await api.post(path, as: key, json: #"{"feedback": [{"request_id": "\#(id)", "label": 1.5}]}"#)
                .expectError(.badRequest, code: "invalid_input", field: "feedback[0].label")
            let many = Array(repeating: #"{"request_id": "\#(id)", "label": "setosa"}"#, count: 1_001)
                .joined(separator: ",")
            try await api.post(path, as: key, json: #"{"feedback": [\#(many)]}"#)
                .expectError(.contentTooLarge, code: "payload_too_large")
            try await api.post(path, as: key, json: "[1, 2]").expectError(
                .badRequest,
                code: "invalid_input",
                field: "body"
            )
            try await api.post(path, as: .anonymous, json: #"{"request_id": "\#(id)", "label": "setosa"}"#)
                .expectError(.unauthorized, code: "unauthenticated")
            // A batch with one bad item writes nothing.
            let mixed = try await api.post(
                path,
                as: key,
                json:
                    #"{"feedback": [{"request_id": "\#(other)", "label": "setosa"}, {"request_id": "gone", "label": "setosa"}]}"#
            )
            mixed.expectError(.notFound, code: "not_found", field: "feedback[1].request_id")
            let metrics = try await api.get("/api/v1/models/admin/iris/environments/production/metrics", as: api.admin)
            #expect(metrics.json["metrics"]?["count"]?.int == 0, "\(metrics)")
            try await api.get(
                "/api/v1/models/admin/iris/environments/production/metrics?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z",
                as: api.admin
            )
            .expectError(.badRequest, code: "invalid_input", field: "to")
            try await api.get(
                "/api/v1/models/admin/iris/environments/production/metrics?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                as: api.admin
            )
            .expectError(.badRequest, code: "invalid_input", field: "from")
            try await api.put("/api/v1/models/admin/iris/key-metric", as: api.admin, json: #"{"name": "profit"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")
        }
    }

    @Test func predictionLogRedactsPIISamplesAndExports() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisWithPII()
            let created = try await api.createKey(
                "serving",
                in: "admin/iris",
                environments: ["production"],
                name: "log"
            )
            let key = Credential.servingKey(created.secret)
            let settingsPath = "/api/v1/models/admin/iris/environments/production/prediction-log"
            let off = try await api.get(settingsPath, as: api.admin)
            #expect(off.json["enabled"] == .bool(false), "\(off)")
            try await api.put(settingsPath, as: api.admin, json: #"{"enabled": true, "sampleRate": 1.5}"#)
                .expectError(.badRequest, code: "invalid_input", field: "sample_rate")
            try await api.put(settingsPath, as: api.admin, json: #"{"enabled": "yes"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "enabled")
            try await api.put(settingsPath, as: key, json: #"{"enabled": true}"#).expectError(
                .forbidden,
                code: "forbidden"
            )

            // Sampling at 0 logs nothing.
            let none = try await api.put(settingsPath, as: api.admin, json: #"{"enabled": true, "sampleRate": 0}"#)
            #expect(none.status == .ok, "\(none)")
            let unlogged = try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)
            _ = try await api.postFeedback(#"{"request_id": "\#(unlogged)", "outcome": 0}"#, key: key)

            let on = try await api.put(
                settingsPath,
                as: api.admin,
                json: #"{"enabled": true, "sampleRate": 1, "maxRows": 2, "maxAgeDays": 3}"#
            )
            #expect(on.json["max_rows"]?.int == 2 && on.json["sample_rate"]?.double == 1, "\(on)")
            var logged: [String] = []
            for _ in 0..<3 { logged.append(try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)) }
            let named = try await api.predict(
                "/v1/admin/iris/predict/",
                as: key,
                json:
                    #"{"features": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}"#
            )
            let namedID = try #require(named.json["request_id"]?.string)
            _ = try await api.postFeedback(#"{"request_id": "\#(namedID)", "outcome": 0}"#, key: key)

            let listPath = "/api/v1/models/admin/iris/environments/production/predictions"
            // The flush writes outcomes (which the accepted feedback needed) before log entries: wait for those.
            var page = try await api.get(listPath + "?limit=2", as: api.admin)
            let waited = ContinuousClock.now
            while page.json["items"]?.array?.first?["request_id"]?.string != namedID,
                ContinuousClock.now - waited < .seconds(20)
            {
                try await Task.sleep(for: .milliseconds(50))
                page = try await api.get(listPath + "?limit=2", as: api.admin)
            }
            #expect(page.status == .ok, "\(page)")
            let items = page.json["items"]?.array ?? []
            #expect(items.count == 2)
            #expect(items.first?["request_id"]?.string == namedID, "\(page)")
            #expect(items.first?["inputs"]?.array?.first?["sepal_width"]?.string == "[redacted]", "\(page)")
            #expect(items.first?["inputs"]?.array?.first?["sepal_length"]?.double == 5.1)
            #expect(items.last?["inputs"]?.array?.first?.array?[1].string == "[redacted]", "\(page)")
            #expect(items.first?["outputs"]?.array?.first?["label"]?.string == "setosa")
            #expect(items.first?["key_name"]?.string == "log" && items.first?["version"]?.int == 1)
            #expect(items.first?["inputs"]?.description.contains("3.5") == false, "the PII value is not stored")
            let cursor = try #require(page.json["next_cursor"]?.string)
            let rest = try await api.get(listPath + "?limit=2&cursor=\(cursor)", as: api.admin)
            let allIDs = (items + (rest.json["items"]?.array ?? [])).compactMap { $0["request_id"]?.string }
            #expect(!allIDs.contains(unlogged), "sampling at 0 logged nothing")
            #expect(Set(allIDs) == Set(logged + [namedID]), "\(allIDs)")

            let jsonl = try await api.get(listPath + "/export?format=jsonl", as: api.admin)
            #expect(jsonl.status == .ok && jsonl.text.split(separator: "\n").count == 4, "\(jsonl)")
            let csv = try await api.get(listPath + "/export?format=csv", as: api.admin)
            #expect(csv.text.hasPrefix("id,request_id,at,version"), "\(csv)")
            #expect(csv.text.contains("\"[{\"\"petal_length\"\""), "\(csv)")
            try await api.get(listPath + "/export?format=xml", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "format")
            try await api.get(listPath + "?limit=0", as: api.admin).expectError(
                .badRequest,
                code: "invalid_input",
                field: "limit"
            )
            try await api.get(listPath + "?cursor=abc", as: api.admin).expectError(
                .badRequest,
                code: "invalid_input",
                field: "cursor"
            )
            try await api.get(listPath, as: .anonymous).expectError(.notFound, code: "not_found")

            let activity = try await api.get("/api/v1/models/admin/iris/activity", as: api.admin)
            #expect(activity.text.contains("prediction_log.updated"), "\(activity)")
        }
    }

    @Test func aHalfFullBufferIsWrittenBeforeTheFlushInterval() async throws {
        // The timer would write nothing during the test: only the buffer's filling can.
        try await withServer(feedback: FeedbackConfiguration(flushInterval: .seconds(3_600), maximumBufferedRecords: 8))
        {
            api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"], name: "fb")
            let key = Credential.servingKey(created.secret)
            var ids: [String] = []
            for _ in 0..<4 { ids.append(try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)) }
            let reply = try await api.postFeedback(#"{"request_id": "\#(ids[0])", "label": "setosa"}"#, key: key)
            #expect(reply.status.kind == .successful, "\(reply)")
        }
    }

    @Test func gracefulShutdownWritesWhatIsBuffered() async throws {
        let requestID = NIOLockedValueBox<String>("")
        let checkStoredOutcome: @Sendable (URL) async throws -> Void = { folder in
            let repository = try await SQLRegistryRepository.makeSQLite(
                path: folder.appendingPathComponent("slipway.sqlite").path,
                logger: SQLRegistryRepository.quietLogger
            )
            let model = try #require(try await repository.model(owner: "admin", name: "iris"))
            let outcome = try await repository.outcome(
                requestID: requestID.withLockedValue { $0 },
                modelID: model.id
            )
            try await repository.shutdown()
            #expect(outcome?.predictions?.first?.label == "setosa", "\(String(describing: outcome))")
        }
        try await withServer(
            // Nothing is written by the timer during the test: only the shutdown's flush can store the outcome.
            feedback: FeedbackConfiguration(flushInterval: .seconds(3_600)),
            afterShutdown: checkStoredOutcome
        ) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"], name: "fb")
            let id = try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: Credential.servingKey(created.secret))
            requestID.withLockedValue { $0 = id }
            let early = try await api.post(
                "/v1/admin/iris/feedback",
                as: .servingKey(created.secret),
                json: #"{"request_id": "\#(id)", "label": "setosa"}"#
            )
            early.expectError(.notFound, code: "not_found", detailContains: "unknown")
        }
    }

    @Test func alertRulesParseOrNameTheProblem() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            let path = "/api/v1/models/admin/iris/alerts"
            let compact = try await api.post(
                path,
                as: api.admin,
                json: #"{"name": "slow", "rule": "p99_ms > 20 over 5m in production"}"#
            )
            #expect(compact.status == .created && compact.json["window"]?.string == "5m", "\(compact)")
            let fields = try await api.post(
                path,
                as: api.admin,
                json: #"{"name": "errors", "metric": "error_rate", "op": ">=", "threshold": 0.1, "window": "1h"}"#
            )
            #expect(fields.status == .created && fields.json["environment"]?.string == "production", "\(fields)")
            try await api.post(path, as: api.admin, json: #"{"name": "slow", "rule": "p99_ms > 30"}"#)
                .expectError(.conflict, code: "conflict", field: "name")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "p99_ms >> 20"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "op")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "latency > 20"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "metric")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "p99_ms > fast"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "rule")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "p99_ms > 20 over 5 minutes"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "rule")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "p99_ms > 20 over 10y"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "window")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "error_rate > 2"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "threshold")
            try await api.post(path, as: api.admin, json: #"{"name": "x", "rule": "drift > 0.2 in nowhere"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "environment")
            try await api.post(path, as: api.admin, json: #"{"rule": "drift > 0.2"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")
            let list = try await api.get(path, as: api.admin)
            #expect(list.json.array?.count == 2 && list.json.array?.first?["state"]?.string == "ok", "\(list)")
            #expect(try await api.delete(path + "/slow", as: api.admin).status == .noContent)
            try await api.delete(path + "/slow", as: api.admin).expectError(.notFound, code: "not_found")
        }
    }

    @Test func keyMetricAlertFiresAndResolvesWithSignedWebhook() async throws {
        let receiver = try await WebhookReceiver.start()
        defer { receiver.stop() }
        try await withServer(
            feedback: FeedbackConfiguration(
                flushInterval: .milliseconds(50),
                alertInterval: .milliseconds(100),
                webhookBackoff: .milliseconds(50)
            )
        ) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let created = try await api.createKey("serving", in: "admin/iris", environments: ["production"], name: "fb")
            let key = Credential.servingKey(created.secret)
            let secret = "0123456789abcdef-test-secret"
            let hook = try await api.post(
                "/api/v1/models/admin/iris/webhooks",
                as: api.admin,
                json: #"{"url": "http://127.0.0.1:\#(receiver.port)/hook", "secret": "\#(secret)"}"#
            )
            #expect(hook.status == .created && hook.json["secret"]?.string == secret, "\(hook)")
            _ = try await api.put("/api/v1/models/admin/iris/key-metric", as: api.admin, json: #"{"name": "accuracy"}"#)
            let rule = try await api.post(
                "/api/v1/models/admin/iris/alerts",
                as: api.admin,
                json: #"{"name": "quality", "rule": "key_metric < 0.5 over 1h"}"#
            )
            #expect(rule.status == .created, "\(rule)")

            // A wrong label: accuracy 0, the alert fires.
            let wrong = try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)
            _ = try await api.postFeedback(#"{"request_id": "\#(wrong)", "label": "virginica"}"#, key: key)
            let fired = try await receiver.waitFor(count: 1)
            #expect(fired[0].json["event"]?.string == "alert.firing", "\(fired[0].text)")
            #expect(fired[0].json["alert"]?.string == "quality" && fired[0].json["value"]?.double == 0)
            #expect(fired[0].signature == WebhookSender.signature(of: fired[0].body, secret: secret))
            // The HMAC checked independently with swift-crypto.
            let expected = HMAC<SHA256>.authenticationCode(
                for: fired[0].body,
                using: SymmetricKey(data: Data(secret.utf8))
            )
            #expect(fired[0].signature == "sha256=" + expected.map { String(format: "%02x", $0) }.joined())

            // Three right labels in one batch: accuracy 0.75, it resolves.
            var right: [String] = []
            for _ in 0..<3 { right.append(try await api.predictIris("[5.1, 3.5, 1.4, 0.2]", key: key)) }
            let items = right.map { #"{"request_id": "\#($0)", "label": "setosa"}"# }.joined(separator: ", ")
            let batch = try await api.postFeedback(#"{"feedback": [\#(items)]}"#, key: key)
            #expect(batch.json["accepted"]?.int == 3, "\(batch)")
            let resolved = try await receiver.waitFor(count: 2)
            #expect(resolved[1].json["event"]?.string == "alert.resolved", "\(resolved[1].text)")
            #expect(resolved[1].json["value"]?.double == 0.75)
            let activity = try await api.get("/api/v1/models/admin/iris/activity", as: api.admin)
            #expect(activity.text.contains("alert.firing") && activity.text.contains("alert.resolved"), "\(activity)")
            let list = try await api.get("/api/v1/models/admin/iris/alerts", as: api.admin)
            #expect(list.json.array?.first?["state"]?.string == "ok")
            let hooks = try await api.get("/api/v1/models/admin/iris/webhooks", as: api.admin)
            #expect(hooks.json.array?.count == 1 && hooks.json.array?.first?["secret"] == nil, "\(hooks)")
        }
    }
}

/// A tiny HTTP server that keeps every webhook POST it receives.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var body: Data
        var signature: String?
        var text: String { String(decoding: self.body, as: UTF8.self) }
        var json: JSON { (try? JSONDecoder().decode(JSON.self, from: self.body)) ?? .invalid(self.text) }
    }

    let received: NIOLockedValueBox<[Received]>
    let port: Int
    let group: ServiceGroup

    private init(received: NIOLockedValueBox<[Received]>, port: Int, group: ServiceGroup) {
        self.received = received
        self.port = port
        self.group = group
    }

    static func start() async throws -> WebhookReceiver {
        let box = NIOLockedValueBox<[Received]>([])
        let router = Router()
        router.post("hook") { request, _ -> HTTPResponse.Status in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let signature = request.headers[HTTPField.Name("X-Slipway-Signature")!]
            box.withLockedValue { $0.append(Received(body: Data(buffer.readableBytesView), signature: signature)) }
            return .ok
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "webhook-receiver")
        logger.logLevel = .critical
        let application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        Task { try await group.run() }
        var port = 0
        for await value in stream {
            port = value
            break
        }
        return WebhookReceiver(received: box, port: port, group: group)
    }

    /// Waits up to ten seconds for `count` deliveries.
    func waitFor(count: Int) async throws -> [Received] {
        for _ in 0..<200 {
            let all = self.received.withLockedValue { $0 }
            if all.count >= count { return all }
            try await Task.sleep(for: .milliseconds(50))
        }
        let all = self.received.withLockedValue { $0 }
        try #require(all.count >= count, "expected \(count) webhook deliveries, got \(all.count)")
        return all
    }

    func stop() {
        let group = self.group
        Task { await group.triggerGracefulShutdown() }
    }
}
