/// What one input feature looked like in a bucket: how many values, how many were missing, and either a numeric
/// summary (count, minimum, maximum, mean, histogram over the reference's bins) or category counts.
public struct FeatureStatistics: Sendable, Equatable, Codable {
    /// At most this many categories are counted by name per feature and bucket; the rest are added to
    /// ``otherCategories``.
    public static let maximumCategories = 100

    /// Values that were missing (`null`, sent as NaN to the model).
    public var missing: Int64 = 0
    /// The numbers, for a numeric feature.
    public var numeric: NumericSummary?
    /// Counts per category (strings; booleans as `true`/`false`), for a categorical feature.
    public var categories: [String: Int64]?
    /// Values of categories beyond ``maximumCategories``.
    public var otherCategories: Int64 = 0

    /// An empty numeric feature over bins with these upper edges.
    public static func numeric(edges: [Double]) -> FeatureStatistics {
        var statistics = FeatureStatistics()
        statistics.numeric = NumericSummary(edges: edges)
        return statistics
    }

    /// An empty categorical feature.
    public static func categorical() -> FeatureStatistics {
        var statistics = FeatureStatistics()
        statistics.categories = [:]
        return statistics
    }

    /// How many values were present (not missing).
    public var count: Int64 {
        if let numeric { return numeric.count }
        return (self.categories?.values.reduce(0, +) ?? 0) + self.otherCategories
    }

    /// Adds one number; NaN counts as missing.
    mutating func add(number: Double, defaultEdges: [Double]) {
        guard number.isFinite else {
            self.missing += 1
            return
        }
        if case .none = self.numeric { self.numeric = NumericSummary(edges: defaultEdges) }
        self.numeric!.add(number)
    }

    /// Adds one category value.
    mutating func add(category: String) {
        if self.categories == nil { self.categories = [:] }
        if self.categories![category] != nil {
            self.categories![category]! += 1
        } else if self.categories!.count < Self.maximumCategories {
            self.categories![category] = 1
        } else {
            self.otherCategories += 1
        }
    }

    /// Adds `other`; categories beyond the cap keep the most frequent ones by name (ties by name) and count the rest
    /// as other.
    public mutating func merge(_ other: FeatureStatistics) {
        self.missing += other.missing
        if let numeric = other.numeric {
            if self.numeric == nil {
                self.numeric = numeric
            } else {
                self.numeric!.merge(numeric)
            }
        }
        if let categories = other.categories {
            var merged = self.categories ?? [:]
            for (name, count) in categories { merged[name, default: 0] += count }
            self.otherCategories += other.otherCategories
            if merged.count > Self.maximumCategories {
                let ranked = merged.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                for (_, count) in ranked.dropFirst(Self.maximumCategories) { self.otherCategories += count }
                merged = Dictionary(
                    uniqueKeysWithValues: ranked.prefix(Self.maximumCategories).map { ($0.key, $0.value) }
                )
            }
            self.categories = merged
        } else {
            self.otherCategories += other.otherCategories
        }
    }
}
