import Foundation
import SlipwayInference
import SlipwayRegistry
import SlipwayRuntime

/// What a deployment's inputs and predictions are expected to look like: the distribution drift is measured against,
/// and the bins its live statistics use.
///
/// Built once per deployment from its reference rows (``referenceRows(for:)``): the rows go through the same
/// input path as prediction requests, each numeric feature gets decile bins (``NumericSummary/quantileEdges(of:bins:)``)
/// and each categorical feature its category counts; the model is run on the rows and its predictions give the class
/// counts (classifiers) or decile bins of the predicted values (regressors). The profile is stored with the deployment
/// the first time any server process builds it, so every process bins the same way.
public struct ReferenceProfile: Sendable, Equatable, Codable {
    /// The largest number of reference rows used.
    public static let maximumRows = 10_000

    /// Where the rows came from: `samples` or `reference`.
    public var source: String
    /// How many reference rows were used (0: the deployment has none, so there is nothing to compare against).
    public var rows: Int
    /// The features, in order.
    public var featureOrder: [String]
    /// Each feature's reference distribution.
    public var features: [String: FeatureStatistics]
    /// The reference predictions, when the model ran on the rows.
    public var predictions: FeatureStatistics?
    /// Why no reference could be built from the rows, if so.
    public var problem: String?

    /// A profile with nothing to compare against.
    public static func empty(source: String, problem: String?) -> ReferenceProfile {
        ReferenceProfile(source: source, rows: 0, featureOrder: [], features: [:], predictions: nil, problem: problem)
    }

    /// The rows a deployment's drift is measured against: its reference rows if it has them (`reference`, the JSON
    /// array of rows sent with the deployment: `.reference(X)` in the SDK, `slipway deploy --reference FILE`), else
    /// its samples (`ndarray` rows when given, else `features` rows), at most ``maximumRows``.
    ///
    /// - Returns: the rows and their source (`reference` or `samples`), or `nil` when the deployment has neither.
    public static func referenceRows(
        for deployment: Deployment,
        reference: String? = nil
    ) -> (rows: PredictionRows, source: String)? {
        if let reference,
            let tree = try? JSONTree.parse(reference, field: "reference", limit: DeploymentInput.maximumReferenceSize),
            let list = tree.array, !list.isEmpty
        {
            let rows = list.prefix(self.maximumRows)
            if rows.allSatisfy({ $0.array != nil }) {
                return (.ndarray(rows.map { $0.array ?? [] }), "reference")
            }
            let objects = rows.compactMap(\.object)
            if objects.count == rows.count { return (.features(objects), "reference") }
        }
        guard let text = deployment.samples,
            let tree = try? JSONTree.parse(text, field: "samples", limit: DeploymentInput.maximumJSONFieldSize),
            let object = tree.object
        else { return nil }
        if let ndarray = object["ndarray"]?.array, !ndarray.isEmpty {
            let rows = ndarray.prefix(self.maximumRows).map { $0.array ?? [$0] }
            return (.ndarray(Array(rows)), "samples")
        }
        if let features = object["features"], !features.isNull {
            let list = features.array ?? [features]
            let rows = list.prefix(self.maximumRows).compactMap(\.object)
            if !rows.isEmpty { return (.features(Array(rows)), "samples") }
        }
        return nil
    }

    /// Builds the profile of a prepared deployment from its reference rows (CPU work: runs the model once on them).
    public static func make(for prepared: PreparedModel, reference: String? = nil) -> ReferenceProfile {
        guard let (rows, source) = self.referenceRows(for: prepared.deployment, reference: reference) else {
            return .empty(source: "samples", problem: "the deployment has no samples or reference rows")
        }
        let inputs: [String: Tensor]
        do {
            inputs = try InputBuilder.inputs(for: prepared, rows: rows)
        } catch {
            return .empty(source: source, problem: "the \(source) rows do not fit the model: \(error)")
        }
        var profile = ReferenceProfile(
            source: source,
            rows: rows.count,
            featureOrder: [],
            features: [:],
            predictions: nil,
            problem: nil
        )
        for (name, values) in FeatureColumns.columns(inputs, order: FeatureColumns.order(of: prepared)) {
            var statistics: FeatureStatistics
            switch values {
            case .numbers(let numbers):
                statistics = .numeric(edges: NumericSummary.quantileEdges(of: numbers) ?? NumericSummary.defaultEdges)
                for number in numbers { statistics.add(number: number, defaultEdges: NumericSummary.defaultEdges) }
            case .categories(let categories):
                statistics = .categorical()
                for category in categories { statistics.add(category: category) }
            }
            profile.featureOrder.append(name)
            profile.features[name] = statistics
        }
        do {
            let outputs = try prepared.session.run(inputs, outputNames: nil)
            let read = OutputReader.rows(outputs, count: rows.count, classCount: prepared.classes?.count)
            let predictions = read.map { Prediction($0, classes: prepared.classes) }
            let numbers = predictions.compactMap(\.number)
            var statistics: FeatureStatistics =
                numbers.isEmpty
                ? .categorical()
                : .numeric(edges: NumericSummary.quantileEdges(of: numbers) ?? NumericSummary.defaultEdges)
            for prediction in predictions { statistics.add(prediction) }
            profile.predictions = statistics
        } catch {
            profile.problem = "the model did not run on the \(source) rows: \(error)"
        }
        return profile
    }
}

/// One row's prediction as the statistics count it: a class (the most probable one, else the label) or a value.
enum Prediction: Equatable {
    case category(String)
    case number(Double)
    case none

    init(_ row: OutputReader.Row, classes: [String]?) {
        func name(_ index: Int) -> String {
            if let classes, index >= 0, index < classes.count { return classes[index] }
            return String(index)
        }
        if let probabilities = row.probabilities, !probabilities.isEmpty {
            var best = 0
            for index in probabilities.indices where probabilities[index] > probabilities[best] { best = index }
            self = .category(name(best))
            return
        }
        switch row.label {
        case .index(let index)?:
            self = .category(name(Int(clamping: index)))
            return
        case .name(let label)?:
            self = .category(label)
            return
        case nil:
            break
        }
        switch row.values.first {
        case .number(let value)?: self = value.isFinite ? .number(value) : .none
        case .integer(let value)?: self = .category(name(Int(clamping: value)))
        case .string(let value)?: self = .category(value)
        case .bool(let value)?: self = .category(value ? "true" : "false")
        case nil: self = .none
        }
    }

    var number: Double? {
        if case .number(let value) = self { return value }
        return nil
    }
}

extension FeatureStatistics {
    /// Adds one prediction: a class to the counts, a value to the numbers, nothing readable to the missing ones.
    mutating func add(_ prediction: Prediction) {
        switch prediction {
        case .category(let name): self.add(category: name)
        case .number(let value): self.add(number: value, defaultEdges: NumericSummary.defaultEdges)
        case .none: self.missing += 1
        }
    }
}
