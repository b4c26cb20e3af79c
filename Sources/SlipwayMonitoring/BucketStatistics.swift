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
    /// Input statistics per feature.
    public var features: [String: FeatureStatistics] = [:]
    /// The features in the order they were first seen (the schema's order).
    public var featureOrder: [String] = []

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
        for name in other.featureOrder where self.features[name] == nil { self.featureOrder.append(name) }
        for (name, statistics) in other.features {
            if self.features[name] == nil {
                self.features[name] = statistics
            } else {
                self.features[name]!.merge(statistics)
            }
        }
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
            let columns = FeatureColumns.columns(inputs, order: order)
            if let first = inputs.values.first { self.rows += Int64(first.shape.first ?? 1) }
            for (name, values) in columns {
                if self.features[name] == nil {
                    self.featureOrder.append(name)
                    self.features[name] = profile.features[name].map(Self.emptyCopy) ?? FeatureStatistics()
                }
                switch values {
                case .numbers(let numbers):
                    for number in numbers {
                        self.features[name]!.add(number: number, defaultEdges: NumericSummary.defaultEdges)
                    }
                case .categories(let categories):
                    for category in categories { self.features[name]!.add(category: category) }
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
        self.features = try container.decode([String: FeatureStatistics].self, forKey: .features)
        self.featureOrder = try container.decode([String].self, forKey: .featureOrder)
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
