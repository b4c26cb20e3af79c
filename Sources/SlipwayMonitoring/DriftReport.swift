import Foundation

/// How far a deployment's live inputs and predictions have moved from its reference over a window: the population
/// stability index per feature and for the predictions, against the model's threshold.
public struct DriftReport: Sendable, Equatable {
    /// The window's start.
    public var from: Date
    /// The window's end.
    public var to: Date
    /// The model's drift threshold: an index above it counts as drifting.
    public var threshold: Double
    /// Input rows seen in the window.
    public var rows: Int64
    /// Where the reference came from (`samples` or `reference`).
    public var referenceSource: String
    /// How many reference rows the reference holds (0: none, so no index can be computed).
    public var referenceRows: Int
    /// The index per feature (features with values on both sides), in feature order.
    public var features: [(name: String, index: Double)]
    /// The index of the predictions, when both sides have some.
    public var predictions: Double?
    /// The features whose index is above the threshold, in feature order.
    public var drifting: [String]
    /// Whether the predictions' index is above the threshold.
    public var predictionsDrifting: Bool
    /// Why no index could be computed, when none could.
    public var problem: String?

    /// Whether anything drifts.
    public var isDrifting: Bool { !self.drifting.isEmpty || self.predictionsDrifting }

    /// Compares `live` (the statistics over the window) with `profile`.
    public static func make(
        profile: ReferenceProfile?,
        live: BucketStatistics,
        threshold: Double,
        from: Date,
        to: Date
    ) -> DriftReport {
        var report = DriftReport(
            from: from,
            to: to,
            threshold: threshold,
            rows: live.rows,
            referenceSource: profile?.source ?? "samples",
            referenceRows: profile?.rows ?? 0,
            features: [],
            predictions: nil,
            drifting: [],
            predictionsDrifting: false,
            problem: nil
        )
        guard let profile else {
            report.problem = "no reference profile yet: the deployment has not served a prediction"
            return report
        }
        guard profile.rows > 0 else {
            report.problem = profile.problem ?? "the deployment has no reference rows"
            return report
        }
        for name in profile.featureOrder {
            guard let reference = profile.features[name], let actual = live.features[name],
                let index = PopulationStabilityIndex.compute(reference: reference, live: actual)
            else { continue }
            report.features.append((name, index))
            if index > threshold { report.drifting.append(name) }
        }
        if let reference = profile.predictions {
            report.predictions = PopulationStabilityIndex.compute(reference: reference, live: live.predictions)
            report.predictionsDrifting = (report.predictions ?? 0) > threshold
        }
        if report.features.isEmpty && report.predictions == nil {
            report.problem = live.rows == 0 ? "no predictions in the window" : profile.problem
        }
        return report
    }

    public static func == (left: DriftReport, right: DriftReport) -> Bool {
        left.from == right.from && left.to == right.to && left.threshold == right.threshold && left.rows == right.rows
            && left.referenceSource == right.referenceSource && left.referenceRows == right.referenceRows
            && left.features.map(\.name) == right.features.map(\.name)
            && left.features.map(\.index) == right.features.map(\.index) && left.predictions == right.predictions
            && left.drifting == right.drifting && left.predictionsDrifting == right.predictionsDrifting
            && left.problem == right.problem
    }
}
