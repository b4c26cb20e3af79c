import Foundation
import Testing

@testable import SlipwayInference

private func f(_ shape: [Int], _ v: [Float]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func d(_ shape: [Int], _ v: [Double]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func i64(_ shape: [Int], _ v: [Int64]) -> Tensor { Tensor(unchecked: shape, elements: v) }
private func b(_ shape: [Int], _ v: [Bool]) -> Tensor { Tensor(unchecked: shape, elements: v) }

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

private func close(_ a: [Float]?, _ b: [Float], tolerance: Float = 1e-5) -> Bool {
    guard let a, a.count == b.count else { return false }
    return zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

@Suite struct ReductionTests {
    let x = Tensor(unchecked: [2, 3], elements: [Float]([1, 2, 3, 4, 5, 6]))

    @Test func reducesWithAxesInputAndAttribute() throws {
        let sum = try run1("ReduceSum", [self.x, i64([1], [1])])
        #expect(sum == f([2, 1], [6, 15]))
        let sum0 = try run1("ReduceSum", attributes: ["keepdims": .int(0)], [self.x, i64([1], [-2])])
        #expect(sum0 == f([3], [5, 7, 9]))
        let all = try run1("ReduceSum", attributes: ["keepdims": .int(0)], [self.x, nil])
        #expect(all == f([], [21]))
        let old = try run1("ReduceMean", opset: 17, attributes: ["axes": .ints([1])], [self.x])
        #expect(old == f([2, 1], [2, 5]))
        let oldSum = try run1("ReduceSum", opset: 12, attributes: ["axes": .ints([0]), "keepdims": .int(0)], [self.x])
        #expect(oldSum == f([3], [5, 7, 9]))
        let noop = try run1("ReduceSum", attributes: ["noop_with_empty_axes": .int(1)], [self.x, i64([0], [])])
        #expect(noop == self.x)
        let middle = try run1(
            "ReduceMax",
            attributes: ["keepdims": .int(0)],
            [f([2, 2, 2], [1, 8, 3, 4, 5, 6, 7, 2]), i64([1], [1])]
        )
        #expect(middle == f([2, 2], [3, 8, 7, 6]))
    }

    @Test func computesEveryReduction() throws {
        let axes = i64([1], [1])
        #expect(try run1("ReduceMax", [self.x, axes]).floats == [3, 6])
        #expect(try run1("ReduceMin", [self.x, axes]).floats == [1, 4])
        #expect(try run1("ReduceProd", [self.x, axes]).floats == [6, 120])
        #expect(try run1("ReduceSumSquare", [self.x, axes]).floats == [14, 77])
        #expect(try run1("ReduceL1", [f([2], [-1, 2]), nil]).floats == [3])
        #expect(close(try run1("ReduceL2", [self.x, axes]).floats, [Float(14).squareRoot(), Float(77).squareRoot()]))
        #expect(close(try run1("ReduceLogSum", [self.x, axes]).floats, [log(6), log(15)]))
        let lse = try run1("ReduceLogSumExp", [self.x, axes]).floats
        #expect(close(lse, [Float(log(exp(1.0) + exp(2) + exp(3))), Float(log(exp(4.0) + exp(5) + exp(6)))]))
        #expect(close(try run1("ReduceLogSumExp", [f([2], [1000, 1000]), nil]).floats, [1000 + log(2)]))
        #expect(try run1("ReduceMean", [i64([3], [1, 2, 4]), nil]).int64s == [2])
        #expect(try run1("ReduceMax", [b([2, 2], [false, true, false, false]), axes]).bools == [true, false])
        #expect(try run1("ReduceMin", [b([2, 2], [true, true, false, true]), axes]).bools == [true, false])
    }

    @Test func reducesEmptySetsToIdentities() throws {
        let empty = f([2, 0, 4], [])
        let axes = i64([1], [1])
        #expect(try run1("ReduceSum", [empty, axes]) == f([2, 1, 4], Array(repeating: 0, count: 8)))
        #expect(try run1("ReduceMax", [empty, axes]).floats == Array(repeating: -Float.infinity, count: 8))
        #expect(try run1("ReduceMin", [empty, axes]).floats == Array(repeating: Float.infinity, count: 8))
        #expect(try run1("ReduceProd", [empty, axes]).floats == Array(repeating: 1, count: 8))
        #expect(try run1("ReduceLogSumExp", [empty, axes]).floats == Array(repeating: -Float.infinity, count: 8))
        #expect(try run1("ReduceLogSum", [empty, axes]).floats == Array(repeating: -Float.infinity, count: 8))
        #expect(try run1("ReduceMax", [b([0], []), nil]).bools == [false])
        #expect(try run1("ReduceSum", [f([0, 2], []), i64([1], [1])]).shape == [0, 1])
    }

    @Test func rejectsBadAxes() throws {
        let range = try #require(throws: InferenceError.self) { try run1("ReduceSum", [self.x, i64([1], [2])]) }
        #expect(range.code == .runtimeFailure && range.message.contains("axis 2"))
        let attribute = try #require(throws: InferenceError.self) {
            try run1("ReduceMean", attributes: ["axes": .ints([0])], [self.x])
        }
        #expect(attribute.code == .invalidAttribute && attribute.message.contains("axes"))
        let type = try #require(throws: InferenceError.self) {
            try run1("ReduceSum", [self.x, f([1], [0])])
        }
        #expect(type.message.contains("input 1"))
        #expect(throws: InferenceError.self) {
            try run1("ReduceSum", attributes: ["keepdims": .string("yes")], [self.x, nil])
        }
    }

    @Test func findsArgExtremes() throws {
        let m = f([2, 3], [1, 3, 3, 7, 2, 7])
        #expect(try run1("ArgMax", attributes: ["axis": .int(1)], [m]) == i64([2, 1], [1, 0]))
        let lastMax = try run1(
            "ArgMax",
            attributes: ["axis": .int(-1), "keepdims": .int(0), "select_last_index": .int(1)],
            [m]
        )
        #expect(lastMax == i64([2], [2, 2]))
        #expect(try run1("ArgMin", attributes: ["axis": .int(0), "keepdims": .int(0)], [m]) == i64([3], [0, 1, 0]))
        let last = try run1(
            "ArgMin",
            attributes: ["axis": .int(1), "select_last_index": .int(1)],
            [f([1, 3], [1, 0, 0])]
        )
        #expect(last == i64([1, 1], [2]))
        let error = try #require(throws: InferenceError.self) {
            try run1("ArgMax", attributes: ["axis": .int(2)], [m])
        }
        #expect(error.code == .runtimeFailure)
        #expect(throws: InferenceError.self) { try run1("ArgMax", attributes: ["axis": .int(1)], [f([2, 0], [])]) }
    }

    @Test func normalisesWithSoftmaxFamily() throws {
        let x = f([2, 3], [1, 2, 3, 1, 1, 1])
        let e = [exp(1.0), exp(2.0), exp(3.0)]
        let total = e.reduce(0, +)
        let expected = e.map { Float($0 / total) } + [1.0 / 3, 1.0 / 3, 1.0 / 3]
        #expect(close(try run1("Softmax", [x]).floats, expected))
        #expect(close(try run1("LogSoftmax", [x]).floats, expected.map { log($0) }))
        #expect(try run1("Hardmax", [x]).floats == [0, 0, 1, 1, 0, 0])
        // Along axis 0 from opset 13.
        let col = try run1("Softmax", attributes: ["axis": .int(0)], [f([2, 2], [0, 1, 0, 1])])
        #expect(close(col.floats, [0.5, 0.5, 0.5, 0.5]))
        // Before 13: flatten at axis 1 of a [1, 2, 2] input normalises over all 4 elements.
        let old = try run1("Softmax", opset: 11, [f([1, 2, 2], [0, 0, 0, 0])])
        #expect(close(old.floats, [0.25, 0.25, 0.25, 0.25]))
        let new = try run1("Softmax", [f([1, 2, 2], [0, 0, 0, 0])])
        #expect(close(new.floats, [0.5, 0.5, 0.5, 0.5]))
        let big = try runOperator("Softmax", inputs: [f([1000, 10], (0..<10000).map { Float($0 % 10) })], threads: 2)
        let rows = try #require(big[0].tensor?.floats)
        #expect(abs(rows[0..<10].reduce(0, +) - 1) < 1e-5 && rows[9990..<10000] == rows[0..<10])
        #expect(throws: InferenceError.self) { try run1("Softmax", [i64([1], [1])]) }
    }

    @Test func selectsTopK() throws {
        let x = f([2, 4], [1, 3, 3, 2, 4, 0, 4, 5])
        let out = try runOperator("TopK", inputs: [x, i64([1], [2])], outputCount: 2)
        #expect(out[0].tensor == f([2, 2], [3, 3, 5, 4]))
        #expect(out[1].tensor == i64([2, 2], [1, 2, 3, 0]))
        let smallest = try runOperator(
            "TopK",
            attributes: ["largest": .int(0), "axis": .int(0)],
            inputs: [x, i64([1], [1])],
            outputCount: 2
        )
        #expect(smallest[0].tensor == f([1, 4], [1, 0, 3, 2]))
        #expect(smallest[1].tensor == i64([1, 4], [0, 1, 0, 0]))
        let old = try runOperator("TopK", opset: 9, attributes: ["k": .int(1)], inputs: [x], outputCount: 2)
        #expect(old[1].tensor == i64([2, 1], [1, 3]))
        let tooBig = try #require(throws: InferenceError.self) {
            try runOperator("TopK", inputs: [x, i64([1], [5])], outputCount: 2)
        }
        #expect(tooBig.code == .runtimeFailure && tooBig.message.contains("k=5"))
        #expect(throws: InferenceError.self) {
            try runOperator("TopK", opset: 9, inputs: [x], outputCount: 2)
        }
    }
}

@Suite struct ReductionEdgeCaseTests {
    /// Zero-element tensors whose other dimensions multiply past `Int.max` must not trap.
    @Test func handlesHugeDimensionsOfEmptyTensors() throws {
        let huge = 1 << 40
        let x = Tensor(unchecked: [0, huge, huge], elements: [Float]())
        let softmax = try runOperator("Softmax", opset: 11, inputs: [x])
        #expect(softmax[0].tensor?.shape == [0, huge, huge])
        let sum = try runOperator("ReduceSum", inputs: [x, Tensor(unchecked: [2], elements: [Int64(1), 2])])
        #expect(sum[0].tensor?.shape == [0, 1, 1])
        let arg = try runOperator("ArgMax", attributes: ["axis": .int(1)], inputs: [x])
        #expect(arg[0].tensor?.shape == [0, 1, huge])
        let emptyAxis = try #require(throws: InferenceError.self) { try runOperator("ArgMax", inputs: [x]) }
        #expect(emptyAxis.code == .runtimeFailure)
    }
}

extension ReductionEdgeCaseTests {
    @Test func broadcastsHugeEmptyShapesWithoutTrapping() throws {
        let huge = 1 << 40
        let x = Tensor(unchecked: [0, huge, huge], elements: [Float]())
        let one = Tensor(unchecked: [1], elements: [Float(1)])
        let sum = try runOperator("Add", inputs: [x, one])
        #expect(sum[0].tensor?.shape == [0, huge, huge])
        let cond = Tensor(unchecked: [1], elements: [true])
        let picked = try runOperator("Where", inputs: [cond, x, one])
        #expect(picked[0].tensor?.shape == [0, huge, huge])
        let top = try runOperator("TopK", inputs: [x, Tensor(unchecked: [1], elements: [Int64(1)])], outputCount: 2)
        #expect(top[1].tensor?.shape == [0, huge, 1])
    }
}

extension ReductionEdgeCaseTests {
    /// The small-k selection path must agree with a full stable sort, ties going to the lower index.
    @Test func selectsSmallKLikeAFullSort() throws {
        let dim = 200
        let values: [Float] = (0..<(3 * dim)).map { (i: Int) -> Float in Float((i * 37) % 23) }
        let x = Tensor(unchecked: [3, dim], elements: values)
        for largest in [0, 1] {
            for k in [1, 3, 50] {
                let out = try runOperator(
                    "TopK",
                    attributes: ["largest": .int(largest)],
                    inputs: [x, Tensor(unchecked: [1], elements: [Int64(k)])],
                    outputCount: 2
                )
                var expectedIndices: [Int64] = []
                for r in 0..<3 {
                    let row = Array(values[(r * dim)..<((r + 1) * dim)])
                    let order = (0..<dim).sorted { (a: Int, b: Int) -> Bool in
                        if row[a] == row[b] { return a < b }
                        return largest == 1 ? row[a] > row[b] : row[a] < row[b]
                    }
                    expectedIndices += order.prefix(k).map { Int64($0) }
                }
                #expect(out[1].tensor?.int64s == expectedIndices, "largest=\(largest) k=\(k)")
            }
        }
    }
}
