import Testing

@testable import SlipwayInference

private func f(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(unchecked: shape, elements: values) }
private func i64(_ shape: [Int], _ values: [Int64]) -> Tensor { Tensor(unchecked: shape, elements: values) }
private func i32(_ shape: [Int], _ values: [Int32]) -> Tensor { Tensor(unchecked: shape, elements: values) }
private func iota(_ shape: [Int]) -> Tensor {
    let n = shape.reduce(1, *)
    return f(shape, (0..<n).map { Float($0) })
}

/// Runs an operator and returns its single tensor output.
private func run1(
    _ op: String,
    opset: Int? = nil,
    _ attributes: [String: Attribute],
    _ inputs: [Tensor?],
    constants: Bool = false
) throws -> Tensor {
    let outputs = try runOperator(op, opset: opset, attributes: attributes, inputs: inputs, constants: constants)
    guard let t = outputs.first?.tensor else { throw InferenceError(.runtimeFailure, "no tensor output") }
    return t
}

/// Runs an operator without attributes and returns its single tensor output.
private func run1(_ op: String, opset: Int? = nil, _ inputs: [Tensor?], constants: Bool = false) throws -> Tensor {
    try run1(op, opset: opset, [:], inputs, constants: constants)
}

@Suite struct TensorOperatorTests {
    // MARK: Identity / Reshape / Flatten

    @Test func identityPassesStringsThrough() throws {
        let x = Tensor(unchecked: [2], elements: ["a", "b"])
        #expect(try run1("Identity", [x]) == x)
    }

    @Test func reshapeHandlesZeroAndMinusOne() throws {
        let x = iota([2, 3, 4])
        for constants in [false, true] {
            let y = try run1("Reshape", [x, i64([3], [0, -1, 2])], constants: constants)
            #expect(y.shape == [2, 6, 2])
            #expect(y.floats == x.floats)
        }
    }

    @Test func reshapeAllowZeroKeepsZeroDimension() throws {
        let x = f([0, 3], [])
        let y = try run1("Reshape", ["allowzero": .int(1)], [x, i64([2], [3, 0])])
        #expect(y.shape == [3, 0])
        // Before opset 14 allowzero does not exist: 0 copies the input dimension.
        let z = try run1("Reshape", opset: 13, [iota([2, 3]), i64([2], [0, 3])])
        #expect(z.shape == [2, 3])
    }

    @Test func reshapeRejectsBadTargets() {
        expectError(.runtimeFailure, ["Reshape", "cannot reshape", "[4, -1]"]) {
            _ = try run1("Reshape", [iota([2, 3]), i64([2], [4, -1])])
        }
        expectError(.runtimeFailure, ["cannot reshape", "[5]"]) {
            _ = try run1("Reshape", [iota([2, 3]), i64([1], [5])])
        }
        // A constant target that can never work fails at load.
        expectError(.invalidGraph, ["Reshape", "more than one -1"]) {
            _ = try run1("Reshape", [iota([2, 3]), i64([2], [-1, -1])], constants: true)
        }
        expectError(.invalidGraph, ["invalid dimension -2"]) {
            _ = try run1("Reshape", [iota([2, 3]), i64([2], [-2, 3])], constants: true)
        }
        expectError(.invalidGraph, ["both 0 and -1"]) {
            _ = try run1("Reshape", ["allowzero": .int(1)], [iota([2, 3]), i64([2], [0, -1])], constants: true)
        }
        expectError(.unsupportedOperator, ["input 1", "expected int64"]) {
            _ = try run1("Reshape", [iota([2, 3]), f([1], [6])])
        }
    }

    @Test func flattenUsesAxisIncludingNegative() throws {
        let x = iota([2, 3, 4])
        #expect(try run1("Flatten", [x]).shape == [2, 12])
        #expect(try run1("Flatten", ["axis": .int(0)], [x]).shape == [1, 24])
        #expect(try run1("Flatten", ["axis": .int(3)], [x]).shape == [24, 1])
        #expect(try run1("Flatten", ["axis": .int(-1)], [x]).shape == [6, 4])
        let hugeEmpty = Tensor(unchecked: [0, 1 << 40, 1 << 40], elements: [Float]())
        #expect(try run1("Flatten", ["axis": .int(3)], [hugeEmpty]).shape == [0, 1])
        expectError(.resourceLimit, ["Flatten", "overflow"]) {
            _ = try run1("Flatten", ["axis": .int(1)], [hugeEmpty])
        }
        expectError(.runtimeFailure, ["Flatten", "axis 4", "rank 3"]) {
            _ = try run1("Flatten", ["axis": .int(4)], [x])
        }
        expectError(.invalidAttribute, ["axis", "opset 11"]) {
            _ = try run1("Flatten", opset: 10, ["axis": .int(-1)], [x])
        }
        expectError(.invalidAttribute, ["'axis'", "int"]) {
            _ = try run1("Flatten", ["axis": .string("1")], [x])
        }
    }

    // MARK: Squeeze / Unsqueeze

    @Test func squeezeTakesAxesFromAttributeOrInput() throws {
        let x = iota([1, 3, 1, 2])
        #expect(try run1("Squeeze", [x]).shape == [3, 2])
        #expect(try run1("Squeeze", [x, i64([1], [-2])]).shape == [1, 3, 2])
        #expect(try run1("Squeeze", [x, i64([1], [0])], constants: true).shape == [3, 1, 2])
        #expect(try run1("Squeeze", opset: 11, ["axes": .ints([0, 2])], [x]).shape == [3, 2])
        expectError(.runtimeFailure, ["cannot squeeze axis 1"]) {
            _ = try run1("Squeeze", [x, i64([1], [1])])
        }
        expectError(.runtimeFailure, ["out of range"]) {
            _ = try run1("Squeeze", [x, i64([1], [4])])
        }
    }

    @Test func unsqueezeInsertsAxes() throws {
        let x = iota([3, 4])
        #expect(try run1("Unsqueeze", [x, i64([2], [0, 3])]).shape == [1, 3, 4, 1])
        #expect(try run1("Unsqueeze", [x, i64([1], [-1])]).shape == [3, 4, 1])
        #expect(try run1("Unsqueeze", [x, i64([2], [2, 0])]).shape == [1, 3, 1, 4])
        #expect(try run1("Unsqueeze", opset: 11, ["axes": .ints([1])], [x]).shape == [3, 1, 4])
        expectError(.invalidAttribute, ["'axes'", "required"]) {
            _ = try run1("Unsqueeze", opset: 12, [x])
        }
        expectError(.runtimeFailure, ["repeats axis"]) {
            _ = try run1("Unsqueeze", [x, i64([2], [1, 1])])
        }
        expectError(.runtimeFailure, ["axes 5", "rank 3"]) {
            _ = try run1("Unsqueeze", [x, i64([1], [5])])
        }
    }

    // MARK: Shape / Size

    @Test func shapeHonoursStartAndEnd() throws {
        let x = iota([2, 3, 4])
        #expect(try run1("Shape", [x]).int64s == [2, 3, 4])
        #expect(try run1("Shape", ["start": .int(1)], [x]).int64s == [3, 4])
        #expect(try run1("Shape", ["end": .int(-1)], [x]).int64s == [2, 3])
        #expect(try run1("Shape", ["start": .int(-10), "end": .int(10)], [x]).int64s == [2, 3, 4])
        #expect(try run1("Shape", ["start": .int(2), "end": .int(1)], [x]).shape == [0])
        #expect(try run1("Size", [x]) == Tensor.scalar(Int64(24)))
    }

    // MARK: Concat

    @Test func concatJoinsAlongAxis() throws {
        let a = iota([2, 2])
        let b = f([2, 1], [10, 11])
        let y = try run1("Concat", ["axis": .int(-1)], [a, b])
        #expect(y.shape == [2, 3])
        #expect(y.floats == [0, 1, 10, 2, 3, 11])
        let s = try run1(
            "Concat",
            ["axis": .int(0)],
            [Tensor(unchecked: [1], elements: ["x"]), Tensor(unchecked: [2], elements: ["y", "z"])]
        )
        #expect(s.strings == ["x", "y", "z"])
        expectError(.runtimeFailure, ["Concat", "input 1", "incompatible"]) {
            _ = try run1("Concat", ["axis": .int(0)], [a, iota([1, 3])])
        }
        expectError(.runtimeFailure, ["axis 2", "rank 2"]) {
            _ = try run1("Concat", ["axis": .int(2)], [a, a])
        }
        expectError(.invalidAttribute, ["'axis'", "required"]) {
            _ = try run1("Concat", [a, a])
        }
        expectError(.invalidGraph, ["input 1", "expected float"]) {
            _ = try run1("Concat", ["axis": .int(0)], [a, i64([1], [1])])
        }
    }

    // MARK: Gather

    @Test func gatherSelectsAlongAxis() throws {
        let x = iota([3, 4])
        let rows = try run1("Gather", [x, i64([2], [2, -3])])
        #expect(rows.shape == [2, 4])
        #expect(rows.floats == [8, 9, 10, 11, 0, 1, 2, 3])
        let cols = try run1("Gather", ["axis": .int(1)], [x, i32([2, 1], [3, 0])])
        #expect(cols.shape == [3, 2, 1])
        #expect(cols.floats == [3, 0, 7, 4, 11, 8])
        let scalarIndex = try run1("Gather", [x, Tensor.scalar(Int64(1))], constants: true)
        #expect(scalarIndex.shape == [4])
        let strings = Tensor(unchecked: [3], elements: ["a", "b", "c"])
        #expect(try run1("Gather", [strings, i64([2], [2, 0])]).strings == ["c", "a"])
    }

    @Test func gatherReportsIndexOutOfRange() {
        expectError(.runtimeFailure, ["Gather", "index 3", "axis 0 of size 3"]) {
            _ = try run1("Gather", [iota([3, 2]), i64([2], [0, 3])])
        }
        expectError(.runtimeFailure, ["index -4"]) {
            _ = try run1("Gather", [iota([3, 2]), i64([1], [-4])], constants: true)
        }
        expectError(.unsupportedOperator, ["input 1", "int64 or int32"]) {
            _ = try run1("Gather", [iota([3, 2]), f([1], [0])])
        }
    }

    // MARK: Slice

    @Test func sliceSupportsStepsAndClamping() throws {
        let x = iota([4, 5])
        let y = try run1(
            "Slice",
            [x, i64([2], [1, 0]), i64([2], [3, Int64.max]), i64([2], [0, 1]), i64([2], [1, 2])]
        )
        #expect(y.shape == [2, 3])
        #expect(y.floats == [5, 7, 9, 10, 12, 14])
        let reversed = try run1("Slice", [x, i64([1], [-1]), i64([1], [Int64.min]), i64([1], [1]), i64([1], [-1])])
        #expect(reversed.shape == [4, 5])
        #expect(Array(reversed.floats!.prefix(5)) == [4, 3, 2, 1, 0])
        let defaults = try run1("Slice", [x, i64([1], [3]), i64([1], [100])], constants: true)
        #expect(defaults.floats == [15, 16, 17, 18, 19])
        let empty = try run1("Slice", [x, i64([1], [1000]), i64([1], [1000]), i64([1], [1])])
        #expect(empty.shape == [4, 0])
        let legacy = try run1("Slice", opset: 9, ["starts": .ints([1]), "ends": .ints([-1]), "axes": .ints([1])], [x])
        #expect(legacy.shape == [4, 3])
        #expect(Array(legacy.floats!.prefix(3)) == [1, 2, 3])
    }

    @Test func sliceRejectsInconsistentParameters() {
        let x = iota([4, 5])
        expectError(.invalidGraph, ["Slice", "steps", "contains 0"]) {
            _ = try run1("Slice", [x, i64([1], [0]), i64([1], [2]), i64([1], [0]), i64([1], [0])], constants: true)
        }
        expectError(.runtimeFailure, ["starts has 1 values but ends has 2"]) {
            _ = try run1("Slice", [x, i64([1], [0]), i64([2], [2, 2])])
        }
        expectError(.runtimeFailure, ["axes 2", "rank 2"]) {
            _ = try run1("Slice", [x, i64([1], [0]), i64([1], [2]), i64([1], [2])])
        }
        expectError(.invalidAttribute, ["'ends'", "required"]) {
            _ = try run1("Slice", opset: 9, ["starts": .ints([0])], [x])
        }
    }

    // MARK: Transpose / Expand

    @Test func transposeDefaultsToReversedAxes() throws {
        let x = iota([2, 3])
        let y = try run1("Transpose", [x])
        #expect(y.shape == [3, 2])
        #expect(y.floats == [0, 3, 1, 4, 2, 5])
        let z = try run1("Transpose", ["perm": .ints([1, 0, 2])], [iota([2, 2, 2])])
        #expect(z.floats == [0, 1, 4, 5, 2, 3, 6, 7])
        let b = Tensor(unchecked: [1, 2], elements: [true, false])
        #expect(try run1("Transpose", [b]).bools == [true, false])
        expectError(.invalidAttribute, ["'perm'", "permutation"]) {
            _ = try run1("Transpose", ["perm": .ints([0, 0])], [x])
        }
        expectError(.runtimeFailure, ["perm", "rank 2"]) {
            _ = try run1("Transpose", ["perm": .ints([0, 1, 2])], [x])
        }
    }

    @Test func expandBroadcastsBothWays() throws {
        let x = f([3, 1], [1, 2, 3])
        let y = try run1("Expand", [x, i64([2], [1, 6])])
        #expect(y.shape == [3, 6])
        let z = try run1("Expand", [x, i64([3], [2, 1, 2])], constants: true)
        #expect(z.shape == [2, 3, 2])
        #expect(z.floats == [1, 1, 2, 2, 3, 3, 1, 1, 2, 2, 3, 3])
        expectError(.runtimeFailure, ["Expand", "cannot be broadcast"]) {
            _ = try run1("Expand", [x, i64([2], [2, 2])])
        }
        expectError(.resourceLimit, ["Expand", "exceeds the limit"]) {
            _ = try run1("Expand", [x, i64([3], [1 << 20, 1 << 20, 1])], constants: true)
        }
    }

    // MARK: Constant / ConstantOfShape

    @Test func constantReadsEachValueAttribute() throws {
        #expect(try run1("Constant", ["value_float": .float(2.5)], []) == Tensor.scalar(Float(2.5)))
        #expect(try run1("Constant", ["value_ints": .ints([1, 2])], []).int64s == [1, 2])
        #expect(try run1("Constant", ["value_strings": .strings(["a"])], []).strings == ["a"])
        let t = iota([2, 2])
        #expect(try run1("Constant", ["value": .tensor(t)], []) == t)
        expectError(.invalidAttribute, ["'value'", "only value attribute"]) {
            _ = try run1("Constant", ["value": .tensor(t), "value_int": .int(1)], [])
        }
        expectError(.unsupportedOperator, ["sparse_value"]) {
            _ = try run1("Constant", ["sparse_value": .tensor(t)], [])
        }
    }

    @Test func constantOfShapeFillsWithValue() throws {
        let zeros = try run1("ConstantOfShape", [i64([2], [2, 3])])
        #expect(zeros.floats == Array(repeating: 0, count: 6))
        let ones = try run1("ConstantOfShape", ["value": .tensor(i32([1], [7]))], [i64([1], [2])], constants: true)
        #expect(ones.int32s == [7, 7])
        let scalar = try run1("ConstantOfShape", [i64([0], [])])
        #expect(scalar.shape == [] && scalar.floats == [0])
        #expect(try run1("ConstantOfShape", [i64([2], [0, 5])]).shape == [0, 5])
    }

    @Test func constantOfShapeRejectsAbsurdShapes() {
        expectError(.resourceLimit, ["ConstantOfShape", "exceeds the limit"]) {
            _ = try run1("ConstantOfShape", [i64([2], [1 << 40, 1 << 40])])
        }
        expectError(.resourceLimit, ["exceeds the limit"]) {
            _ = try run1("ConstantOfShape", [i64([3], [Int64.max, Int64.max, 2])], constants: true)
        }
        expectError(.runtimeFailure, ["negative dimension -1"]) {
            _ = try run1("ConstantOfShape", [i64([1], [-1])])
        }
        expectError(.invalidAttribute, ["'value'", "exactly one element"]) {
            _ = try run1("ConstantOfShape", ["value": .tensor(iota([2]))], [i64([1], [2])])
        }
    }
}
