import Foundation
import Testing

@testable import SlipwayInference

/// The single tensor output of running `op`.
private func run1(
    _ op: String,
    opset: Int? = nil,
    attributes: [String: Attribute] = [:],
    _ inputs: [Tensor?],
    constants: Bool = false
) throws -> Tensor {
    let out = try runOperator(op, opset: opset, attributes: attributes, inputs: inputs, constants: constants)
    return try #require(out.first?.tensor)
}

private func f(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func d(_ shape: [Int], _ v: [Double]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func i64(_ shape: [Int], _ v: [Int64]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func i32(_ shape: [Int], _ v: [Int32]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func b(_ shape: [Int], _ v: [Bool]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func s(_ shape: [Int], _ v: [String]) -> Tensor { Tensor(unchecked: shape, elements: v) }

@Suite struct ElementwiseTests {
    @Test func addsSameShapeRowAndGeneralBroadcast() throws {
        let same = try run1("Add", [f([2, 2], [1, 2, 3, 4]), f([2, 2], [10, 20, 30, 40])])
        #expect(same == f([2, 2], [11, 22, 33, 44]))
        let row = try run1("Add", [f([2, 3], [1, 2, 3, 4, 5, 6]), f([3], [10, 20, 30])])
        #expect(row == f([2, 3], [11, 22, 33, 14, 25, 36]))
        let rowLeft = try run1("Sub", [f([1, 3], [10, 20, 30]), f([2, 3], [1, 2, 3, 4, 5, 6])])
        #expect(rowLeft == f([2, 3], [9, 18, 27, 6, 15, 24]))
        let column = try run1("Mul", [f([2, 1], [2, 3]), f([1, 3], [1, 2, 3])])
        #expect(column == f([2, 3], [2, 4, 6, 3, 6, 9]))
        let scalar = try run1("Add", [f([], [1]), f([3], [1, 2, 3])])
        #expect(scalar == f([3], [2, 3, 4]))
        let general = try run1("Add", [f([2, 1, 2], [1, 2, 3, 4]), f([3, 1], [10, 20, 30])])
        #expect(general.shape == [2, 3, 2])
        #expect(general.floats == [11, 12, 21, 22, 31, 32, 13, 14, 23, 24, 33, 34])
        let empty = try run1("Add", [f([0, 3], []), f([3], [1, 2, 3])])
        #expect(empty.shape == [0, 3])
    }

    @Test func dividesIntegersByTruncationWithoutTrapping() throws {
        let q = try run1("Div", [i64([4], [7, -7, 5, Int64.min]), i64([4], [2, 2, 0, -1])])
        #expect(q.int64s == [3, -3, 0, Int64.min])
        let w = try run1("Add", [i32([1], [Int32.max]), i32([1], [1])])
        #expect(w.int32s == [Int32.min])
        let fd = try run1("Div", [d([2], [1, 1]), d([2], [4, 0])])
        #expect(fd.doubles == [0.25, .infinity])
    }

    @Test func powersMixedTypes() throws {
        #expect(try run1("Pow", [f([3], [1, 2, 3]), i64([3], [4, 5, 6])]).floats == [1, 32, 729])
        #expect(try run1("Pow", [i64([3], [1, 2, 3]), f([3], [4, 5, 6])]).int64s == [1, 32, 729])
        #expect(try run1("Pow", [i32([3], [2, -2, 2]), i32([3], [10, 3, -1])]).int32s == [1024, -8, 0])
        #expect(try run1("Pow", [f([2], [4, 2]), f([], [0.5])]).floats == [2, Float(2).squareRoot()])
        #expect(throws: InferenceError.self) {
            try run1("Pow", opset: 7, [f([1], [1]), i64([1], [1])])
        }
    }

    @Test func takesModuloWithEitherSignConvention() throws {
        let a = i64([5], [5, -5, 5, -5, 3])
        let m = i64([5], [3, 3, -3, -3, 0])
        #expect(try run1("Mod", [a, m]).int64s == [2, 1, -1, -2, 0])
        #expect(try run1("Mod", attributes: ["fmod": .int(1)], [a, m]).int64s == [2, -2, 2, -2, 0])
        let x = f([2], [5.5, -5.5])
        #expect(try run1("Mod", attributes: ["fmod": .int(1)], [x, f([], [2])]).floats == [1.5, -1.5])
        let floored = try #require(try run1("Mod", [f([3], [5.5, -5.5, 0]), f([3], [2, 2, -2])]).floats)
        #expect(floored[0] == 1.5 && floored[1] == 0.5 && floored[2] == 0 && floored[2].sign == .minus)
        let error = try #require(throws: InferenceError.self) { try run1("Mod", opset: 27, [x, f([], [2])]) }
        #expect(error.code == .invalidAttribute && error.message.contains("fmod"))
        #expect(try run1("Mod", [i32([1], [Int32.min]), i32([1], [-1])]).int32s == [0])
    }

    @Test func foldsVariadicOperators() throws {
        let a = f([3], [3, 2, 1])
        let c = f([3], [1, 4, 4])
        let e = f([3], [2, 5, 3])
        #expect(try run1("Max", [a, c, e]).floats == [3, 5, 4])
        #expect(try run1("Min", [a, c, e]).floats == [1, 2, 1])
        #expect(try run1("Sum", [a, c, e]).floats == [6, 11, 8])
        #expect(try run1("Mean", [a, c, e]).floats == [2, 11.0 / 3, 8.0 / 3])
        #expect(try run1("Sum", [a]).floats == [3, 2, 1])
        #expect(try run1("Max", [f([2], [1, .nan]), f([], [0])]).floats?[1].isNaN == true)
        let broadcast = try run1("Max", [f([2, 1], [1, 5]), f([2], [2, 3])])
        #expect(broadcast == f([2, 2], [2, 3, 5, 5]))
    }

    @Test func comparesNumbersBoolsAndStrings() throws {
        let x = f([3], [1, 2, 3])
        let y = f([3], [2, 2, 2])
        #expect(try run1("Less", [x, y]).bools == [true, false, false])
        #expect(try run1("LessOrEqual", [x, y]).bools == [true, true, false])
        #expect(try run1("Greater", [x, y]).bools == [false, false, true])
        #expect(try run1("GreaterOrEqual", [x, y]).bools == [false, true, true])
        #expect(try run1("Equal", [x, y]).bools == [false, true, false])
        #expect(try run1("Equal", [b([2], [true, false]), b([], [true])]).bools == [true, false])
        #expect(try run1("Equal", [s([2], ["a", "b"]), s([1], ["b"])]).bools == [false, true])
        #expect(try run1("Less", [f([1], [.nan]), f([1], [1])]).bools == [false])
    }

    @Test func rejectsMismatchedTypesAndShapes() throws {
        let error = try #require(throws: InferenceError.self) {
            try run1("Add", [f([2], [1, 2]), d([2], [1, 2])])
        }
        #expect(error.code == .invalidGraph)
        #expect(error.message.contains("Add") && error.message.contains("input 1"))
        let shape = try #require(throws: InferenceError.self) {
            try run1("Mul", [f([2], [1, 2]), f([3], [1, 2, 3])])
        }
        #expect(shape.code == .runtimeFailure)
        #expect(shape.message.contains("[2]") && shape.message.contains("[3]"))
        let strings = try #require(throws: InferenceError.self) {
            try run1("Add", [s([1], ["a"]), s([1], ["b"])])
        }
        #expect(strings.code == .unsupportedOperator)
        #expect(strings.message.contains("string"))
        #expect(throws: InferenceError.self) { try run1("And", [f([1], [1]), f([1], [1])]) }
    }

    @Test func evaluatesLogicWhereAndIsNaN() throws {
        let p = b([4], [true, true, false, false])
        let q = b([4], [true, false, true, false])
        #expect(try run1("And", [p, q]).bools == [true, false, false, false])
        #expect(try run1("Or", [p, q]).bools == [true, true, true, false])
        #expect(try run1("Xor", [p, q]).bools == [false, true, true, false])
        #expect(try run1("Not", [p]).bools == [false, false, true, true])
        let w = try run1("Where", [b([2, 1], [true, false]), f([2], [1, 2]), f([], [9])])
        #expect(w == f([2, 2], [1, 2, 9, 9]))
        let ws = try run1("Where", [b([2], [false, true]), s([2], ["a", "b"]), s([2], ["c", "d"])])
        #expect(ws.strings == ["c", "b"])
        #expect(try run1("IsNaN", [f([3], [1, .nan, .infinity])]).bools == [false, true, false])
        #expect(throws: InferenceError.self) {
            try run1("Where", [b([2], [true, false]), f([3], [1, 2, 3]), f([2], [1, 2])])
        }
    }

    @Test func appliesUnaryFunctions() throws {
        let x = f([4], [-2, -0.5, 0, 1])
        #expect(try run1("Relu", [x]).floats == [0, 0, 0, 1])
        #expect(try run1("Relu", [i32([2], [-3, 3])]).int32s == [0, 3])
        #expect(try run1("Abs", [i64([2], [-3, Int64.min])]).int64s == [3, Int64.min])
        #expect(try run1("Neg", [x]).floats == [2, 0.5, 0, -1])
        #expect(try run1("LeakyRelu", attributes: ["alpha": .float(0.1)], [x]).floats == [-0.2, -0.05, 0, 1])
        #expect(try run1("LeakyRelu", [f([1], [-1])]).floats == [-0.01])
        let sig = try #require(try run1("Sigmoid", [f([3], [0, 100, -100])]).floats)
        #expect(sig[0] == 0.5 && sig[1] == 1 && sig[2] >= 0 && sig[2] < 1e-30)
        #expect(try run1("Sqrt", [d([2], [4, 9])]).doubles == [2, 3])
        #expect(try run1("Exp", [f([1], [0])]).floats == [1])
        #expect(try run1("Log", [f([1], [1])]).floats == [0])
        #expect(try run1("Reciprocal", [f([2], [2, 4])]).floats == [0.5, 0.25])
        #expect(try run1("Tanh", [d([1], [0])]).doubles == [0])
        let erf = try #require(try run1("Erf", [f([1], [1])]).floats)
        #expect(abs(erf[0] - 0.8427008) < 1e-6)
        let error = try #require(throws: InferenceError.self) { try run1("Sqrt", [i64([1], [4])]) }
        #expect(error.code == .unsupportedOperator)
        #expect(throws: InferenceError.self) { try run1("Relu", opset: 13, [i32([1], [1])]) }
        let alpha = try #require(throws: InferenceError.self) {
            try run1("LeakyRelu", attributes: ["alpha": .int(1)], [x])
        }
        #expect(alpha.code == .invalidAttribute && alpha.message.contains("alpha"))
    }

    @Test func runsUnaryInParallelChunks() throws {
        let n = ElementwiseLoops.parallelThreshold * 2
        let x = f([n], (0..<n).map { Float($0 % 7) - 3 })
        let out = try runOperator("Relu", inputs: [x], threads: 4)
        #expect(out[0].tensor?.floats == x.floats?.map { max($0, 0) })
    }

    @Test func clipsWithAttributesAndInputs() throws {
        let x = f([5], [-3, -1, 0, 1, 3])
        let old = try run1("Clip", opset: 6 + 4, attributes: ["min": .float(-1), "max": .float(2)], [x])
        #expect(old.floats == [-1, -1, 0, 1, 2])
        let new = try run1("Clip", [x, f([], [-2]), nil])
        #expect(new.floats == [-2, -1, 0, 1, 3])
        let both = try run1("Clip", [x, f([], [0]), f([], [1])])
        #expect(both.floats == [0, 0, 0, 1, 1])
        let inverted = try run1("Clip", [x, f([], [2]), f([], [1])])
        #expect(inverted.floats == [1, 1, 1, 1, 1])
        let ints = try run1("Clip", [i64([3], [-5, 5, 50]), i64([], [0]), i64([], [10])])
        #expect(ints.int64s == [0, 5, 10])
        #expect(try run1("Clip", [x]).floats == x.floats)
        let error = try #require(throws: InferenceError.self) {
            try run1("Clip", [x, f([2], [0, 1]), nil], constants: true)
        }
        #expect(error.message.contains("input 1"))
        #expect(throws: InferenceError.self) { try run1("Clip", [x, d([], [0]), nil]) }
    }

    @Test func castsBetweenTypes() throws {
        func cast(_ t: Tensor, _ to: ElementType) throws -> Tensor {
            try run1("Cast", attributes: ["to": .int(to.onnxDataType)], [t])
        }
        let x = f([6], [1.9, -1.9, .nan, .infinity, -.infinity, 0.1])
        #expect(try cast(x, .double).doubles?[0] == Double(Float(1.9)))
        #expect(try cast(f([3], [1.9, -1.9, 0]), .int64).int64s == [1, -1, 0])
        #expect(try cast(f([1], [.nan]), .int32).int32s == [Int32.min])
        let edges = try cast(d([3], [2_147_483_647, 2_147_483_648, -2147483648.5]), .int32)
        #expect(edges.int32s == [Int32.max, Int32.min, Int32.min])
        #expect(try cast(d([2], [9.3e18, -9.3e18]), .int64).int64s == [Int64.min, Int64.min])
        #expect(try cast(f([3], [1.5, 0, .nan]), .bool).bools == [true, false, true])
        #expect(try cast(b([2], [true, false]), .float).floats == [1, 0])
        #expect(try cast(i64([2], [1 << 40, -1]), .int32).int32s == [0, -1])
        #expect(try cast(x, .string).strings == ["1.9", "-1.9", "NaN", "INF", "-INF", "0.1"])
        #expect(try cast(f([2], [100, 1e-7]), .string).strings == ["100", "1e-07"])
        #expect(try cast(i32([2], [-5, 7]), .string).strings == ["-5", "7"])
        let parsed = try #require(try cast(s([6], ["1.5", "INF", "inf", "-INF", "NaN", "+INF"]), .float).floats)
        #expect(parsed[0] == 1.5 && parsed[1] == .infinity && parsed[2] == .infinity && parsed[3] == -.infinity)
        #expect(parsed[4].isNaN && parsed[5] == .infinity)
        #expect(try cast(s([2], ["42", "-7"]), .int64).int64s == [42, -7])
        let bad = try #require(throws: InferenceError.self) { try cast(s([1], ["abc"]), .double) }
        #expect(bad.code == .runtimeFailure && bad.message.contains("abc"))
        let unsupported = try #require(throws: InferenceError.self) {
            try run1("Cast", attributes: ["to": .int(10)], [x])
        }
        #expect(unsupported.code == .unsupportedOperator && unsupported.message.contains("float16"))
        let like = try run1("CastLike", [f([2], [1.5, 2.5]), i32([0], [])])
        #expect(like.int32s == [1, 2])
        #expect(try run1("Cast", attributes: ["to": .int(1), "saturate": .int(0)], [d([1], [2])]).floats == [2])
        let saturate = try #require(throws: InferenceError.self) {
            try run1("Cast", attributes: ["to": .int(1), "saturate": .int(3)], [d([1], [2])])
        }
        #expect(saturate.message.contains("saturate"))
    }
}
