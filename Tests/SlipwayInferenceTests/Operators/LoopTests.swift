import Testing

@testable import SlipwayInference

/// `Loop`: trip counts, conditions, loop-carried values, scan outputs and values read from the enclosing graph.
struct LoopTests {
    /// A model whose Loop adds the outer `step` to `x` each iteration and stacks the running values; the body's
    /// condition is `iteration < stopAfter` (or the incoming condition when `stopAfter` is nil).
    static func model(trips: Int64?, stopAfter: Int64?, bodyOutputType: ElementType = .float) throws -> Model {
        var body = ModelBuilder()
        body.proto.graph.input = [
            ModelBuilder.valueInfo("i", .int64, []), ModelBuilder.valueInfo("c", .bool, []),
            ModelBuilder.valueInfo("x_in", .float, [2]),
        ]
        body.node("Add", ["x_in", "step"], ["x_out"])
        if let stopAfter {
            body.initializer("limit", try Tensor(shape: [], int64s: [stopAfter]))
            body.node("Less", ["i", "limit"], ["c_out"])
        } else {
            body.node("Identity", ["c"], ["c_out"])
        }
        body.node("Identity", ["x_out"], ["running"])
        body.output("c_out", .bool, [])
        body.output("x_out", bodyOutputType, [2])
        body.output("running", .float, [2])
        if bodyOutputType != .float {
            body.proto.graph.node[0].output = ["x_sum"]
            body.node("Cast", ["x_sum"], ["x_out"], attributes: [ModelBuilder.intAttribute("to", 11)])
        }

        var b = ModelBuilder()
        b.input("x", .float, [2])
        b.initializer("step", try Tensor(shape: [2], floats: [1, 10]))
        b.initializer("yes", try Tensor(shape: [], bools: [true]))
        if let trips { b.initializer("trips", try Tensor(shape: [], int64s: [trips])) }
        var graph = Onnx_AttributeProto()
        graph.name = "body"
        graph.type = .graph
        graph.g = body.proto.graph
        b.node("Loop", [trips == nil ? "" : "trips", "yes", "x"], ["x_final", "stacked"], attributes: [graph])
        b.output("x_final", .float, [2])
        b.output("stacked", .float, nil)
        return try b.load()
    }

    static func run(_ model: Model) throws -> (final: [Float], stacked: Tensor) {
        let outputs = try InferenceSession(model: model).run(["x": try Tensor(shape: [2], floats: [0, 0])])
        return (outputs["x_final"]?.tensor?.floats ?? [], try #require(outputs["stacked"]?.tensor))
    }

    @Test func runsTheTripCount() throws {
        let (final, stacked) = try Self.run(try Self.model(trips: 3, stopAfter: nil))
        #expect(final == [3, 30])
        #expect(stacked.shape == [3, 2])
        #expect(stacked.floats == [1, 10, 2, 20, 3, 30])
    }

    @Test func stopsWhenTheConditionTurnsFalse() throws {
        // The body runs for iterations 0, 1 and 2; at 2 its condition (2 < 2) is false.
        let (final, stacked) = try Self.run(try Self.model(trips: 1000, stopAfter: 2))
        #expect(final == [3, 30])
        #expect(stacked.shape == [3, 2])
        let (unbounded, _) = try Self.run(try Self.model(trips: nil, stopAfter: 4))
        #expect(unbounded == [5, 50])
    }

    @Test func runsZeroTimes() throws {
        let (final, stacked) = try Self.run(try Self.model(trips: 0, stopAfter: nil))
        #expect(final == [0, 0])
        #expect(stacked.shape == [0])
    }

    @Test func rejectsABodyThatChangesTheCarriedType() {
        #expect(throws: InferenceError.self) { try Self.model(trips: 2, stopAfter: nil, bodyOutputType: .double) }
    }
}
