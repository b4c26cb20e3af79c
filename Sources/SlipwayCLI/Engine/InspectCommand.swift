import ArgumentParser
import Foundation
import SlipwayInference

/// `slipway inspect MODEL.onnx [--json]`: a model's inputs, outputs, opsets, operators and producer.
public struct InspectCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show an ONNX model's inputs, outputs, opsets, operator counts and producer."
    )

    @Argument(help: "The .onnx model file.")
    var model: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    public init() {}

    public func run() throws {
        try reportingErrors {
            let model = try ModelLoader.load(contentsOf: self.model)
            printLine(self.json ? Self.json(model, path: self.model).serialized() : Self.text(model, path: self.model))
        }
    }

    static func shapeJSON(_ info: ValueInfo) -> JSONValue {
        guard let shape = info.shape else { return .null }
        return .array(
            shape.map { d in
                switch d {
                case .fixed(let n): .int(Int64(n))
                case .symbolic(let s): .string(s)
                case .unknown: .null
                }
            }
        )
    }

    static func valueJSON(_ info: ValueInfo) -> JSONValue {
        .object([
            ("name", .string(info.name)),
            ("type", .string(info.type.description)),
            ("datatype", info.type.elementType.map { .string($0.protocolName) } ?? .null),
            ("shape", Self.shapeJSON(info)),
        ])
    }

    static func json(_ model: Model, path: String) -> JSONValue {
        .object([
            ("path", .string(path)),
            ("bytes", .int(Int64(model.byteCount))),
            ("ir_version", .int(Int64(model.irVersion))),
            (
                "producer",
                .object([("name", .string(model.producerName)), ("version", .string(model.producerVersion))])
            ),
            ("model_version", .int(Int64(model.modelVersion))),
            ("opsets", .object(model.opsets.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })),
            ("inputs", .array(model.inputs.map(Self.valueJSON))),
            ("outputs", .array(model.outputs.map(Self.valueJSON))),
            (
                "operators",
                .array(
                    model.operatorCounts.map {
                        .object([
                            ("domain", .string($0.domain)), ("name", .string($0.name)),
                            ("count", .int(Int64($0.count))),
                        ])
                    }
                )
            ),
            ("metadata", .object(model.metadata.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })),
        ])
    }

    static func text(_ model: Model, path: String) -> String {
        func describe(_ info: ValueInfo) -> String {
            let type = info.type.elementType?.protocolName ?? info.type.description
            let shape = info.shape.map { "[" + $0.map(\.description).joined(separator: ", ") + "]" } ?? "(any shape)"
            return "  \(info.name)  \(type)  \(shape)"
        }
        var lines: [String] = []
        let producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        lines.append(
            "\(path): \(model.byteCount) bytes, ONNX IR \(model.irVersion), producer \(producer.isEmpty ? "unknown" : producer)"
        )
        lines.append(
            "opsets: " + model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        )
        lines.append("inputs:")
        lines.append(contentsOf: model.inputs.map(describe))
        lines.append("outputs:")
        lines.append(contentsOf: model.outputs.map(describe))
        lines.append("operators:")
        lines.append(contentsOf: model.operatorCounts.map { "  \($0.domain) \($0.name) × \($0.count)" })
        return lines.joined(separator: "\n")
    }
}
