import Foundation

/// `SVMClassifier` and `SVMRegressor` (ai.onnx.ml 1), computed in float32 like ONNX Runtime.
enum SVMOperators {
    static let all: [OperatorDefinition] = [
        OperatorDefinition(onnxMLDomain, "SVMClassifier", opsets: 1...5) { ctx in
            try SVMOperators.compileClassifier(ctx)
        },
        OperatorDefinition(onnxMLDomain, "SVMRegressor", opsets: 1...5) { ctx in try SVMOperators.compileRegressor(ctx)
        },
    ]

    enum KernelType: Sendable {
        case linear, poly, rbf, sigmoid
    }

    /// A kernel function with its parameters.
    struct SVMKernel: Sendable {
        var type: KernelType
        var gamma: Float
        var coef0: Float
        var degree: Float

        static func parse(_ ctx: NodeContext) throws -> SVMKernel {
            let name = try ctx.string("kernel_type", default: "LINEAR", oneOf: ["LINEAR", "POLY", "RBF", "SIGMOID"])
            let type: KernelType =
                switch name {
                case "POLY": .poly
                case "RBF": .rbf
                case "SIGMOID": .sigmoid
                default: .linear
                }
            let params = try ctx.floats("kernel_params", default: [])
            guard params.isEmpty || params.count == 3 else {
                throw ctx.attributeError(
                    "kernel_params",
                    "has \(params.count) entries, expected 3 (gamma, coef0, degree)"
                )
            }
            return SVMKernel(
                type: type,
                gamma: params.first ?? 0,
                coef0: params.count == 3 ? params[1] : 0,
                degree: params.count == 3 ? params[2] : 0
            )
        }

        /// `k(x, v)` for one input row and one vector; `c` is added to the linear dot product.
        @inline(__always)
        func apply(_ x: UnsafePointer<Float>, _ v: UnsafePointer<Float>, _ k: Int, c: Float = 0) -> Float {
            switch self.type {
            case .rbf:
                var sum: Float = 0
                for f in 0..<k {
                    let d = x[f] - v[f]
                    sum += d * d
                }
                return Foundation.exp(-self.gamma * sum)
            case .linear:
                var dot: Float = 0
                for f in 0..<k { dot += x[f] * v[f] }
                return dot + c
            case .poly, .sigmoid:
                var dot: Float = 0
                for f in 0..<k { dot += x[f] * v[f] }
                let z = self.gamma * dot + self.coef0
                if self.type == .sigmoid { return Foundation.tanh(z) }
                if self.degree == 2 { return z * z }
                if self.degree == 3 { return z * z * z }
                return Foundation.pow(z, self.degree)
            }
        }
    }

    static func compileClassifier(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        var kernel = try SVMKernel.parse(ctx)
        let transform = try PostTransform.parse(ctx)
        let labels = try LinearOperators.Labels.parse(ctx, intName: "classlabels_ints")
        let classes = labels.count
        let perClass = try ctx.ints("vectors_per_class", default: [])
        let supportVectors = try ctx.floats("support_vectors", default: [])
        let coefficients = try ctx.floats("coefficients")
        let rho = try ctx.floats("rho")
        let probA = try ctx.floats("prob_a", default: [])
        let probB = try ctx.floats("prob_b", default: [])
        guard probA.count == probB.count else {
            throw ctx.attributeError("prob_b", "has \(probB.count) entries, expected \(probA.count) like 'prob_a'")
        }
        guard classes >= 2, classes < 65536 else {
            throw ctx.attributeError("classlabels_ints", "lists \(classes) classes, expected 2 to 65535")
        }
        guard !coefficients.isEmpty else { throw ctx.attributeError("coefficients", "is empty") }
        guard perClass.allSatisfy({ $0 >= 0 }) else {
            throw ctx.attributeError("vectors_per_class", "has a negative entry")
        }
        let vectorCount = perClass.reduce(0, +)
        let pairs = classes * (classes - 1) / 2
        let svc = vectorCount > 0
        let features: Int
        if svc {
            guard perClass.count == classes else {
                throw ctx.attributeError("vectors_per_class", "has \(perClass.count) entries, expected \(classes)")
            }
            guard supportVectors.count % vectorCount == 0, supportVectors.count > 0 else {
                throw ctx.attributeError(
                    "support_vectors",
                    "has \(supportVectors.count) values, expected a multiple of \(vectorCount) vectors"
                )
            }
            features = supportVectors.count / vectorCount
            guard coefficients.count >= (classes - 1) * vectorCount else {
                throw ctx.attributeError(
                    "coefficients",
                    "has \(coefficients.count) entries, expected \((classes - 1) * vectorCount)"
                )
            }
            guard rho.count >= pairs else {
                throw ctx.attributeError("rho", "has \(rho.count) entries, expected \(pairs)")
            }
            guard probA.isEmpty || probA.count >= pairs else {
                throw ctx.attributeError("prob_a", "has \(probA.count) entries, expected \(pairs)")
            }
        } else {
            guard coefficients.count % classes == 0 else {
                throw ctx.attributeError(
                    "coefficients",
                    "has \(coefficients.count) entries, expected a multiple of \(classes)"
                )
            }
            features = coefficients.count / classes
            guard !rho.isEmpty else { throw ctx.attributeError("rho", "must have at least one entry") }
            kernel.type = .linear
        }
        var startList: [Int] = []
        var s = 0
        for c in perClass {
            startList.append(s)
            s += c
        }
        let starts = startList
        let svmKernel = kernel
        let haveProba = !probA.isEmpty
        let width = svc && !haveProba ? (classes > 2 ? pairs : 2) : classes
        let perRowScores = svc && !haveProba ? pairs : classes
        let writeAdditional = svc && !haveProba && classes <= 2 ? (transform == .none ? 2 : 0) : -1
        let allPositive = coefficients.allSatisfy { $0 >= 0 }
        let label = ctx.label
        let run = ClosureKernel { inputs, context in
            let x = try FeatureMatrix.floats(try inputs.tensor(0), op: label)
            guard x.columns == features else {
                throw InferenceError(.runtimeFailure, "\(label): input has \(x.columns) features, expected \(features)")
            }
            var scores = [Float](repeating: 0, count: x.rows * width)
            var indices = [Int](repeating: 0, count: x.rows)
            x.values.withUnsafeBufferPointer { xp in
                supportVectors.withUnsafeBufferPointer { svp in
                    coefficients.withUnsafeBufferPointer { cp in
                        scores.withUnsafeMutableBufferPointer { sp in
                            indices.withUnsafeMutableBufferPointer { ip in
                                let sp = sp
                                let ip = ip
                                context.parallelChunks(x.rows, minimumPerThread: 32) { range in
                                    var kernels = [Float](repeating: 0, count: vectorCount)
                                    var pairScores = [Float](repeating: 0, count: pairs)
                                    var votes = [Int](repeating: 0, count: classes)
                                    var matrix = [Float](repeating: 0, count: classes * classes)
                                    for n in range {
                                        guard let row = xp.baseAddress.map({ $0 + n * features }) else { continue }
                                        let out = UnsafeMutableBufferPointer(
                                            rebasing: sp[(n * width)..<(n * width + width)]
                                        )
                                        var maxWeight: Float = 0
                                        var maxClass = 0
                                        if svc {
                                            for v in 0..<vectorCount {
                                                kernels[v] = svmKernel.apply(
                                                    row,
                                                    svp.baseAddress! + v * features,
                                                    features
                                                )
                                            }
                                            for c in 0..<classes { votes[c] = 0 }
                                            var index = 0
                                            for i in 0..<(classes - 1) {
                                                for j in (i + 1)..<classes {
                                                    var sum: Double = 0
                                                    for m in 0..<perClass[i] {
                                                        sum += Double(
                                                            cp[vectorCount * (j - 1) + starts[i] + m]
                                                                * kernels[starts[i] + m]
                                                        )
                                                    }
                                                    for m in 0..<perClass[j] {
                                                        sum += Double(
                                                            cp[vectorCount * i + starts[j] + m] * kernels[starts[j] + m]
                                                        )
                                                    }
                                                    sum += Double(rho[index])
                                                    pairScores[index] = Float(sum)
                                                    votes[sum > 0 ? i : j] += 1
                                                    index += 1
                                                }
                                            }
                                            if haveProba {
                                                SVMOperators.pairwiseProbabilities(
                                                    pairScores,
                                                    probA,
                                                    probB,
                                                    classes,
                                                    &matrix,
                                                    out
                                                )
                                            } else {
                                                for p in 0..<pairs { out[p] = pairScores[p] }
                                            }
                                            for c in 1..<classes where votes[c] > votes[maxClass] { maxClass = c }
                                        } else {
                                            for c in 0..<classes {
                                                out[c] = svmKernel.apply(
                                                    row,
                                                    cp.baseAddress! + c * features,
                                                    features,
                                                    c: rho[0]
                                                )
                                            }
                                            for c in 1..<classes where out[c] > out[maxClass] { maxClass = c }
                                            maxWeight = out[maxClass]
                                        }
                                        if pairs == 1 && !haveProba {
                                            if allPositive && maxWeight >= 0.5 {
                                                maxClass = 1
                                            } else if maxWeight > 0 && !allPositive {
                                                maxClass = 1
                                            }
                                        }
                                        ip[n] = maxClass
                                        LinearOperators.finishScores(
                                            out,
                                            scores: perRowScores,
                                            transform: transform,
                                            addSecondClass: writeAdditional
                                        )
                                    }
                                }
                            }
                        }
                    }
                }
            }
            let y = labels.tensor(indices) { _ in ("", 0) }
            return [.tensor(y), .tensor(Tensor(unchecked: [x.rows, width], elements: scores))]
        }
        return CompiledKernel(run, outputs: [.tensor(labels.elementType), .tensor(.float)])
    }

    /// Platt-scaled pairwise probabilities coupled into class probabilities (libsvm's method, as ORT does).
    static func pairwiseProbabilities(
        _ scores: [Float],
        _ probA: [Float],
        _ probB: [Float],
        _ k: Int,
        _ r: inout [Float],
        _ p: UnsafeMutableBufferPointer<Float>
    ) {
        for i in 0..<(k * k) { r[i] = 0 }
        var index = 0
        for i in 0..<(k - 1) {
            for j in (i + 1)..<k {
                let v = 1 - MLMath.logistic(scores[index] * probA[index] + probB[index])
                let clamped = min(max(v, 1.0e-7), 1 - 1.0e-7)
                r[i * k + j] = clamped
                r[j * k + i] = 1 - clamped
                index += 1
            }
        }
        var q = [Float](repeating: 0, count: k * k)
        var qp = [Float](repeating: 0, count: k)
        let eps = 0.005 / Float(k)
        for i in 0..<k {
            p[i] = 1 / Float(k)
            for j in 0..<i {
                q[i * k + i] += r[j * k + i] * r[j * k + i]
                q[i * k + j] = q[j * k + i]
            }
            for j in (i + 1)..<k {
                q[i * k + i] += r[j * k + i] * r[j * k + i]
                q[i * k + j] = -r[j * k + i] * r[i * k + j]
            }
        }
        for _ in 0..<100 {
            var pqp: Float = 0
            for i in 0..<k {
                qp[i] = 0
                for j in 0..<k { qp[i] += q[i * k + j] * p[j] }
                pqp += p[i] * qp[i]
            }
            var maxError: Float = 0
            for i in 0..<k {
                let error = abs(qp[i] - pqp)
                if error > maxError { maxError = error }
            }
            if maxError < eps { break }
            for i in 0..<k {
                let diff = (-qp[i] + pqp) / q[i * k + i]
                p[i] += diff
                pqp = (pqp + diff * (diff * q[i * k + i] + 2 * qp[i])) / (1 + diff) / (1 + diff)
                for j in 0..<k {
                    qp[j] = (qp[j] + diff * q[i * k + j]) / (1 + diff)
                    p[j] /= (1 + diff)
                }
            }
        }
    }

    static func compileRegressor(_ ctx: NodeContext) throws -> CompiledKernel {
        try ctx.requireInputs(1...1)
        try ctx.requireInputType(0, in: LinearOperators.featureTypes)
        var kernel = try SVMKernel.parse(ctx)
        _ = try PostTransform.parse(ctx)
        let vectorCount = try ctx.int("n_supports", default: 0)
        let supportVectors = try ctx.floats("support_vectors", default: [])
        let coefficients = try ctx.floats("coefficients")
        let rho = try ctx.floats("rho")
        let oneClass = try ctx.int("one_class", default: 0) != 0
        guard !coefficients.isEmpty else { throw ctx.attributeError("coefficients", "is empty") }
        guard !rho.isEmpty else { throw ctx.attributeError("rho", "must have at least one entry") }
        guard vectorCount >= 0 else { throw ctx.attributeError("n_supports", "is \(vectorCount), expected >= 0") }
        let features: Int
        if vectorCount > 0 {
            guard supportVectors.count % vectorCount == 0, !supportVectors.isEmpty else {
                throw ctx.attributeError(
                    "support_vectors",
                    "has \(supportVectors.count) values, expected a multiple of \(vectorCount) vectors"
                )
            }
            guard coefficients.count >= vectorCount else {
                throw ctx.attributeError("coefficients", "has \(coefficients.count) entries, expected \(vectorCount)")
            }
            features = supportVectors.count / vectorCount
        } else {
            features = coefficients.count
            kernel.type = .linear
        }
        let label = ctx.label
        let svmKernel = kernel
        let run = ClosureKernel { inputs, context in
            let x = try FeatureMatrix.floats(try inputs.tensor(0), op: label)
            guard x.columns == features else {
                throw InferenceError(.runtimeFailure, "\(label): input has \(x.columns) features, expected \(features)")
            }
            var y = [Float](repeating: 0, count: x.rows)
            x.values.withUnsafeBufferPointer { xp in
                supportVectors.withUnsafeBufferPointer { svp in
                    coefficients.withUnsafeBufferPointer { cp in
                        y.withUnsafeMutableBufferPointer { yp in
                            let yp = yp
                            context.parallelChunks(x.rows, minimumPerThread: 32) { range in
                                for n in range {
                                    guard let row = xp.baseAddress.map({ $0 + n * features }) else { continue }
                                    var value: Float
                                    if vectorCount > 0 {
                                        var sum: Float = 0
                                        for v in 0..<vectorCount {
                                            sum +=
                                                cp[v] * svmKernel.apply(row, svp.baseAddress! + v * features, features)
                                        }
                                        value = sum + rho[0]
                                    } else {
                                        value = svmKernel.apply(row, cp.baseAddress!, features, c: rho[0])
                                    }
                                    if oneClass { value = value > 0 ? 1 : -1 }
                                    yp[n] = value
                                }
                            }
                        }
                    }
                }
            }
            return [.tensor(Tensor(unchecked: [x.rows, 1], elements: y))]
        }
        return CompiledKernel(run, outputs: [.tensor(.float)])
    }
}
