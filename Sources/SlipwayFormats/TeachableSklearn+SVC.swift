import SlipwayInference

/// SVC: libsvm's one-vs-one decision values, votes and (with `probability=True`) Platt scaling coupled into class
/// probabilities by libsvm's `multiclass_probability`, all in float64 with libsvm's arithmetic.
extension TeachableSklearn {
    static func supportVectorClassifier(_ f: SklearnFields, _ g: inout GraphBuilder) throws -> Int {
        let classes = try f.classes(maximum: 32)
        let k = classes.count
        let pairs = k * (k - 1) / 2
        let params = try f.object("params")
        if case .object = try f.value("support_vectors_") {
            throw FormatError("field 'support_vectors_' is a sparse matrix; SVC fitted on sparse data is not supported")
        }
        let vectors = try f.matrix("support_vectors_")
        let features = vectors.columns
        try Self.checkFeatures(features, field: "support_vectors_")
        let perClass = try SklearnFields.vector(try f.value("_n_support"), name: "'_n_support'")
        guard perClass.count == k,
            perClass.allSatisfy({ $0 >= 1 && $0 <= Double(vectors.rows) && $0 == $0.rounded() }),
            perClass.reduce(0, +) == Double(vectors.rows)
        else {
            throw FormatError(
                "field '_n_support' must list \(k) positive counts (one per class) adding up to the "
                    + "\(vectors.rows) rows of 'support_vectors_'"
            )
        }
        let counts = perClass.map { Int($0) }
        let dual = try f.matrix("_dual_coef_")
        guard dual.rows == k - 1, dual.columns == vectors.rows else {
            throw FormatError(
                "field '_dual_coef_' is \(dual.rows) × \(dual.columns), expected \(k - 1) × "
                    + "\(vectors.rows) (classes - 1 × support vectors)"
            )
        }
        guard vectors.rows * pairs <= SklearnFields.maximumElements else {
            throw FormatError(
                "the model has \(vectors.rows) support vectors and \(pairs) class pairs, more than the "
                    + "\(SklearnFields.maximumElements) coefficients accepted"
            )
        }
        let intercept = try f.vector("_intercept_")
        guard intercept.count == pairs else {
            throw FormatError(
                "field '_intercept_' has \(intercept.count) values, expected \(pairs) (one per pair "
                    + "of classes)"
            )
        }
        let probA = try f.vector("_probA")
        let probB = try f.vector("_probB")
        guard probA.count == probB.count, probA.isEmpty || probA.count == pairs else {
            throw FormatError(
                "fields '_probA' and '_probB' have \(probA.count) and \(probB.count) values, expected "
                    + "\(pairs) each (one per pair of classes), or none for SVC(probability=False)"
            )
        }
        if k > 2, params.has("break_ties"), try params.bool("break_ties") {
            throw FormatError("field 'params.break_ties' is true, which is not supported; refit with break_ties=False")
        }

        let x = Self.input(&g)
        let kernel = try Self.kernel(f, params: params, x: x, vectors: vectors, &g)

        // Decision values of each pair (i, j): the coefficients of class i's vectors are in row j - 1 of
        // _dual_coef_, those of class j's in row i; libsvm adds -rho, which scikit-learn keeps as _intercept_.
        var starts: [Int] = []
        var start = 0
        for count in counts {
            starts.append(start)
            start += count
        }
        var coefficients = [Double](repeating: 0, count: vectors.rows * pairs)
        var firstOfPair = [Double](repeating: 0, count: pairs * k)
        var secondOfPair = [Double](repeating: 0, count: pairs * k)
        var p = 0
        for i in 0..<k {
            for j in (i + 1)..<k {
                for v in starts[i]..<(starts[i] + counts[i]) { coefficients[v * pairs + p] = dual[j - 1, v] }
                for v in starts[j]..<(starts[j] + counts[j]) { coefficients[v * pairs + p] = dual[i, v] }
                firstOfPair[p * k + i] = 1
                secondOfPair[p * k + j] = 1
                p += 1
            }
        }
        let decision = try g.affine(
            kernel,
            weights: Matrix(rows: vectors.rows, columns: pairs, values: coefficients),
            bias: intercept
        )

        // Votes: a positive decision votes for i, any other for j; the first class with most votes wins.
        let zero = try g.scalar("zero", 0)
        let positive = g.toDouble(g.node("Greater", [decision, zero]))
        var voteWeights = firstOfPair
        for index in voteWeights.indices { voteWeights[index] -= secondOfPair[index] }
        var secondVotes = [Double](repeating: 0, count: k)
        for index in secondOfPair.indices where secondOfPair[index] != 0 { secondVotes[index % k] += 1 }
        let votes = try g.affine(
            positive,
            weights: Matrix(rows: pairs, columns: k, values: voteWeights),
            bias: secondVotes
        )
        try g.label(g.argmax(votes), classes: classes)

        if !probA.isEmpty {
            let probabilities = try Self.coupledProbabilities(
                decision,
                probA: probA,
                probB: probB,
                classes: k,
                firstOfPair: firstOfPair,
                secondOfPair: secondOfPair,
                &g
            )
            g.probabilities(probabilities, classes: k)
        }
        return features
    }

    /// The kernel values `[N, vectors]` of libsvm's `k_function`.
    static func kernel(
        _ f: SklearnFields,
        params: SklearnFields,
        x: String,
        vectors: Matrix,
        _ g: inout GraphBuilder
    ) throws -> String {
        let name = try params.string("kernel")
        let transposed = try g.doubles("support_vectors", [vectors.columns, vectors.rows], vectors.transposed().values)
        let dot = g.node("MatMul", [x, transposed])
        if name == "linear" { return dot }
        let gamma = try f.number("_gamma")
        let gammaName = try g.scalar("gamma", gamma)
        switch name {
        case "rbf":
            // exp(-gamma |x - v|²) with |x - v|² = |x|² + |v|² - 2 x·v
            var norms = [Double](repeating: 0, count: vectors.rows)
            for v in 0..<vectors.rows {
                for c in 0..<vectors.columns { norms[v] += vectors[v, c] * vectors[v, c] }
            }
            let xx = try g.reduceSum(g.node("Mul", [x, x]), axis: 1)
            let vv = try g.doubles("support_vector_norms", [vectors.rows], norms)
            let two = try g.scalar("two", 2)
            let distances = g.node("Sub", [g.node("Add", [xx, vv]), g.node("Mul", [dot, two])])
            return g.node("Exp", [g.node("Mul", [distances, g.node("Neg", [gammaName])])])
        case "poly", "sigmoid":
            let coef0 = try g.scalar("coef0", try params.number("coef0"))
            let z = g.node("Add", [g.node("Mul", [dot, gammaName]), coef0])
            if name == "sigmoid" { return g.node("Tanh", [z]) }
            let degree = try params.integer("degree", in: 0...32)
            return g.node("Pow", [z, try g.scalar("degree", Double(degree))])
        default:
            throw FormatError("field 'params.kernel' is '\(name)', expected linear, poly, rbf or sigmoid")
        }
    }

    /// libsvm's `svm_predict_probability`: pairwise Platt probabilities clamped to [1e-7, 1 - 1e-7], coupled by
    /// `multiclass_probability` (also for two classes, as scikit-learn's libsvm does). The coupling iterates up to
    /// max(100, k) times per row and stops a row once its error is below 0.005 / k. A `Loop` runs the iterations
    /// for all rows at once, leaves converged rows unchanged (their update is multiplied by 0), which gives each row
    /// libsvm's exact sequence, and stops when no row changed.
    static func coupledProbabilities(
        _ decision: String,
        probA: [Double],
        probB: [Double],
        classes k: Int,
        firstOfPair: [Double],
        secondOfPair: [Double],
        _ g: inout GraphBuilder
    ) throws -> String {
        let pairs = probA.count
        let a = try g.doubles("prob_a", [pairs], probA)
        let b = try g.doubles("prob_b", [pairs], probB)
        let fApB = g.node("Add", [g.node("Mul", [decision, a]), b])
        let platt = g.node("Sigmoid", [g.node("Neg", [fApB])])  // 1 / (1 + exp(fApB))
        let low = try g.scalar("min_prob", 1e-7)
        let high = try g.scalar("max_prob", 1 - 1e-7)
        let one = try g.scalar("one", 1)
        let r = g.node("Clip", [platt, low, high])  // r[i][j] for each pair i < j
        let rc = g.node("Sub", [one, r])  // r[j][i]
        // Q[t][t] = sum over j != t of r[j][t]²: r[j][t] is r of pair (j, t) for j < t and 1 - r of pair (t, j).
        let second = try g.doubles("pair_second", [pairs, k], secondOfPair)
        let first = try g.doubles("pair_first", [pairs, k], firstOfPair)
        let diagonal = g.node(
            "Add",
            [
                g.node("MatMul", [g.node("Mul", [r, r]), second]),
                g.node("MatMul", [g.node("Mul", [rc, rc]), first]),
            ]
        )
        // Q[i][j] = Q[j][i] = -r[j][i] * r[i][j]
        var scatter = [Double](repeating: 0, count: pairs * k * k)
        var p = 0
        for i in 0..<k {
            for j in (i + 1)..<k {
                scatter[p * k * k + i * k + j] = 1
                scatter[p * k * k + j * k + i] = 1
                p += 1
            }
        }
        var place = [Double](repeating: 0, count: k * k * k)
        for t in 0..<k { place[t * k * k + t * k + t] = 1 }
        let offDiagonal = g.node(
            "MatMul",
            [g.node("Neg", [g.node("Mul", [r, rc])]), try g.doubles("scatter", [pairs, k * k], scatter)]
        )
        let flat = g.node(
            "Add",
            [offDiagonal, g.node("MatMul", [diagonal, try g.doubles("place", [k, k * k], place)])]
        )
        let q = g.node("Reshape", [flat, try g.int64s("q_shape", [0, Int64(k), Int64(k)])])
        var qtt: [String] = []
        var qRows: [String] = []
        for t in 0..<k {
            let index = g.constant("t", try Tensor(shape: [], int64s: [Int64(t)]))
            qRows.append(g.node("Gather", [q, index], [GraphBuilder.int("axis", 1)]))
            qtt.append(
                g.node(
                    "Slice",
                    [
                        diagonal, try g.int64s("start", [Int64(t)]), try g.int64s("end", [Int64(t + 1)]),
                        try g.int64s("axis", [1]),
                    ]
                )
            )
        }
        let start = g.node(
            "Add",
            [g.node("Mul", [diagonal, try g.scalar("zero", 0)]), try g.scalar("one_over_k", 1 / Double(k))]
        )

        // The body: one iteration of multiclass_probability for every row.
        var body = GraphBuilder(name: "multiclass_probability", prefix: "scan_")
        body.input("scan_iteration", .int64, [])
        body.input("scan_condition", .bool, [])
        body.input("scan_p", .double, [nil, k])
        let eps = try g.scalar("eps", 0.005 / Double(k))
        let two = try g.scalar("two", 2)
        let unsqueezeAxis = try g.int64s("unsqueeze_axis", [1])
        let axis2 = try g.int64s("axis2", [2])
        let axis1 = try g.int64s("axis1", [1])
        var pv = "scan_p"
        var qp = body.node(
            "ReduceSum",
            [body.node("Mul", [q, body.node("Unsqueeze", [pv, unsqueezeAxis])]), axis2],
            [GraphBuilder.int("keepdims", 0)]
        )
        var pqp = body.node("ReduceSum", [body.node("Mul", [pv, qp]), axis1], [GraphBuilder.int("keepdims", 1)])
        let error = body.node(
            "ReduceMax",
            [body.node("Abs", [body.node("Sub", [qp, pqp])])],
            [GraphBuilder.ints("axes", [1]), GraphBuilder.int("keepdims", 1)]
        )
        let active = body.toDouble(body.node("GreaterOrEqual", [error, eps]))
        for t in 0..<k {
            var unit = [Double](repeating: 0, count: k)
            unit[t] = 1
            let e = try g.doubles("unit", [k], unit)
            let qpt = body.node(
                "Slice",
                [qp, try g.int64s("start", [Int64(t)]), try g.int64s("end", [Int64(t + 1)]), axis1]
            )
            let diff = body.node("Mul", [body.node("Div", [body.node("Sub", [pqp, qpt]), qtt[t]]), active])
            pv = body.node("Add", [pv, body.node("Mul", [diff, e])])
            let onePlus = body.node("Add", [diff, one])
            let inner = body.node("Add", [body.node("Mul", [diff, qtt[t]]), body.node("Mul", [qpt, two])])
            pqp = body.node(
                "Div",
                [body.node("Div", [body.node("Add", [pqp, body.node("Mul", [diff, inner])]), onePlus]), onePlus]
            )
            qp = body.node("Div", [body.node("Add", [qp, body.node("Mul", [diff, qRows[t]])]), onePlus])
            pv = body.node("Div", [pv, onePlus])
        }
        // Go on while some row was still updated in this iteration.
        let anyActive = body.node("ReduceSum", [active], [GraphBuilder.int("keepdims", 0)])
        body.node("Greater", [anyActive, try g.scalar("zero", 0)], output: "scan_condition_out")
        body.output("scan_condition_out", .bool, [])
        body.node("Identity", [pv], output: "scan_p_out")
        body.output("scan_p_out", .double, [nil, k])

        let iterations = g.constant("max_iterations", try Tensor(shape: [], int64s: [Int64(max(100, k))]))
        let proceed = g.constant("proceed", try Tensor(shape: [], bools: [true]))
        return g.node("Loop", [iterations, proceed, start], [GraphBuilder.graph("body", body.graph)])
    }
}
