import Foundation
import Logging
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Receives every prediction record and keeps what the background flush writes: `record` turns the record into its
/// compact outcome (and, when the environment's log samples it, keeps the record for its log entry), appends under a
/// lock and returns; ``FeedbackService`` writes in batches.
///
/// Converting on the request's path costs about a microsecond per request, spread evenly; converting whole buffers
/// in the background cost the same in bursts that showed in the requests' tail latency.
///
/// The log settings are cached here so that sampling is decided without reading the database.
public final class FeedbackRecorder: PredictionRecorder {
    struct SettingsKey: Hashable {
        var modelID: UUID
        var environment: String
    }

    /// What the next flush writes.
    struct Pending {
        var outcomes: [PredictionOutcome] = []
        /// Records the prediction log sampled (their entries are made by the flush).
        var logged: [PredictionRecord] = []
    }

    private let pending: Mutex<Pending>
    private let dropped = Mutex<Int>(0)
    private let settings = Mutex<[SettingsKey: PredictionLogSettings]>([:])
    let maximumBuffered: Int
    /// Returns a number in [0, 1) per request of a logged environment (random; fixed in tests).
    let draw: @Sendable () -> Double

    /// Creates a recorder that keeps at most `maximumBuffered` records between flushes.
    ///
    /// - Parameter draw: a number in [0, 1) per request of a logged environment (random; fixed in tests).
    public init(
        maximumBuffered: Int = 50_000,
        draw: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }
    ) {
        self.maximumBuffered = maximumBuffered
        self.draw = draw
        var initial = Pending()
        initial.outcomes.reserveCapacity(1_024)
        self.pending = Mutex(initial)
    }

    public func record(_ record: PredictionRecord) {
        // A shadow's answer never reached the caller: feedback on the request belongs to the one that did. A request
        // that never reached a model has nothing to join feedback with.
        guard !record.isShadow, let outcome = RecordConversion.outcome(of: record) else { return }
        let logged = self.isSampled(outcome)
        let kept = self.pending.withLock { pending -> Bool in
            guard pending.outcomes.count < self.maximumBuffered else { return false }
            pending.outcomes.append(outcome)
            if logged { pending.logged.append(record) }
            return true
        }
        if !kept { self.dropped.withLock { $0 += 1 } }
    }

    /// How many outcomes wait for the next flush.
    var bufferedCount: Int {
        self.pending.withLock { $0.outcomes.count }
    }

    /// Whether the prediction log of the outcome's environment samples this request.
    func isSampled(_ outcome: PredictionOutcome) -> Bool {
        guard let settings = self.settings(modelID: outcome.modelID, environment: outcome.environment),
            settings.isEnabled, settings.sampleRate > 0
        else { return false }
        return self.draw() < settings.sampleRate
    }

    /// Takes the buffered outcomes and sampled records, and how many requests were dropped since the last call.
    func drain() -> (outcomes: [PredictionOutcome], logged: [PredictionRecord], dropped: Int) {
        let taken = self.pending.withLock { pending -> Pending in
            let taken = pending
            pending.outcomes.removeAll(keepingCapacity: true)
            pending.logged.removeAll(keepingCapacity: true)
            return taken
        }
        let dropped = self.dropped.withLock { count -> Int in
            defer { count = 0 }
            return count
        }
        return (taken.outcomes, taken.logged, dropped)
    }

    /// Replaces the cached log settings.
    func replaceSettings(_ all: [PredictionLogSettings]) {
        var map: [SettingsKey: PredictionLogSettings] = [:]
        for item in all { map[SettingsKey(modelID: item.modelID, environment: item.environment)] = item }
        self.settings.withLock { $0 = map }
    }

    /// Updates one environment's cached settings (after a change through the API on this node).
    func updateSettings(_ item: PredictionLogSettings) {
        self.settings.withLock { $0[SettingsKey(modelID: item.modelID, environment: item.environment)] = item }
    }

    /// The cached settings of an environment.
    func settings(modelID: UUID, environment: String) -> PredictionLogSettings? {
        self.settings.withLock { $0[SettingsKey(modelID: modelID, environment: environment)] }
    }

    /// Every cached setting.
    func allSettings() -> [PredictionLogSettings] {
        self.settings.withLock { Array($0.values) }
    }
}
