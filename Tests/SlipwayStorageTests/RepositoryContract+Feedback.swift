import Foundation
import SlipwayRegistry
import SlipwayStorage
import Testing

extension RepositoryContract {
    // MARK: Monitoring: outcomes, feedback, the prediction log, alerts, webhooks

    static func outcome(_ id: String, _ model: Model, at seconds: Double, status: Int = 200) -> PredictionOutcome {
        PredictionOutcome(
            requestID: id,
            modelID: model.id,
            environment: "production",
            version: 1,
            at: Fixtures.at(seconds),
            status: status,
            latency: 0.002,
            classes: ["a", "b"],
            predictions: status == 200 ? [OutcomePrediction(label: "a", probabilities: [0.75, 0.25])] : nil
        )
    }

    static func storesOutcomesAndFeedback(_ repository: SQLRegistryRepository) async throws {
        let (model, _) = try await Fixtures.model(repository)
        let first = Self.outcome("r1", model, at: 0)
        try await repository.insertOutcomes([first, Self.outcome("r2", model, at: 10)])
        // A background write (SQLite: on the lower-priority thread's connection) stores the same way.
        let failed = Self.outcome("r3", model, at: 20, status: 503)
        try await repository.insertOutcomes([failed], priority: .background)
        #expect(try await repository.outcome(requestID: "r3", modelID: model.id) == failed)
        // A request id already stored is left as it is, whichever connection writes it.
        try await repository.insertOutcomes([Self.outcome("r1", model, at: 99)])
        try await repository.insertOutcomes([Self.outcome("r1", model, at: 98)], priority: .background)
        #expect(try await repository.outcome(requestID: "r1", modelID: model.id) == first)
        #expect(try await repository.outcome(requestID: "r1", modelID: UUID()) == nil)

        let window = try await repository.requestWindow(
            modelID: model.id,
            environment: "production",
            since: Fixtures.at(-1)
        )
        #expect(window.requests == 3 && window.errors == 1 && window.latencies.count == 2)

        let entry = FeedbackEntry(
            requestID: "r1",
            row: 0,
            modelID: model.id,
            at: Fixtures.at(30),
            label: "b",
            outcome: 2
        )
        try await repository.insertFeedback([entry])
        #expect(try await repository.feedback(modelID: model.id, requestID: "r1", row: 0) == entry)
        await expectRegistryError(.conflict) { try await repository.insertFeedback([entry]) }
        await expectRegistryError(.notFound) {
            try await repository.insertFeedback([
                FeedbackEntry(requestID: "zz", row: 0, modelID: model.id, at: Fixtures.at(30))
            ])
        }
        let joined = try await repository.joinedFeedback(
            modelID: model.id,
            environment: "production",
            from: Fixtures.at(-1),
            to: Fixtures.at(100),
            version: 1
        )
        #expect(joined.count == 1 && joined.first?.prediction.label == "a" && joined.first?.feedback == entry)
        #expect(joined.first?.classes == ["a", "b"])

        // Pruning removes old outcomes with their feedback.
        #expect(try await repository.pruneOutcomes(before: Fixtures.at(5)) == 1)
        #expect(try await repository.outcome(requestID: "r1", modelID: model.id) == nil)
        #expect(try await repository.feedback(modelID: model.id, requestID: "r1", row: 0) == nil)
    }

    /// One call with more rows than one statement takes (500), alternating between two models, with and without
    /// classes and predictions: every row is stored as given, and a duplicate inside the call is skipped.
    static func storesOutcomeBatchesAcrossStatements(_ repository: SQLRegistryRepository) async throws {
        let (first, _) = try await Fixtures.model(repository)
        let (second, _) = try await Fixtures.model(repository, name: "upsell")
        var outcomes: [PredictionOutcome] = []
        for index in 0..<1_203 {
            var outcome = Self.outcome("b\(index)", index % 3 == 0 ? second : first, at: Double(index))
            if index % 5 == 0 { outcome.classes = nil }
            if index % 7 == 0 {
                outcome.predictions = [OutcomePrediction(value: Double(index) / 8), OutcomePrediction(value: -1.5)]
            }
            outcomes.append(outcome)
        }
        try await repository.insertOutcomes(outcomes + [Self.outcome("b1", first, at: 5_000)])
        for index in [0, 1, 499, 500, 501, 999, 1_000, 1_202] {
            let expected = outcomes[index]
            #expect(try await repository.outcome(requestID: expected.requestID, modelID: expected.modelID) == expected)
        }
        let firstWindow = try await repository.requestWindow(
            modelID: first.id,
            environment: "production",
            since: Fixtures.at(-1)
        )
        let secondWindow = try await repository.requestWindow(
            modelID: second.id,
            environment: "production",
            since: Fixtures.at(-1)
        )
        #expect(firstWindow.requests == 802 && secondWindow.requests == 401)
    }

    static func boundsThePredictionLog(_ repository: SQLRegistryRepository) async throws {
        let (model, _) = try await Fixtures.model(repository)
        let settings = PredictionLogSettings(
            modelID: model.id,
            environment: "production",
            isEnabled: true,
            sampleRate: 0.5,
            maximumRows: 3,
            maximumAgeDays: 1
        )
        try await repository.savePredictionLogSettings(settings, event: Fixtures.event(model.id, .predictionLogUpdated))
        #expect(try await repository.allPredictionLogSettings() == [settings])
        let entries = (0..<6).map { index in
            PredictionLogEntry(
                modelID: model.id,
                environment: "production",
                version: 1 + index % 2,
                requestID: "q\(index)",
                at: Fixtures.at(Double(index) * 3_600 * 5),
                keyName: index == 0 ? nil : "k",
                inputs: "[[1]]",
                outputs: "[{\"label\":\"a\"}]",
                latency: 0.001,
                status: 200
            )
        }
        try await repository.insertLogEntries(Array(entries.prefix(3)))
        try await repository.insertLogEntries(Array(entries.dropFirst(3)), priority: .background)
        let all = try await repository.logEntries(
            modelID: model.id,
            environment: "production",
            query: PredictionLogQuery()
        )
        #expect(all.map(\.requestID) == ["q5", "q4", "q3", "q2", "q1", "q0"])
        let page = try await repository.logEntries(
            modelID: model.id,
            environment: "production",
            query: PredictionLogQuery(version: 2, limit: 2)
        )
        #expect(page.map(\.requestID) == ["q5", "q3"])
        let next = try await repository.logEntries(
            modelID: model.id,
            environment: "production",
            query: PredictionLogQuery(version: 2, limit: 2, before: page.last?.id)
        )
        #expect(next.map(\.requestID) == ["q1"])
        // Now = q5's time: q0 is 25 h old (older than a day); of the rest, only the newest 3 stay.
        let removed = try await repository.pruneLog(settings, now: Fixtures.at(25 * 3_600))
        #expect(removed == 3)
        let kept = try await repository.logEntries(
            modelID: model.id,
            environment: "production",
            query: PredictionLogQuery()
        )
        #expect(kept.map(\.requestID) == ["q5", "q4", "q3"])
    }

    static func storesAlertRulesAndWebhooks(_ repository: SQLRegistryRepository) async throws {
        let (model, _) = try await Fixtures.model(repository)
        let rule = StoredAlertRule(
            id: UUID(),
            modelID: model.id,
            name: "slow",
            metric: "p99_ms",
            comparison: ">",
            threshold: 20.5,
            windowSeconds: 300,
            environment: "production",
            isFiring: false,
            changedAt: Fixtures.at(0),
            createdAt: Fixtures.at(0)
        )
        try await repository.createAlertRule(rule, event: Fixtures.event(model.id, .alertCreated))
        await expectRegistryError(.conflict) {
            var copy = rule
            copy.id = UUID()
            try await repository.createAlertRule(copy, event: Fixtures.event(model.id, .alertCreated))
        }
        #expect(try await repository.alertRules(modelID: model.id) == [rule])
        try await repository.setAlertState(
            id: rule.id,
            isFiring: true,
            at: Fixtures.at(5),
            event: Fixtures.event(model.id, .alertFiring)
        )
        let firing = try await repository.allAlertRules()
        #expect(firing.first?.isFiring == true && firing.first?.changedAt == Fixtures.at(5))
        #expect(
            try await repository.deleteAlertRule(
                modelID: model.id,
                name: "slow",
                event: Fixtures.event(model.id, .alertDeleted)
            )
        )
        #expect(
            try await !repository.deleteAlertRule(
                modelID: model.id,
                name: "slow",
                event: Fixtures.event(model.id, .alertDeleted)
            )
        )

        let hook = Webhook(
            id: UUID(),
            modelID: model.id,
            url: "https://example.com/h",
            secret: "s3cret",
            createdAt: Fixtures.at(1)
        )
        try await repository.createWebhook(hook, event: Fixtures.event(model.id, .webhookCreated))
        #expect(try await repository.webhooks(modelID: model.id) == [hook])
        #expect(
            try await repository.deleteWebhook(
                modelID: model.id,
                id: hook.id,
                event: Fixtures.event(model.id, .webhookDeleted)
            )
        )
        #expect(try await repository.webhooks(modelID: model.id).isEmpty)
        let actions = try await repository.listActivity(
            modelID: model.id,
            filter: ActivityFilter(),
            page: try PageRequest(page: 1, size: 50)
        )
        .items.map(\.action)
        #expect(actions.contains(.alertFiring) && actions.contains(.webhookDeleted))
    }
}
