import Foundation
import SlipwayFeedback
import SlipwayMonitoring

/// Drift alert rules read the population stability index from the statistics module.
struct StatisticsDriftSource: DriftSource {
    let reader: StatisticsReader

    func drift(modelID: UUID, environment: String, windowSeconds: Int) async throws -> Double? {
        try await self.reader.currentDrift(modelID: modelID, environment: environment, windowSeconds: windowSeconds)
    }
}
