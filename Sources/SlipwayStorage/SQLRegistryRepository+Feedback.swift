import Foundation
import SQLKit
import SQLiteKit
import SlipwayRegistry
import Synchronization

/// The prediction log, per-request outcomes, feedback, alert rules and webhooks (migration 6).
extension SQLRegistryRepository: FeedbackRepository {
    public func recordEvent(_ event: ActivityEvent) async throws {
        try await self.write("recording an activity event") { database in
            _ = try await database.insertEvent(event)
        }
    }

    // MARK: Outcomes

    public func insertOutcomes(_ outcomes: [PredictionOutcome], priority: WritePriority) async throws {
        guard !outcomes.isEmpty else { return }
        if self.dialect.backend == .sqlite {
            try await self.insertOutcomesSQLite(outcomes, priority: priority)
            return
        }
        // One multi-row statement per 500 rows (5 binds each), built by appending to one query: every request stores
        // an outcome, so this is the monitoring layer's most frequent write.
        var statements: [SQLQueryString] = []
        var columns = OutcomeColumns()
        for start in stride(from: 0, to: outcomes.count, by: 500) {
            var sql: SQLQueryString = """
                INSERT INTO prediction_outcomes (
                    request_id, model_id, environment, version, at, status, latency_us, classes, predictions
                ) VALUES
                """
            for (index, outcome) in outcomes[start..<min(start + 500, outcomes.count)].enumerated() {
                let row = try columns.row(outcome)
                sql.appendLiteral(index == 0 ? " (" : ", (")
                sql.appendInterpolation(bind: outcome.requestID)
                sql.appendLiteral(", ")
                sql.appendInterpolation(bind: row.modelID)
                sql.appendLiteral(", ")
                sql.appendInterpolation(bind: outcome.environment)
                // The integers are the server's own numbers, written as literals (four binds fewer per row).
                sql.appendInterpolation(
                    unsafeRaw: ", \(outcome.version), \(row.at), \(outcome.status), \(row.latency), "
                )
                sql.appendInterpolation(bind: row.classes)
                sql.appendLiteral(", ")
                sql.appendInterpolation(bind: row.predictions)
                sql.appendLiteral(")")
            }
            sql.appendLiteral(" ON CONFLICT (model_id, request_id) DO NOTHING")
            statements.append(sql)
        }
        let batches = statements
        try await self.write("storing prediction outcomes", priority: priority) { database in
            for statement in batches { try await database.raw(statement).run() }
        }
    }

    /// SQLite's outcome insert: binds made as `SQLiteData` and handed to the connection itself, one statement per
    /// 500 rows. SQLKit's binds are `Encodable` values that its encoder casts one by one; at 4,500 binds per
    /// statement that was most of the cost of storing an outcome.
    private func insertOutcomesSQLite(_ outcomes: [PredictionOutcome], priority: WritePriority) async throws {
        var statements: [(sql: String, binds: [SQLiteData])] = []
        var columns = OutcomeColumns()
        for start in stride(from: 0, to: outcomes.count, by: 500) {
            let rows = outcomes[start..<min(start + 500, outcomes.count)]
            var binds: [SQLiteData] = []
            binds.reserveCapacity(rows.count * 9)
            for outcome in rows {
                let row = try columns.row(outcome)
                binds.append(.text(outcome.requestID))
                binds.append(.text(row.modelID))
                binds.append(.text(outcome.environment))
                binds.append(.integer(outcome.version))
                binds.append(.integer(Int(row.at)))
                binds.append(.integer(outcome.status))
                binds.append(.integer(Int(row.latency)))
                binds.append(row.classes.map(SQLiteData.text) ?? .null)
                binds.append(row.predictions.map(SQLiteData.text) ?? .null)
            }
            statements.append((Self.sqliteOutcomeInsert(rows: rows.count), binds))
        }
        let batches = statements
        do {
            _ = try await self.database.writeSQLite(priority: priority) { connection in
                for statement in batches { _ = try await connection.query(statement.sql, statement.binds) }
            }
        } catch {
            throw DatabaseErrors.registryError(error, while: "storing prediction outcomes")
        }
    }

    /// `INSERT … VALUES (?, …), …` for `rows` outcomes, nine parameters each (each size's text is made once).
    static func sqliteOutcomeInsert(rows: Int) -> String {
        if let made = Self.sqliteOutcomeInserts.withLock({ $0[rows] }) { return made }
        let made = Self.makeSQLiteOutcomeInsert(rows: rows)
        Self.sqliteOutcomeInserts.withLock { $0[rows] = made }
        return made
    }

    private static let sqliteOutcomeInserts = Mutex<[Int: String]>([:])

    private static func makeSQLiteOutcomeInsert(rows: Int) -> String {
        var sql = """
            INSERT INTO prediction_outcomes (
                request_id, model_id, environment, version, at, status, latency_us, classes, predictions
            ) VALUES
            """
        for index in 0..<rows { sql += index == 0 ? " (?, ?, ?, ?, ?, ?, ?, ?, ?)" : ", (?, ?, ?, ?, ?, ?, ?, ?, ?)" }
        return sql + " ON CONFLICT (model_id, request_id) DO NOTHING"
    }

    static func decodeOutcome(_ row: any SQLRow) throws -> PredictionOutcome {
        PredictionOutcome(
            requestID: try row.string("request_id"),
            modelID: try row.uuid("model_id"),
            environment: try row.string("environment"),
            version: try row.int("version"),
            at: try row.date("at"),
            status: try row.int("status"),
            latency: Double(try row.int64("latency_us")) / 1_000_000,
            classes: try row.optionalJSON("classes", as: [String].self),
            predictions: try row.optionalJSON("predictions", as: [OutcomePrediction].self)
        )
    }

    public func outcome(requestID: String, modelID: UUID) async throws -> PredictionOutcome? {
        try await self.read("reading a prediction outcome") { database in
            try await database.row(
                """
                SELECT * FROM prediction_outcomes
                WHERE model_id = \(bind: SQLValues.text(modelID)) AND request_id = \(bind: requestID)
                """
            ).map(Self.decodeOutcome)
        }
    }

    public func pruneOutcomes(before date: Date) async throws -> Int {
        try await self.write("pruning prediction outcomes") { database in
            let cutoff = SQLValues.microseconds(date)
            try await database.raw(
                """
                DELETE FROM prediction_feedback WHERE (model_id, request_id) IN (
                    SELECT model_id, request_id FROM prediction_outcomes WHERE at < \(bind: cutoff)
                )
                """
            ).run()
            return try await database.rows(
                "DELETE FROM prediction_outcomes WHERE at < \(bind: cutoff) RETURNING request_id"
            ).count
        }
    }

    public func requestWindow(modelID: UUID, environment: String, since date: Date) async throws -> RequestWindow {
        try await self.read("summarising recent requests") { database in
            let conditions: SQLQueryString = """
                model_id = \(bind: SQLValues.text(modelID)) AND environment = \(bind: environment)
                    AND at >= \(bind: SQLValues.microseconds(date))
                """
            guard
                let counts = try await database.row(
                    """
                    SELECT COUNT(*) AS total,
                        COALESCE(SUM(CASE WHEN status >= 500 OR status = 429 THEN 1 ELSE 0 END), 0) AS errors
                    FROM prediction_outcomes WHERE \(conditions)
                    """
                )
            else { return RequestWindow(requests: 0, errors: 0, latencies: []) }
            let latencies = try await database.rows(
                """
                SELECT latency_us FROM prediction_outcomes WHERE \(conditions) AND status < 400
                ORDER BY at DESC LIMIT 100000
                """
            ).map { Double(try $0.int64("latency_us")) / 1_000_000 }
            return RequestWindow(
                requests: try counts.int("total"),
                errors: try counts.int("errors"),
                latencies: latencies
            )
        }
    }

    public func versionWindow(
        modelID: UUID,
        environment: String,
        version: Int,
        from: Date,
        to: Date
    ) async throws -> RequestWindow {
        try await self.read("summarising a version's requests") { database in
            let conditions: SQLQueryString = """
                model_id = \(bind: SQLValues.text(modelID)) AND environment = \(bind: environment)
                    AND version = \(bind: Int64(version)) AND at >= \(bind: SQLValues.microseconds(from))
                    AND at < \(bind: SQLValues.microseconds(to))
                """
            guard
                let counts = try await database.row(
                    """
                    SELECT COUNT(*) AS total,
                        COALESCE(SUM(CASE WHEN status >= 300 AND status NOT IN (401, 403, 404, 429) THEN 1 ELSE 0 END),
                            0) AS errors
                    FROM prediction_outcomes WHERE \(conditions)
                    """
                )
            else { return RequestWindow(requests: 0, errors: 0, latencies: []) }
            let latencies = try await database.rows(
                """
                SELECT latency_us FROM prediction_outcomes WHERE \(conditions) AND status < 300
                ORDER BY at DESC LIMIT 100000
                """
            ).map { Double(try $0.int64("latency_us")) / 1_000_000 }
            return RequestWindow(
                requests: try counts.int("total"),
                errors: try counts.int("errors"),
                latencies: latencies
            )
        }
    }

    // MARK: Feedback

    static func decodeFeedback(_ row: any SQLRow) throws -> FeedbackEntry {
        FeedbackEntry(
            requestID: try row.string("request_id"),
            row: try row.int("row_index"),
            modelID: try row.uuid("model_id"),
            at: try row.date("at"),
            label: try row.optionalString("label"),
            value: try row.decodeNil(column: "value") ? nil : row.decode(column: "value", as: Double.self),
            outcome: try row.decodeNil(column: "outcome") ? nil : row.decode(column: "outcome", as: Double.self)
        )
    }

    public func feedback(modelID: UUID, requestID: String, row: Int) async throws -> FeedbackEntry? {
        try await self.read("reading feedback") { database in
            try await database.row(
                """
                SELECT * FROM prediction_feedback
                WHERE model_id = \(bind: SQLValues.text(modelID)) AND request_id = \(bind: requestID)
                    AND row_index = \(bind: Int64(row))
                """
            ).map(Self.decodeFeedback)
        }
    }

    public func insertFeedback(_ entries: [FeedbackEntry]) async throws {
        guard !entries.isEmpty else { return }
        try await self.write("storing feedback") { database in
            for entry in entries {
                try await database.change(
                    """
                    INSERT INTO prediction_feedback (model_id, request_id, row_index, at, label, value, outcome)
                    VALUES (
                        \(bind: SQLValues.text(entry.modelID)), \(bind: entry.requestID), \(bind: Int64(entry.row)),
                        \(bind: SQLValues.microseconds(entry.at)), \(bind: entry.label), \(bind: entry.value),
                        \(bind: entry.outcome)
                    )
                    """,
                    unique: RegistryError.conflict(
                        "feedback for request \(entry.requestID) row \(entry.row) was already given",
                        field: "request_id"
                    ),
                    missing: RegistryError.notFound(
                        "request \(entry.requestID) is unknown or its outcome has expired"
                    )
                )
            }
        }
    }

    public func joinedFeedback(
        modelID: UUID,
        environment: String,
        from: Date,
        to: Date,
        version: Int?
    ) async throws -> [JoinedFeedback] {
        try await self.read("joining feedback with predictions") { database in
            var conditions: [SQLQueryString] = [
                "o.model_id = \(bind: SQLValues.text(modelID))",
                "o.environment = \(bind: environment)",
                "o.at >= \(bind: SQLValues.microseconds(from))",
                "o.at < \(bind: SQLValues.microseconds(to))",
            ]
            if let version { conditions.append("o.version = \(bind: Int64(version))") }
            let rows = try await database.rows(
                """
                SELECT o.version AS version, o.classes AS classes, o.predictions AS predictions,
                    f.model_id AS model_id, f.request_id AS request_id, f.row_index AS row_index, f.at AS at,
                    f.label AS label, f.value AS value, f.outcome AS outcome
                FROM prediction_feedback f
                JOIN prediction_outcomes o ON o.model_id = f.model_id AND o.request_id = f.request_id
                \(SQLQueryString.whereClause(conditions)) ORDER BY o.at, f.row_index
                """
            )
            return try rows.compactMap { row in
                let feedback = try Self.decodeFeedback(row)
                let predictions = try row.optionalJSON("predictions", as: [OutcomePrediction].self) ?? []
                guard feedback.row < predictions.count else { return nil }
                return JoinedFeedback(
                    version: try row.int("version"),
                    classes: try row.optionalJSON("classes", as: [String].self),
                    prediction: predictions[feedback.row],
                    feedback: feedback
                )
            }
        }
    }

    // MARK: Prediction log

    static func decodeLogSettings(_ row: any SQLRow) throws -> PredictionLogSettings {
        PredictionLogSettings(
            modelID: try row.uuid("model_id"),
            environment: try row.string("environment"),
            isEnabled: try row.bool("enabled"),
            sampleRate: try row.decode(column: "sample_rate", as: Double.self),
            maximumRows: try row.int("max_rows"),
            maximumAgeDays: try row.int("max_age_days")
        )
    }

    public func allPredictionLogSettings() async throws -> [PredictionLogSettings] {
        try await self.read("reading prediction log settings") { database in
            try await database.rows("SELECT * FROM prediction_log_settings ORDER BY model_id, environment")
                .map(Self.decodeLogSettings)
        }
    }

    public func savePredictionLogSettings(_ settings: PredictionLogSettings, event: ActivityEvent) async throws {
        try await self.write("storing prediction log settings") { database in
            try await database.raw(
                """
                INSERT INTO prediction_log_settings (
                    model_id, environment, enabled, sample_rate, max_rows, max_age_days
                ) VALUES (
                    \(bind: SQLValues.text(settings.modelID)), \(bind: settings.environment),
                    \(bind: SQLValues.flag(settings.isEnabled)), \(bind: settings.sampleRate),
                    \(bind: Int64(settings.maximumRows)), \(bind: Int64(settings.maximumAgeDays))
                ) ON CONFLICT (model_id, environment) DO UPDATE SET
                    enabled = excluded.enabled, sample_rate = excluded.sample_rate,
                    max_rows = excluded.max_rows, max_age_days = excluded.max_age_days
                """
            ).run()
            _ = try await database.insertEvent(event)
        }
    }

    public func insertLogEntries(_ entries: [PredictionLogEntry], priority: WritePriority) async throws {
        guard !entries.isEmpty else { return }
        var statements: [SQLQueryString] = []
        for start in stride(from: 0, to: entries.count, by: 500) {
            let rows: [SQLQueryString] = entries[start..<min(start + 500, entries.count)].map { entry in
                """
                (\(bind: SQLValues.text(entry.modelID)), \(bind: entry.environment), \(bind: Int64(entry.version)),
                    \(bind: entry.requestID), \(bind: SQLValues.microseconds(entry.at)), \(bind: entry.keyName),
                    \(bind: entry.inputs), \(bind: entry.outputs), \(bind: Int64((entry.latency * 1_000_000).rounded())),
                    \(bind: Int64(entry.status)))
                """
            }
            statements.append(
                """
                INSERT INTO prediction_log (
                    model_id, environment, version, request_id, at, key_name, inputs, outputs, latency_us, status
                ) VALUES \(rows.joined(separator: ", "))
                """
            )
        }
        let batches = statements
        try await self.write("storing prediction log entries", priority: priority) { database in
            for statement in batches { try await database.raw(statement).run() }
        }
    }

    public func logEntries(
        modelID: UUID,
        environment: String,
        query: PredictionLogQuery
    ) async throws -> [PredictionLogEntry] {
        try await self.read("reading the prediction log") { database in
            var conditions: [SQLQueryString] = [
                "model_id = \(bind: SQLValues.text(modelID))", "environment = \(bind: environment)",
            ]
            if let from = query.from { conditions.append("at >= \(bind: SQLValues.microseconds(from))") }
            if let to = query.to { conditions.append("at < \(bind: SQLValues.microseconds(to))") }
            if let version = query.version { conditions.append("version = \(bind: Int64(version))") }
            if let before = query.before { conditions.append("id < \(bind: before)") }
            return try await database.rows(
                """
                SELECT * FROM prediction_log\(SQLQueryString.whereClause(conditions))
                ORDER BY id DESC LIMIT \(bind: Int64(query.limit))
                """
            ).map { row in
                PredictionLogEntry(
                    id: try row.int64("id"),
                    modelID: try row.uuid("model_id"),
                    environment: try row.string("environment"),
                    version: try row.int("version"),
                    requestID: try row.string("request_id"),
                    at: try row.date("at"),
                    keyName: try row.optionalString("key_name"),
                    inputs: try row.string("inputs"),
                    outputs: try row.string("outputs"),
                    latency: Double(try row.int64("latency_us")) / 1_000_000,
                    status: try row.int("status")
                )
            }
        }
    }

    public func pruneLog(_ settings: PredictionLogSettings, now: Date) async throws -> Int {
        try await self.write("pruning the prediction log") { database in
            let model = SQLValues.text(settings.modelID)
            let cutoff = SQLValues.microseconds(now.addingTimeInterval(-Double(settings.maximumAgeDays) * 86_400))
            var removed = try await database.rows(
                """
                DELETE FROM prediction_log WHERE model_id = \(bind: model)
                    AND environment = \(bind: settings.environment) AND at < \(bind: cutoff) RETURNING id
                """
            ).count
            // The id of the newest entry beyond the row bound; everything up to it goes.
            if let row = try await database.row(
                """
                SELECT id FROM prediction_log WHERE model_id = \(bind: model)
                    AND environment = \(bind: settings.environment)
                ORDER BY id DESC LIMIT 1 OFFSET \(bind: Int64(settings.maximumRows))
                """
            ) {
                removed += try await database.rows(
                    """
                    DELETE FROM prediction_log WHERE model_id = \(bind: model)
                        AND environment = \(bind: settings.environment) AND id <= \(bind: try row.int64("id"))
                    RETURNING id
                    """
                ).count
            }
            return removed
        }
    }

    // MARK: Alerts

    static func decodeRule(_ row: any SQLRow) throws -> StoredAlertRule {
        StoredAlertRule(
            id: try row.uuid("id"),
            modelID: try row.uuid("model_id"),
            name: try row.string("name"),
            metric: try row.string("metric"),
            comparison: try row.string("comparison"),
            threshold: try row.decode(column: "threshold", as: Double.self),
            windowSeconds: try row.int("window_seconds"),
            environment: try row.string("environment"),
            isFiring: try row.bool("firing"),
            changedAt: try row.date("changed_at"),
            createdAt: try row.date("created_at")
        )
    }

    public func allAlertRules() async throws -> [StoredAlertRule] {
        try await self.read("reading alert rules") { database in
            try await database.rows("SELECT * FROM alert_rules ORDER BY model_id, name").map(Self.decodeRule)
        }
    }

    public func alertRules(modelID: UUID) async throws -> [StoredAlertRule] {
        try await self.read("reading alert rules") { database in
            try await database.rows(
                "SELECT * FROM alert_rules WHERE model_id = \(bind: SQLValues.text(modelID)) ORDER BY name"
            ).map(Self.decodeRule)
        }
    }

    public func createAlertRule(_ rule: StoredAlertRule, event: ActivityEvent) async throws {
        try await self.write("creating an alert rule") { database in
            try await database.change(
                """
                INSERT INTO alert_rules (
                    id, model_id, name, metric, comparison, threshold, window_seconds, environment, firing,
                    changed_at, created_at
                ) VALUES (
                    \(bind: SQLValues.text(rule.id)), \(bind: SQLValues.text(rule.modelID)), \(bind: rule.name),
                    \(bind: rule.metric), \(bind: rule.comparison), \(bind: rule.threshold),
                    \(bind: Int64(rule.windowSeconds)), \(bind: rule.environment), \(bind: SQLValues.flag(rule.isFiring)),
                    \(bind: SQLValues.microseconds(rule.changedAt)), \(bind: SQLValues.microseconds(rule.createdAt))
                )
                """,
                unique: RegistryError.conflict("an alert rule named '\(rule.name)' already exists", field: "name")
            )
            _ = try await database.insertEvent(event)
        }
    }

    public func deleteAlertRule(modelID: UUID, name: String, event: ActivityEvent) async throws -> Bool {
        try await self.write("deleting an alert rule") { database in
            let deleted = try await database.rows(
                """
                DELETE FROM alert_rules WHERE model_id = \(bind: SQLValues.text(modelID)) AND name = \(bind: name)
                RETURNING id
                """
            )
            guard !deleted.isEmpty else { return false }
            _ = try await database.insertEvent(event)
            return true
        }
    }

    public func setAlertState(id: UUID, isFiring: Bool, at date: Date, event: ActivityEvent) async throws {
        try await self.write("changing an alert's state") { database in
            try await database.raw(
                """
                UPDATE alert_rules SET firing = \(bind: SQLValues.flag(isFiring)),
                    changed_at = \(bind: SQLValues.microseconds(date))
                WHERE id = \(bind: SQLValues.text(id))
                """
            ).run()
            _ = try await database.insertEvent(event)
        }
    }

    // MARK: Webhooks

    public func webhooks(modelID: UUID) async throws -> [Webhook] {
        try await self.read("reading webhooks") { database in
            try await database.rows(
                """
                SELECT * FROM webhooks WHERE model_id = \(bind: SQLValues.text(modelID)) ORDER BY created_at, id
                """
            ).map { row in
                Webhook(
                    id: try row.uuid("id"),
                    modelID: try row.uuid("model_id"),
                    url: try row.string("url"),
                    secret: try row.string("secret"),
                    createdAt: try row.date("created_at")
                )
            }
        }
    }

    public func createWebhook(_ webhook: Webhook, event: ActivityEvent) async throws {
        try await self.write("adding a webhook") { database in
            try await database.raw(
                """
                INSERT INTO webhooks (id, model_id, url, secret, created_at) VALUES (
                    \(bind: SQLValues.text(webhook.id)), \(bind: SQLValues.text(webhook.modelID)),
                    \(bind: webhook.url), \(bind: webhook.secret), \(bind: SQLValues.microseconds(webhook.createdAt))
                )
                """
            ).run()
            _ = try await database.insertEvent(event)
        }
    }

    public func deleteWebhook(modelID: UUID, id: UUID, event: ActivityEvent) async throws -> Bool {
        try await self.write("removing a webhook") { database in
            let deleted = try await database.rows(
                """
                DELETE FROM webhooks WHERE model_id = \(bind: SQLValues.text(modelID))
                    AND id = \(bind: SQLValues.text(id)) RETURNING id
                """
            )
            guard !deleted.isEmpty else { return false }
            _ = try await database.insertEvent(event)
            return true
        }
    }
}

/// The stored columns of outcomes that are not stored as they are, for consecutive outcomes: they mostly come from
/// one deployment, so its model id's text and its classes' JSON are made once, not per row.
struct OutcomeColumns {
    private var lastClasses: [String]?
    private var lastClassesJSON: String?
    private var lastModel: (id: UUID, text: String)?

    /// One outcome's model id text, time and latency in microseconds, classes and predictions JSON.
    mutating func row(
        _ outcome: PredictionOutcome
    ) throws -> (modelID: String, at: Int64, latency: Int64, classes: String?, predictions: String?) {
        var classesJSON: String?
        if let classes = outcome.classes {
            if classes != self.lastClasses {
                self.lastClasses = classes
                self.lastClassesJSON = OutcomeJSON.classes(classes)
            }
            classesJSON = self.lastClassesJSON
        }
        let model: String
        if let last = self.lastModel, last.id == outcome.modelID {
            model = last.text
        } else {
            model = SQLValues.text(outcome.modelID)
            self.lastModel = (outcome.modelID, model)
        }
        return (
            model,
            SQLValues.microseconds(outcome.at),
            Int64((outcome.latency * 1_000_000).rounded()),
            classesJSON,
            try outcome.predictions.map(OutcomeJSON.predictions)
        )
    }
}
