import Testing

@testable import SlipwayInference

/// Deterministic pseudo-random floats in [-1, 1).
private func randomFloats(_ count: Int, seed: UInt64) -> [Float] {
    var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (0..<count).map { _ in
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Float(Int64(bitPattern: state >> 11) % 2000 - 1000) / 1000
    }
}

/// The reference product of row-major `a [m, k]` and `b [k, n]` in double precision.
private func reference(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
            out[i * n + j] = Float(s)
        }
    }
    return out
}

private func transpose(_ x: [Float], rows: Int, cols: Int) -> [Float] {
    (0..<(rows * cols)).map { idx in x[(idx % rows) * cols + idx / rows] }
}

private func expectClose(
    _ actual: [Float]?,
    _ expected: [Float],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard let actual, actual.count == expected.count else {
        Issue.record("expected \(expected.count) values, got \(actual?.count ?? -1)", sourceLocation: sourceLocation)
        return
    }
    let worst = zip(actual, expected).map { abs($0 - $1) - 1e-4 * abs($1) }.max() ?? 0
    #expect(worst <= 1e-4, "max deviation \(worst)", sourceLocation: sourceLocation)
}

private func f(_ shape: [Int], _ values: [Float]) -> Tensor { Tensor(unchecked: shape, elements: values) }

private func output(_ values: [Value]) -> Tensor? { values.first?.tensor }

@Suite struct LinearAlgebraTests {
    // MARK: MatMul

    @Test(arguments: [
        (1, 64, 10), (5, 30, 64), (13, 64, 32), (1000, 64, 10), (7, 3, 2), (4, 1, 17), (6, 40, 1), (9, 9, 13),
    ])
    func matMulMatchesReference(m: Int, k: Int, n: Int) throws {
        let a = randomFloats(m * k, seed: 1)
        let b = randomFloats(k * n, seed: 2)
        let expected = reference(a, b, m: m, k: k, n: n)
        for constants in [false, true] {
            for threads in [1, 2] {
                let y = output(
                    try runOperator(
                        "MatMul",
                        inputs: [f([m, k], a), f([k, n], b)],
                        constants: constants,
                        threads: threads
                    )
                )
                #expect(y?.shape == [m, n])
                expectClose(y?.floats, expected)
            }
        }
    }

    @Test func matMulPromotesVectors() throws {
        let a = f([3], [1, 2, 3])
        let m = f([3, 2], [1, 0, 0, 1, 1, 1])
        let left = output(try runOperator("MatMul", inputs: [a, m]))
        #expect(left?.shape == [2])
        #expect(left?.floats == [4, 5])
        let right = output(try runOperator("MatMul", inputs: [f([2, 3], [1, 1, 1, 0, 1, 0]), a]))
        #expect(right?.shape == [2])
        #expect(right?.floats == [6, 2])
        let dot = output(try runOperator("MatMul", inputs: [a, a]))
        #expect(dot?.shape == [])
        #expect(dot?.floats == [14])
    }

    @Test func matMulBroadcastsBatches() throws {
        let a = randomFloats(2 * 1 * 3 * 4, seed: 3)
        let b = randomFloats(3 * 4 * 5, seed: 4)
        let y = output(try runOperator("MatMul", inputs: [f([2, 1, 3, 4], a), f([3, 4, 5], b)]))
        #expect(y?.shape == [2, 3, 3, 5])
        var expected = [Float]()
        for i in 0..<2 {
            for j in 0..<3 {
                expected += reference(
                    Array(a[(i * 12)..<(i * 12 + 12)]),
                    Array(b[(j * 20)..<(j * 20 + 20)]),
                    m: 3,
                    k: 4,
                    n: 5
                )
            }
        }
        expectClose(y?.floats, expected)
        // A batched left operand against one constant matrix.
        let z = output(
            try runOperator(
                "MatMul",
                inputs: [f([2, 3, 4], Array(a)), f([4, 5], Array(b.prefix(20)))],
                constants: true
            )
        )
        #expect(z?.shape == [2, 3, 5])
        expectClose(z?.floats, reference(a, Array(b.prefix(20)), m: 6, k: 4, n: 5))
    }

    @Test func matMulSupportsIntegerAndDoubleTypes() throws {
        let ai = Tensor(unchecked: [2, 2], elements: [Int64(1), 2, 3, 4])
        let bi = Tensor(unchecked: [2, 1], elements: [Int64(5), 6])
        #expect(output(try runOperator("MatMul", inputs: [ai, bi]))?.int64s == [17, 39])
        let a32 = Tensor(unchecked: [1, 2], elements: [Int32.max, 2])
        let b32 = Tensor(unchecked: [2, 1], elements: [Int32(2), 1])
        // Integer overflow wraps rather than trapping.
        #expect(output(try runOperator("MatMul", inputs: [a32, b32]))?.int32s == [Int32.max &* 2 &+ 2])
        let ad = Tensor(unchecked: [1, 3], elements: [1.5, 2.0, -1.0])
        let bd = Tensor(unchecked: [3], elements: [2.0, 1.0, 1.0])
        #expect(output(try runOperator("MatMul", inputs: [ad, bd]))?.doubles == [4.0])
        let empty = output(try runOperator("MatMul", inputs: [f([2, 0], []), f([0, 3], [])]))
        #expect(empty?.floats == Array(repeating: 0, count: 6))
    }

    @Test func matMulRejectsBadShapesAndTypes() {
        expectError(.runtimeFailure, ["MatMul", "not aligned"]) {
            _ = try runOperator(
                "MatMul",
                inputs: [f([2, 3], randomFloats(6, seed: 1)), f([2, 3], randomFloats(6, seed: 2))]
            )
        }
        expectError(.runtimeFailure, ["batch dimensions"]) {
            _ = try runOperator("MatMul", inputs: [f([2, 1, 1], [1, 2]), f([3, 1, 1], [1, 2, 3])])
        }
        expectError(.runtimeFailure, ["rank >= 1"]) {
            _ = try runOperator("MatMul", inputs: [f([], [1]), f([1], [1])])
        }
        expectError(.unsupportedOperator, ["MatMul", "bool"]) {
            let b = Tensor(unchecked: [1, 1], elements: [true])
            _ = try runOperator("MatMul", inputs: [b, b])
        }
        expectError(.invalidGraph, ["input 1", "expected float"]) {
            _ = try runOperator("MatMul", inputs: [f([1, 1], [1]), Tensor(unchecked: [1, 1], elements: [1.0])])
        }
    }

    // MARK: Gemm

    @Test(arguments: [false, true])
    func gemmAppliesAllAttributes(constants: Bool) throws {
        let (m, k, n) = (9, 6, 11)
        let a = randomFloats(m * k, seed: 5)
        let b = randomFloats(k * n, seed: 6)
        let c = randomFloats(n, seed: 7)
        let product = reference(a, b, m: m, k: k, n: n)
        let expected = (0..<(m * n)).map { 0.25 * product[$0] + 0.5 * c[$0 % n] }
        let attributes: [String: Attribute] = [
            "alpha": .float(0.25), "beta": .float(0.5), "transA": .int(1), "transB": .int(1),
        ]
        let y = output(
            try runOperator(
                "Gemm",
                attributes: attributes,
                inputs: [
                    f([k, m], transpose(a, rows: m, cols: k)), f([n, k], transpose(b, rows: k, cols: n)), f([n], c),
                ],
                constants: constants
            )
        )
        #expect(y?.shape == [m, n])
        expectClose(y?.floats, expected)
    }

    @Test func gemmBroadcastsEveryBiasShape() throws {
        let a = f([2, 2], [1, 2, 3, 4])
        let b = f([2, 2], [1, 0, 0, 1])
        let cases: [(Tensor?, [Float])] = [
            (nil, [1, 2, 3, 4]),
            (f([], [10]), [11, 12, 13, 14]),
            (f([1], [10]), [11, 12, 13, 14]),
            (f([2], [10, 20]), [11, 22, 13, 24]),
            (f([2, 1], [10, 20]), [11, 12, 23, 24]),
            (f([1, 2], [10, 20]), [11, 22, 13, 24]),
            (f([2, 2], [10, 20, 30, 40]), [11, 22, 33, 44]),
        ]
        for (c, expected) in cases {
            let y = output(try runOperator("Gemm", inputs: [a, b] + (c.map { [$0] } ?? [])))
            #expect(y?.floats == expected, "C \(c?.shape ?? [])")
        }
        expectError(.runtimeFailure, ["Gemm", "C of shape [3]", "[2, 2]"]) {
            _ = try runOperator("Gemm", inputs: [a, b, f([3], [1, 2, 3])])
        }
    }

    @Test func gemmRequiresBiasBeforeOpset11() {
        let a = f([1, 1], [2])
        expectError(.invalidGraph, ["Gemm", "expects 3 inputs"]) {
            _ = try runOperator("Gemm", opset: 10, inputs: [a, a])
        }
    }

    @Test func gemmMatchesReferenceOnLargeBatches() throws {
        // The LogisticRegression shape, with B constant and transposed as converters emit it.
        let (m, k, n) = (1000, 64, 10)
        let a = randomFloats(m * k, seed: 8)
        let b = randomFloats(k * n, seed: 9)
        let c = randomFloats(n, seed: 10)
        let product = reference(a, b, m: m, k: k, n: n)
        let expected = (0..<(m * n)).map { product[$0] + c[$0 % n] }
        for threads in [1, 2] {
            let y = output(
                try runOperator(
                    "Gemm",
                    attributes: ["transB": .int(1)],
                    inputs: [f([m, k], a), f([n, k], transpose(b, rows: k, cols: n)), f([1, n], c)],
                    constants: true,
                    threads: threads
                )
            )
            expectClose(y?.floats, expected)
        }
    }

    @Test func gemmSupportsIntegerAndDoubleTypes() throws {
        let a = Tensor(unchecked: [1, 2], elements: [Int32(1), 2])
        let b = Tensor(unchecked: [2, 1], elements: [Int32(3), 4])
        let c = Tensor(unchecked: [1], elements: [Int32(5)])
        let y = output(
            try runOperator("Gemm", attributes: ["alpha": .float(2), "beta": .float(3)], inputs: [a, b, c])
        )
        #expect(y?.int32s == [2 * 11 + 15])
        let ad = Tensor(unchecked: [1, 1], elements: [2.0])
        #expect(
            output(try runOperator("Gemm", attributes: ["alpha": .float(0.5)], inputs: [ad, ad]))?.doubles == [2.0]
        )
        let a64 = Tensor(unchecked: [1, 1], elements: [Int64(3)])
        #expect(output(try runOperator("Gemm", inputs: [a64, a64, a64]))?.int64s == [12])
    }

    @Test func gemmRejectsBadAttributesAndShapes() {
        let a = f([2, 3], randomFloats(6, seed: 1))
        expectError(.invalidAttribute, ["'transA'", "expected 0 or 1"]) {
            _ = try runOperator("Gemm", attributes: ["transA": .int(2)], inputs: [a, a])
        }
        expectError(.invalidAttribute, ["'alpha'", "type float"]) {
            _ = try runOperator("Gemm", attributes: ["alpha": .int(2)], inputs: [a, a])
        }
        expectError(.invalidAttribute, ["'alpha'", "whole number"]) {
            let i = Tensor(unchecked: [1, 1], elements: [Int64(1)])
            _ = try runOperator("Gemm", attributes: ["alpha": .float(0.5)], inputs: [i, i])
        }
        expectError(.invalidAttribute, ["'beta'", "whole number"]) {
            let i = Tensor(unchecked: [1, 1], elements: [Int32(1)])
            _ = try runOperator("Gemm", attributes: ["beta": .float(2_147_483_648)], inputs: [i, i, i])
        }
        expectError(.runtimeFailure, ["Gemm", "not aligned"]) {
            _ = try runOperator("Gemm", inputs: [a, a])
        }
        expectError(.runtimeFailure, ["2-D"]) {
            _ = try runOperator("Gemm", inputs: [f([3], [1, 2, 3]), a])
        }
        expectError(.invalidGraph, ["input 1", "2-D"]) {
            _ = try runOperator("Gemm", inputs: [a, f([3], [1, 2, 3])], constants: true)
        }
        expectError(.unsupportedOperator, ["Gemm", "string"]) {
            let s = Tensor(unchecked: [1, 1], elements: ["x"])
            _ = try runOperator("Gemm", inputs: [s, s])
        }
    }
}
