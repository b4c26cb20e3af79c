import Foundation
import Logging
import SlipwayRegistry
import SlipwayRuntime
import Synchronization

/// Receives every prediction record and keeps it for the background flush: `record` appends to a locked buffer
/// and returns; ``FeedbackService`` converts and writes in batches.
///
/// The log settings are cached here so the flush decides sampling without reading the database.
public final class FeedbackRecorder: PredictionRecorder {
    struct SettingsKey: Hashable {
        var modelID: UUID
        var environment: String
    }

    private let buffer: Mutex<[PredictionRecord]>
    private let dropped = Mutex<Int>(0)
    private let settings = Mutex<[SettingsKey: PredictionLogSettings]>([:])
    let maximumBuffered: Int

    /// Creates a recorder that keeps at most `maximumBuffered` records between flushes.
    public init(maximumBuffered: Int = 20_000) {
        self.maximumBuffered = maximumBuffered
        var initial: [PredictionRecord] = []
        initial.reserveCapacity(1_024)
        self.buffer = Mutex(initial)
    }

    public func record(_ record: PredictionRecord) {
        // A shadow's answer never reached the caller: feedback on the request belongs to the one that did.
        guard !record.isShadow else { return }
        let kept = self.buffer.withLock { buffer -> Bool in
            guard buffer.count < self.maximumBuffered else { return false }
            buffer.append(record)
            return true
        }
        if !kept { self.dropped.withLock { $0 += 1 } }
    }

    /// Takes the buffered records and how many were dropped since the last call.
    func drain() -> (records: [PredictionRecord], dropped: Int) {
        let records = self.buffer.withLock { buffer -> [PredictionRecord] in
            let taken = buffer
            buffer.removeAll(keepingCapacity: true)
            return taken
        }
        let dropped = self.dropped.withLock { count -> Int in
            defer { count = 0 }
            return count
        }
        return (records, dropped)
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

    /// Splits records into outcomes (all of a known model) and log entries (sampled per environment's settings).
    ///
    /// - Parameter draw: returns a number in [0, 1) per logged-environment record (random; fixed in tests).
    func convert(
        _ records: [PredictionRecord],
        draw: () -> Double = { Double.random(in: 0..<1) }
    ) -> (outcomes: [PredictionOutcome], log: [PredictionLogEntry]) {
        var outcomes: [PredictionOutcome] = []
        var log: [PredictionLogEntry] = []
        outcomes.reserveCapacity(records.count)
        let cached = self.settings.withLock { $0 }
        for record in records {
            guard let outcome = RecordConversion.outcome(of: record) else { continue }
            outcomes.append(outcome)
            guard
                let settings = cached[SettingsKey(modelID: outcome.modelID, environment: outcome.environment)],
                settings.isEnabled, settings.sampleRate > 0, draw() < settings.sampleRate,
                let entry = RecordConversion.logEntry(of: record)
            else { continue }
            log.append(entry)
        }
        return (outcomes, log)
    }
}
