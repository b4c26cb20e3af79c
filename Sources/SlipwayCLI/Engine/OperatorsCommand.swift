import ArgumentParser
import SlipwayInference

/// `slipway operators`: the operators the engine implements, from its registry.
public struct OperatorsCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "operators",
        abstract: "List the ONNX operators the engine implements, with their opset ranges (Markdown)."
    )

    public init() {}

    public func run() throws {
        printLine(OperatorRegistry.standard.markdown())
    }
}
