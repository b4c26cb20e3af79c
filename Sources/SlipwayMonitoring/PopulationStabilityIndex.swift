import Foundation

/// The population stability index between a reference distribution and a live one over the same bins:
///
///     PSI = Σᵢ (aᵢ − eᵢ) · ln(aᵢ / eᵢ)
///
/// where `eᵢ` is the reference's share of bin `i` and `aᵢ` the live share, each share raised to at least
/// ``epsilon`` so that a bin empty on one side adds a large but finite term. 0 means identical distributions;
/// by the usual rule of thumb below 0.1 is stable, 0.1–0.2 a moderate shift and above 0.2 a significant one.
public enum PopulationStabilityIndex {
    /// The smallest share a bin is given (0.0001), so empty bins do not divide by zero.
    public static let epsilon = 1e-4

    /// The index between two histograms over the same bins (counts, not shares).
    ///
    /// - Returns: `nil` when either side has no values or the bin counts differ.
    public static func compute(reference: [Int64], live: [Int64]) -> Double? {
        guard reference.count == live.count, !reference.isEmpty else { return nil }
        let referenceTotal = Double(reference.reduce(0, +))
        let liveTotal = Double(live.reduce(0, +))
        guard referenceTotal > 0, liveTotal > 0 else { return nil }
        var index = 0.0
        for bin in reference.indices {
            let expected = max(Double(reference[bin]) / referenceTotal, self.epsilon)
            let actual = max(Double(live[bin]) / liveTotal, self.epsilon)
            index += (actual - expected) * log(actual / expected)
        }
        return index
    }

    /// The index between two category counts: the bins are the union of both sides' categories, plus one bin for
    /// values counted as "other" beyond the category cap.
    public static func compute(
        reference: [String: Int64],
        referenceOther: Int64 = 0,
        live: [String: Int64],
        liveOther: Int64 = 0
    ) -> Double? {
        let names = Set(reference.keys).union(live.keys).sorted()
        var expected = names.map { reference[$0] ?? 0 }
        var actual = names.map { live[$0] ?? 0 }
        if referenceOther > 0 || liveOther > 0 {
            expected.append(referenceOther)
            actual.append(liveOther)
        }
        return self.compute(reference: expected, live: actual)
    }

    /// The index between a feature's (or the predictions') reference and live statistics: over the reference's bins
    /// for numbers, over the categories for categorical values.
    ///
    /// - Returns: `nil` when either side has no values or they are of different kinds.
    public static func compute(reference: FeatureStatistics, live: FeatureStatistics) -> Double? {
        if let expected = reference.numeric, let actual = live.numeric {
            guard expected.edges == actual.edges else { return nil }
            return self.compute(reference: expected.counts, live: actual.counts)
        }
        if let expected = reference.categories, let actual = live.categories {
            return self.compute(
                reference: expected,
                referenceOther: reference.otherCategories,
                live: actual,
                liveOther: live.otherCategories
            )
        }
        return nil
    }
}
