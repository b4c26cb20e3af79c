import Foundation
import SlipwayInference
import SlipwayRegistry

/// Checks a new deployment before it may serve: loads the artifact with the engine, checks the model's inputs
/// against the schema and the samples, runs every sample row (each form: `ndarray` and `features`), and compares
/// the outputs with `samples.expected` when given.
///
/// The schema fits the model when the model has one 2-D input `[?, F]` (F = the number of features in
/// `schema.ndarray`, else in `schema.features`), or one input per feature named like the features. Numeric
/// features need numeric inputs and string features string inputs. Expected outputs are a class label (compared
/// with the label output, mapped through `classes`), a class index, a number or a list of numbers (compared with
/// the first numeric output within 1e-4 relative + 1e-5 absolute).
///
/// Verification is synchronous CPU work: run it off the cooperative pool.
///
/// ```swift
/// let outcome = Verifier.verify(deployment) { try artifacts.read(digest: deployment.artifactDigest) }
/// if outcome.status == .failed { print(outcome.reason!) }
/// ```
public enum Verifier {
    /// The result of a verification.
    public struct Outcome: Sendable {
        /// `verified` or `failed`.
        public var status: DeploymentStatus
        /// Why it failed, naming the sample, input or output and what was expected.
        public var reason: String?
        /// The report (JSON text): the engine's view of inputs and outputs, per sample row its form, outputs
        /// and latency in µs, the total, and the error when it failed.
        public var report: String
        /// The loaded session when verified, so it can be kept warm.
        public var session: InferenceSession?
    }

    /// The relative part of the tolerance for expected numbers.
    public static let relativeTolerance = 1e-4
    /// The absolute part of the tolerance for expected numbers.
    public static let absoluteTolerance = 1e-5

    /// Verifies a deployment.
    ///
    /// - Parameters:
    ///   - deployment: the deployment, with its schema, samples and classes.
    ///   - artifact: reads the artifact's bytes (checked against the digest).
    public static func verify(_ deployment: Deployment, artifact: () throws -> Data) -> Outcome {
        var report: [(String, JSONValue)] = []
        let session: InferenceSession
        do {
            session = InferenceSession(model: try ModelLoader.load(data: try artifact()))
        } catch {
            let reason = "the artifact cannot be loaded: \(error)"
            report.append(("error", .string(reason)))
            return Outcome(status: .failed, reason: reason, report: JSONValue.object(report).serialized(), session: nil)
        }
        report.append(("engine", Self.describe(session.model)))
        var samplesReport: [JSONValue] = []
        var totalMicroseconds: Int64 = 0
        do {
            let schema = FeatureSchema.parse(deployment.schema)
            let classes = PreparedModel.parseClasses(deployment.classes)
            let layout = try InputLayout.make(session.model, schema: schema)
            report.append(("layout", .string(layout.name)))
            let samples = try SampleSet.parse(deployment.samples)
            // Sample rows become inputs exactly as prediction rows do (schema rules included).
            let prepared = PreparedModel(
                model: SlipwayRegistry.Model(
                    id: deployment.modelID,
                    owner: "",
                    name: "",
                    createdAt: deployment.createdAt
                ),
                environment: deployment.environmentName,
                deployment: deployment,
                session: session,
                schema: schema,
                classes: classes
            )
            for (form, rows) in [("ndarray", samples.ndarray), ("features", samples.features)] {
                for (index, row) in rows.enumerated() {
                    let sample = "samples.\(form)[\(index)]"
                    let inputs: [String: Tensor]
                    do {
                        inputs = try InputBuilder.inputs(
                            for: prepared,
                            rows: form == "ndarray" ? .ndarray([row.array ?? [row]]) : .features([row.object ?? [:]])
                        )
                    } catch {
                        throw VerificationFailure("\(sample): \(error)")
                    }
                    let started = DispatchTime.now().uptimeNanoseconds
                    let outputs: [(String, Value)]
                    do {
                        outputs = try session.run(inputs, outputNames: nil)
                    } catch {
                        throw VerificationFailure("\(sample) does not run: \(error)")
                    }
                    let microseconds = Int64((DispatchTime.now().uptimeNanoseconds - started) / 1_000)
                    totalMicroseconds += microseconds
                    var entry: [(String, JSONValue)] = [
                        ("form", .string(form)),
                        ("row", .int(Int64(index))),
                        ("inputs", .array(inputs.sorted { $0.key < $1.key }.map { Self.describe($0.key, $0.value) })),
                        ("outputs", .array(outputs.map { InferenceResponse.encode(name: $0.0, value: $0.1) })),
                        ("latency_us", .int(microseconds)),
                    ]
                    if let expected = samples.expected?[index] {
                        entry.append(("expected", Self.jsonValue(expected)))
                        samplesReport.append(.object(entry))
                        try Self.check(expected, outputs: outputs, classes: classes, sample: sample)
                    } else {
                        samplesReport.append(.object(entry))
                    }
                }
            }
        } catch {
            let reason = (error as? VerificationFailure)?.reason ?? "\(error)"
            report.append(("samples", .array(samplesReport)))
            report.append(("total_latency_us", .int(totalMicroseconds)))
            report.append(("error", .string(reason)))
            return Outcome(status: .failed, reason: reason, report: JSONValue.object(report).serialized(), session: nil)
        }
        report.append(("samples", .array(samplesReport)))
        report.append(("total_latency_us", .int(totalMicroseconds)))
        return Outcome(status: .verified, reason: nil, report: JSONValue.object(report).serialized(), session: session)
    }

    // MARK: Expected outputs

    /// Compares one expected entry with a sample row's outputs.
    static func check(_ expected: JSONTree, outputs: [(String, Value)], classes: [String]?, sample: String) throws {
        let label = outputs.first { _, value in
            guard let tensor = value.tensor, tensor.count == 1 else { return false }
            return [.int64, .int32, .string].contains(tensor.elementType)
        }
        let scores = outputs.lazy.compactMap { name, value -> (String, [Double])? in
            switch value {
            case .mapSequence(let map): return map.scores.floats.map { (name, $0.map(Double.init)) }
            case .tensor(let tensor):
                if let floats = tensor.floats { return (name, floats.map(Double.init)) }
                if let doubles = tensor.doubles { return (name, doubles) }
                return nil
            }
        }.first
        switch expected {
        case .string(let wanted):
            guard let (name, value) = label, let tensor = value.tensor else {
                throw VerificationFailure("\(sample): expected class '\(wanted)', but the model has no label output")
            }
            let got = Self.labelText(tensor, classes: classes)
            guard got == wanted else {
                throw VerificationFailure("\(sample): expected class '\(wanted)', got '\(got)' (output '\(name)')")
            }
        case .integer(let wanted) where label != nil:
            let (name, value) = label!
            let tensor = value.tensor!
            let got: Int64?
            if let text = tensor.strings?.first {
                got = classes?.firstIndex(of: text).map(Int64.init) ?? Int64(text)
            } else {
                got = tensor.int64s?.first ?? tensor.int32s?.first.map(Int64.init)
            }
            guard got == wanted else {
                throw VerificationFailure(
                    "\(sample): expected class index \(wanted), got \(got.map(String.init) ?? Self.labelText(tensor, classes: classes)) (output '\(name)')"
                )
            }
        case .integer, .number:
            let wanted = expected.number!
            guard let (name, values) = scores else {
                throw VerificationFailure(
                    "\(sample): expected the number \(wanted), but the model has no numeric output"
                )
            }
            guard values.count == 1 else {
                throw VerificationFailure(
                    "\(sample): expected one number (\(wanted)), but output '\(name)' has \(values.count) values"
                )
            }
            guard Self.isClose(values[0], wanted) else {
                throw VerificationFailure(
                    "\(sample): expected \(wanted), got \(values[0]) (output '\(name)'; tolerance 1e-4 relative + 1e-5 absolute)"
                )
            }
        case .array(let items):
            let wanted = items.compactMap(\.number)
            guard let (name, values) = scores else {
                throw VerificationFailure("\(sample): expected \(wanted), but the model has no numeric output")
            }
            guard values.count == wanted.count else {
                throw VerificationFailure(
                    "\(sample): expected \(wanted.count) numbers, output '\(name)' has \(values.count): \(values)"
                )
            }
            if let index = values.indices.first(where: { !Self.isClose(values[$0], wanted[$0]) }) {
                throw VerificationFailure(
                    "\(sample): expected \(wanted), got \(values) (output '\(name)', value \(index) differs: "
                        + "\(values[index]) vs \(wanted[index]); tolerance 1e-4 relative + 1e-5 absolute)"
                )
            }
        default:
            throw VerificationFailure("\(sample): the expected output is not a label, an index, a number or numbers")
        }
    }

    /// Whether `got` is within tolerance of `wanted`.
    static func isClose(_ got: Double, _ wanted: Double) -> Bool {
        if got.isNaN || wanted.isNaN { return got.isNaN && wanted.isNaN }
        return abs(got - wanted) <= Self.absoluteTolerance + Self.relativeTolerance * abs(wanted)
    }

    /// A label output's value as text, mapped through the classes for an index.
    static func labelText(_ tensor: Tensor, classes: [String]?) -> String {
        if let text = tensor.strings?.first { return text }
        let index = tensor.int64s?.first ?? tensor.int32s?.first.map(Int64.init) ?? -1
        if let classes, index >= 0, index < classes.count { return classes[Int(index)] }
        return String(index)
    }

    // MARK: Report

    static func describe(_ model: SlipwayInference.Model) -> JSONValue {
        func info(_ value: ValueInfo) -> JSONValue {
            .object([
                ("name", .string(value.name)),
                ("type", .string(value.type.description)),
                ("shape", value.shape.map { .array($0.map { .string($0.description) }) } ?? .null),
            ])
        }
        return .object([
            ("inputs", .array(model.inputs.map(info))),
            ("outputs", .array(model.outputs.map(info))),
            ("producer", .string("\(model.producerName) \(model.producerVersion)")),
            ("bytes", .int(Int64(model.byteCount))),
        ])
    }

    static func describe(_ name: String, _ tensor: Tensor) -> JSONValue {
        .object([
            ("name", .string(name)),
            ("type", .string(tensor.elementType.rawValue)),
            ("shape", .array(tensor.shape.map { .int(Int64($0)) })),
        ])
    }

    static func jsonValue(_ tree: JSONTree) -> JSONValue {
        switch tree {
        case .null: .null
        case .bool(let value): .bool(value)
        case .integer(let value): .int(value)
        case .number(let value): .double(value)
        case .string(let value): .string(value)
        case .array(let values): .array(values.map(Self.jsonValue))
        case .object(let members):
            .object(members.sorted { $0.key < $1.key }.map { ($0.key, Self.jsonValue($0.value)) })
        }
    }
}

/// A reason verification failed.
struct VerificationFailure: Error, CustomStringConvertible {
    var reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { self.reason }
}

/// The sample rows of a deployment, by form, and the expected outputs.
struct SampleSet {
    var ndarray: [JSONTree] = []
    var features: [JSONTree] = []
    var expected: [JSONTree]?

    static func parse(_ text: String?) throws -> SampleSet {
        guard let text else { return SampleSet() }
        let tree: JSONTree
        do {
            tree = try JSONTree.parse(text, field: "samples", limit: DeploymentInput.maximumJSONFieldSize)
        } catch {
            throw VerificationFailure("samples are not valid JSON: \(error)")
        }
        guard let object = tree.object else { return SampleSet() }
        var set = SampleSet()
        set.ndarray = object["ndarray"]?.array ?? []
        if let features = object["features"], !features.isNull { set.features = features.array ?? [features] }
        set.expected = object["expected"]?.array
        return set
    }
}

/// How sample rows reach the model's inputs: one 2-D input, or one input per feature.
enum InputLayout {
    /// One input `[rows, width]`; `order` names the columns when the schema gives them.
    case matrix(ValueInfo, ElementType, width: Int?, order: [String]?)
    /// One input per feature, named like the features; `order` places `ndarray` columns.
    case perFeature([String: (ValueInfo, ElementType)], order: [String]?)
    /// The model's inputs cannot be fed from sample rows (several inputs and no schema).
    case unplaceable(String)

    var name: String {
        switch self {
        case .matrix: "matrix"
        case .perFeature: "per_feature"
        case .unplaceable: "none"
        }
    }

    /// Checks the model's inputs against the schema and picks the layout.
    static func make(_ model: SlipwayInference.Model, schema: FeatureSchema?) throws -> InputLayout {
        let inputs = model.inputs
        guard !inputs.isEmpty else { throw VerificationFailure("the model declares no inputs") }
        var types: [String: ElementType] = [:]
        for input in inputs {
            guard let type = input.type.elementType else {
                throw VerificationFailure("model input '\(input.name)' is \(input.type); expected a tensor")
            }
            types[input.name] = type
        }
        let features = schema?.features ?? [:]
        let order = schema?.order
        if inputs.count == 1 {
            let input = inputs[0]
            let type = types[input.name]!
            var fixedWidth: Int?
            if let shape = input.shape {
                guard shape.count == 2 else {
                    throw VerificationFailure(
                        "model input '\(input.name)' has shape \(Self.describe(shape)) (rank \(shape.count)); "
                            + "expected a 2-D input [?, F]"
                    )
                }
                if case .fixed(let width) = shape[1] { fixedWidth = width }
            }
            let schemaWidth = order?.count ?? (features.isEmpty ? nil : features.count)
            if let schemaWidth, let fixedWidth, schemaWidth != fixedWidth {
                let source = order != nil ? "schema.ndarray" : "schema.features"
                throw VerificationFailure(
                    "model input '\(input.name)' has shape \(Self.describe(input.shape!)); expected [?, \(schemaWidth)] "
                        + "(\(source) has \(schemaWidth) features)"
                )
            }
            for name in (order ?? features.keys.sorted()) {
                try Self.checkType(of: features[name], named: name, input: input.name, type: type)
            }
            return .matrix(input, type, width: schemaWidth ?? fixedWidth, order: order)
        }
        guard !features.isEmpty || order != nil else {
            return .unplaceable(
                "the model has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); sample rows need "
                    + "one 2-D input or a schema with one feature per input"
            )
        }
        let names = Set(features.keys).union(order ?? [])
        var placed: [String: (ValueInfo, ElementType)] = [:]
        for input in inputs {
            guard names.contains(input.name) else {
                throw VerificationFailure(
                    "model input '\(input.name)' is not a schema feature; expected one input per feature named like "
                        + "the features (\(names.sorted().joined(separator: ", ")))"
                )
            }
            if let shape = input.shape {
                let isColumn = shape.count == 1 || (shape.count == 2 && shape[1] == .fixed(1))
                guard isColumn else {
                    throw VerificationFailure(
                        "model input '\(input.name)' has shape \(Self.describe(shape)); a one-feature input needs "
                            + "[?, 1] or [?]"
                    )
                }
            }
            let type = types[input.name]!
            try Self.checkType(of: features[input.name], named: input.name, input: input.name, type: type)
            placed[input.name] = (input, type)
        }
        for name in names.sorted() where placed[name] == nil && (features[name]?.isRequired ?? true) {
            throw VerificationFailure(
                "feature '\(name)' has no model input of that name; the model's inputs are: "
                    + inputs.map(\.name).joined(separator: ", ")
            )
        }
        return .perFeature(placed, order: order)
    }

    /// Numeric features need numeric inputs, string features string inputs.
    static func checkType(
        of feature: FeatureSchema.Feature?,
        named name: String,
        input: String,
        type: ElementType
    ) throws {
        guard let featureType = feature?.type else { return }
        switch featureType {
        case .string where type != .string:
            throw VerificationFailure(
                "feature '\(name)' is a string but model input '\(input)' takes \(type); string features need string inputs"
            )
        case .float, .integer, .number:
            if !type.isNumeric {
                throw VerificationFailure(
                    "feature '\(name)' is \(featureType.rawValue) but model input '\(input)' takes \(type); numeric "
                        + "features need numeric inputs"
                )
            }
        case .boolean where type == .string:
            throw VerificationFailure(
                "feature '\(name)' is boolean but model input '\(input)' takes strings; expected a bool or numeric input"
            )
        default:
            return
        }
    }

    static func describe(_ shape: [ValueInfo.Dimension]) -> String {
        "[" + shape.map(\.description).joined(separator: ", ") + "]"
    }
}
