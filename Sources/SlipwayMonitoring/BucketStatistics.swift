import SlipwayInference
import SlipwayRuntime

/// Everything measured about one deployment over one bucket (a minute, an hour, or any merged range): requests,
/// errors by code, latency, the prediction distribution and per-feature input statistics.
///
/// Buckets merge exactly: counts add, histograms add bin by bin, minimum and maximum combine.
public struct BucketStatistics: Sendable, Equatable {
    /// Prediction requests answered or refused.
    public var requests: Int64 = 0
    /// Requests refused (any status outside 2xx).
    public var errors: Int64 = 0
    /// Refused requests by error code (`schema_violation`, `rate_limited`, …; `http_<status>` without one).
    public var errorCodes: [String: Int64] = [:]
    /// Input rows that reached the model.
    public var rows: Int64 = 0
    /// Request latencies.
    public var latency = LatencyHistogram()
    /// The predictions: class counts (classifiers) or a value summary (regressors); `missing` counts rows whose
    /// output could not be read as either.
    public var predictions = FeatureStatistics()
    /// The features in the order they were first seen (the schema's order).
    public private(set) var featureOrder: [String] = []
    /// Input statistics per feature, in ``featureOrder`` (kept positionally: a request's columns arrive in that
    /// order, so counting them needs no lookup by name).
    public private(set) var featureStatistics: [FeatureStatistics] = []

    /// Input statistics per feature, by name; setting it keeps the order of the features already present and adds
    /// new ones by name.
    public var features: [String: FeatureStatistics] {
        get { Dictionary(zip(self.featureOrder, self.featureStatistics), uniquingKeysWith: { first, _ in first }) }
        set {
            var order: [String] = []
            var statistics: [FeatureStatistics] = []
            for name in self.featureOrder + newValue.keys.sorted() where !order.contains(name) {
                guard let feature = newValue[name] else { continue }
                order.append(name)
                statistics.append(feature)
            }
            self.featureOrder = order
            self.featureStatistics = statistics
        }
    }

    /// An empty bucket.
    public init() {}

    /// Whether nothing was recorded.
    public var isEmpty: Bool { self.requests == 0 && self.latency.count == 0 }

    /// Adds `other`.
    public mutating func merge(_ other: BucketStatistics) {
        self.requests += other.requests
        self.errors += other.errors
        for (code, count) in other.errorCodes { self.errorCodes[code, default: 0] += count }
        self.rows += other.rows
        self.latency.merge(other.latency)
        self.predictions.merge(other.predictions)
        for (position, name) in other.featureOrder.enumerated() {
            self.feature(name, at: position, orAdd: other.featureStatistics[position]) {
                $0.merge(other.featureStatistics[position])
            }
        }
    }

    /// Updates feature `name`, expected at `position` (its place in the request's columns), adding `initial`
    /// (unchanged by `update`) when the bucket has not seen it.
    private mutating func feature(
        _ name: String,
        at position: Int,
        orAdd initial: @autoclosure () -> FeatureStatistics,
        _ update: (inout FeatureStatistics) -> Void
    ) {
        let index: Int
        if position < self.featureOrder.count, self.featureOrder[position] == name {
            index = position
        } else if let found = self.featureOrder.firstIndex(of: name) {
            index = found
        } else {
            self.featureOrder.append(name)
            self.featureStatistics.append(initial())
            return
        }
        update(&self.featureStatistics[index])
    }

    /// Adds one prediction request of the deployment described by `profile`.
    mutating func add(_ record: PredictionRecord, profile: ReferenceProfile, order: [String]?) {
        self.requests += 1
        if !record.succeeded {
            self.errors += 1
            self.errorCodes[record.errorCode ?? "http_\(record.status)", default: 0] += 1
        }
        self.latency.record(seconds: record.latency)
        if let inputs = record.inputs {
            if let first = inputs.values.first { self.rows += Int64(first.shape.first ?? 1) }
            if !self.addNumericMatrix(inputs, profile: profile, order: order) {
                for (position, (name, values)) in FeatureColumns.columns(inputs, order: order).enumerated() {
                    self.ensureFeature(name, at: position, profile: profile)
                    self.feature(name, at: position, orAdd: FeatureStatistics()) { feature in
                        switch values {
                        case .numbers(let numbers):
                            for number in numbers {
                                feature.add(number: number, defaultEdges: NumericSummary.defaultEdges)
                            }
                        case .categories(let categories):
                            for category in categories { feature.add(category: category) }
                        }
                    }
                }
            }
        }
        if let outputs = record.outputs {
            if self.predictions.numeric == nil, self.predictions.categories == nil,
                let reference = profile.predictions
            {
                self.predictions = Self.emptyCopy(reference)
            }
            let classes = record.prepared?.classes
            for row in outputs { self.predictions.add(Prediction(row, classes: classes)) }
        }
    }

    /// Adds the reference's empty copy of feature `name` when the bucket has not seen it.
    private mutating func ensureFeature(_ name: String, at position: Int, profile: ReferenceProfile) {
        self.feature(name, at: position, orAdd: profile.features[name].map(Self.emptyCopy) ?? FeatureStatistics()) {
            _ in
        }
    }

    /// Counts one numeric `[N, F]` input (the common case: one matrix of numbers) column by column straight from the
    /// tensor, without splitting it into per-feature arrays; `false` for any other input, which takes
    /// ``FeatureColumns``. The features and their names are the same either way.
    private mutating func addNumericMatrix(
        _ inputs: [String: Tensor],
        profile: ReferenceProfile,
        order: [String]?
    )
        -> Bool
    {
        guard inputs.count == 1, let tensor = inputs.first?.value, tensor.shape.count >= 2 else { return false }
        let width = tensor.shape.dropFirst().reduce(1, *)
        guard width > 0, tensor.count % width == 0 else { return false }
        let rows = tensor.count / width
        let names = FeatureColumns.names(width: width, order: order)
        switch tensor.storage {
        case .float(let values):
            self.addColumns(names, rows: rows, width: width, profile: profile) { Double(values[$0]) }
        case .double(let values): self.addColumns(names, rows: rows, width: width, profile: profile) { values[$0] }
        case .int64(let values):
            self.addColumns(names, rows: rows, width: width, profile: profile) { Double(values[$0]) }
        case .int32(let values):
            self.addColumns(names, rows: rows, width: width, profile: profile) { Double(values[$0]) }
        case .bool, .string: return false
        }
        return true
    }

    private mutating func addColumns(
        _ names: ArraySlice<String>,
        rows: Int,
        width: Int,
        profile: ReferenceProfile,
        read: (Int) -> Double
    ) {
        // Every request after a bucket's first: it already has these features, in this order; count them in place.
        if self.featureOrder.count >= names.count, zip(self.featureOrder, names).allSatisfy({ $0 == $1 }) {
            let edges = NumericSummary.defaultEdges
            self.featureStatistics.withUnsafeMutableBufferPointer { features in
                for column in 0..<names.count {
                    for row in 0..<rows {
                        features[column].add(number: read(row * width + column), defaultEdges: edges)
                    }
                }
            }
            return
        }
        for (column, name) in zip(0..., names) {
            self.ensureFeature(name, at: column, profile: profile)
            self.feature(name, at: column, orAdd: FeatureStatistics()) { feature in
                for row in 0..<rows {
                    feature.add(number: read(row * width + column), defaultEdges: NumericSummary.defaultEdges)
                }
            }
        }
    }

    /// An empty feature with the same bins (numbers) or kind (categories) as `reference`.
    static func emptyCopy(_ reference: FeatureStatistics) -> FeatureStatistics {
        if let numeric = reference.numeric { return .numeric(edges: numeric.edges) }
        return .categorical()
    }
}

extension BucketStatistics: Codable {
    // Requests and errors are stored in their own columns (added up by the database), not in the payload.
    private enum CodingKeys: String, CodingKey {
        case errorCodes = "error_codes"
        case rows
        case latency
        case predictions
        case features
        case featureOrder = "feature_order"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.errorCodes = try container.decode([String: Int64].self, forKey: .errorCodes)
        self.rows = try container.decode(Int64.self, forKey: .rows)
        self.latency = try container.decode(LatencyHistogram.self, forKey: .latency)
        self.predictions = try container.decode(FeatureStatistics.self, forKey: .predictions)
        let features = try container.decode([String: FeatureStatistics].self, forKey: .features)
        self.featureOrder = try container.decode([String].self, forKey: .featureOrder)
        self.features = features
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(self.errorCodes, forKey: .errorCodes)
        try container.encode(self.rows, forKey: .rows)
        try container.encode(self.latency, forKey: .latency)
        try container.encode(self.predictions, forKey: .predictions)
        try container.encode(self.features, forKey: .features)
        try container.encode(self.featureOrder, forKey: .featureOrder)
    }
}
