import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayAPI
import SlipwayInference
import SlipwayRuntime
import Testing

// TeachableHub's prediction API (`POST /v1/{owner}/{model}/predict/`, docs/predictions.md) on a real server built
// with `buildApplication`: the iris example (schema, classes, samples) and zoo models (a regressor and a classifier
// without classes), every query parameter, every credential, every bad input of issue 4, rate limits and request ids.

/// The repository's root folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A file of the iris example (`examples/iris`) as text.
func irisExample(_ name: String) throws -> String {
    try String(contentsOf: repositoryRoot.appendingPathComponent("examples/iris/\(name)"), encoding: .utf8)
}

/// The iris example's ONNX model (a logistic regression with a `[N, 3]` probability output).
func irisExampleModel() throws -> Data {
    try Data(contentsOf: repositoryRoot.appendingPathComponent("examples/iris/model.onnx"))
}

/// The iris example's probabilities for its three sample rows (examples/iris/expected.json, four decimals).
let irisExpectedProbabilities: [[Double]] = [[0.9816, 0.0184, 0.0], [0.056, 0.9375, 0.0066], [0.0, 0.0241, 0.9759]]
let irisClasses = ["setosa", "versicolor", "virginica"]
let irisSampleRows = "[[5.1, 3.5, 1.4, 0.2], [5.0, 2.0, 3.5, 1.0], [6.9, 3.2, 5.7, 2.3]]"

/// The rows of a zoo model's `expected.json` input `[N, F]` as JSON text (`[[…], …]`), and N.
func zooRows(_ name: String, count: Int? = nil) throws -> (json: String, rows: [[Double]]) {
    let expected = try zooExpected(name)
    guard case .array(let inputs)? = expected["inputs"], let input = inputs.first,
        case .array(let shape)? = input["shape"], shape.count == 2,
        case .int(let width) = shape[1], case .array(let data)? = input["data"]
    else { throw InferenceError(.invalidRequest, "\(name)'s expected.json has no [N, F] input") }
    let values: [Double] = data.compactMap { value in
        switch value {
        case .int(let x): Double(x)
        case .double(let x): x
        case .float(let x): Double(x)
        default: nil
        }
    }
    var rows = stride(from: 0, to: values.count, by: Int(width)).map { Array(values[$0..<$0 + Int(width)]) }
    if let count { rows = Array(rows.prefix(count)) }
    let json = "[" + rows.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: ", ") + "]"
    return (json, rows)
}

extension TestAPI {
    /// Deploys `file` with the given metadata; when `status` is given the administrator's route records it, and
    /// `activate` then activates the version. Returns the version.
    @discardableResult
    func ship(
        _ model: String,
        _ environment: String = "production",
        file: Data,
        schema: String? = nil,
        samples: String? = nil,
        classes: String? = nil,
        status: String? = "verified",
        activate: Bool = true,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Int {
        var fields = ["summary": "prediction test model"]
        if let schema { fields["schema"] = schema }
        if let samples { fields["samples"] = samples }
        if let classes { fields["classes"] = classes }
        let reply = try await self.upload(
            "/api/v1/models/\(model)/environments/\(environment)/deployments",
            as: self.admin,
            .deploy(file: file, fields: fields)
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
        let version = try #require(reply.json["version"]?.int, sourceLocation: sourceLocation)
        if let status {
            let recorded = try await self.post(
                "/api/v1/models/\(model)/environments/\(environment)/deployments/\(version)/status",
                as: self.admin,
                json: status == "failed"
                    ? #"{"state": "failed", "reason": "set by the test"}"# : #"{"state": "\#(status)"}"#
            )
            try #require(recorded.status == .ok, "\(recorded)", sourceLocation: sourceLocation)
            if activate && status == "verified" {
                try await self.activate(model, environment, version, sourceLocation: sourceLocation)
            }
        }
        return version
    }

    /// Deploys the iris example (schema, classes, samples) to `environment` of `model`, verified and active.
    @discardableResult
    func shipIrisExample(
        _ model: String,
        _ environment: String = "production",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Int {
        try await self.ship(
            model,
            environment,
            file: try irisExampleModel(),
            schema: try irisExample("schema.json"),
            samples: try irisExample("samples.json"),
            classes: try irisExample("classes.json"),
            sourceLocation: sourceLocation
        )
    }

    /// Creates a model with the administrator's token.
    func makeModel(
        _ fullName: String,
        isPublic: Bool = false,
        publicPredictions: Bool = false,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let parts = fullName.split(separator: "/")
        let reply = try await self.post(
            "/api/v1/models",
            as: self.admin,
            json:
                #"{"owner": "\#(parts[0])", "name": "\#(parts[1])", "public": \#(isPublic), "public_predictions": \#(publicPredictions)}"#
        )
        try #require(reply.status == .created, "\(reply)", sourceLocation: sourceLocation)
    }

    /// Posts a prediction request.
    func predict(
        _ path: String,
        as credential: Credential = .anonymous,
        json: String,
        headers: HTTPFields = [:]
    ) async throws -> Reply {
        try await self.request(.post, path, as: credential, json: json, headers: headers)
    }
}

extension Reply {
    /// The `{className, probability}` items of one prediction row.
    func classItems(_ entry: JSON?) -> [(String, Double)] {
        (entry?.array ?? []).compactMap { item in
            guard let name = item["className"]?.string, let probability = item["probability"]?.double else {
                return nil
            }
            return (name, probability)
        }
    }

    /// Expects a 409 `schema_violation` listing exactly `expected` (row, feature, rule), each with an `expected`
    /// and a `got`.
    func expectViolations(
        _ expected: Set<String>,
        field: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(self.status == .conflict, "\(self)", sourceLocation: sourceLocation)
        #expect(self.json["code"]?.string == "schema_violation", "\(self)", sourceLocation: sourceLocation)
        #expect(self.json["field"]?.string == field, "\(self)", sourceLocation: sourceLocation)
        #expect(
            self.json["detail"]?.string?.contains("schema") == true,
            "the detail names the schema: \(self)",
            sourceLocation: sourceLocation
        )
        let violations = self.json["violations"]?.array ?? []
        var got: Set<String> = []
        for violation in violations {
            #expect(
                violation.keys == ["row", "feature", "rule", "expected", "got"],
                "\(violation)",
                sourceLocation: sourceLocation
            )
            #expect(violation["expected"]?.string?.isEmpty == false, "\(violation)", sourceLocation: sourceLocation)
            #expect(violation["got"]?.string?.isEmpty == false, "\(violation)", sourceLocation: sourceLocation)
            got.insert(
                "\(violation["row"]?.int ?? -1) \(violation["feature"]?.string ?? "?") \(violation["rule"]?.string ?? "?")"
            )
        }
        #expect(got == expected, "\(self)", sourceLocation: sourceLocation)
        #expect(violations.count == expected.count, "\(self)", sourceLocation: sourceLocation)
    }
}

/// How the test client reaches the server.
enum Transport: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case router
    case live

    var setup: TestingSetup { self == .router ? .router : .live }
    var testDescription: String { self.rawValue }
}

@Suite(.timeLimit(.minutes(2))) struct PredictionRouteTests {
    static let servingKey = HTTPField.Name("X-Serving-Key")!
    static let requestID = HTTPField.Name("X-Request-ID")!
    static let iris = "/v1/admin/iris/predict/"

    /// A server with `admin/iris` (the example, active in production) and a production serving key for it.
    func withIris(
        _ transport: Transport = .router,
        _ body: @Sendable (TestAPI, Credential) async throws -> Void
    ) async throws {
        try await withServer(transport.setup) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let key = try await api.createKey("serving", in: "admin/iris", environments: ["production"])
            try await body(api, .servingKey(key.secret))
        }
    }

    // MARK: Answers

    @Test(arguments: Transport.allCases)
    func oneRowGivesTheFlatShape(_ transport: Transport) async throws {
        try await self.withIris(transport) { api, key in
            let reply = try await api.predict(
                "\(Self.iris)?environment=production",
                as: key,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "context": {"user": "u1"}}"#
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.json.keys == ["request_id", "environment", "version", "predictions"], "\(reply)")
            #expect(reply.json["environment"]?.string == "production")
            #expect(reply.json["version"]?.int == 1)
            let items = reply.classItems(reply.json["predictions"])
            #expect(items.map(\.0) == irisClasses, "\(reply)")
            #expect(close(items.map(\.1), irisExpectedProbabilities[0], tolerance: 1e-3), "\(reply)")
            #expect(reply.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(reply.headers[HTTPField.Name("X-Slipway-Model")!] == "admin/iris")
            #expect(reply.headers[HTTPField.Name("X-Slipway-Environment")!] == "production")
            #expect(reply.headers[HTTPField.Name("X-Slipway-Version")!] == "1")
            let id = try #require(reply.headers[Self.requestID])
            #expect(!id.isEmpty && reply.json["request_id"]?.string == id, "\(reply)")
            // No rate limit on this key: no RateLimit headers.
            #expect(reply.headers[HTTPField.Name("RateLimit-Limit")!] == nil)
        }
    }

    @Test(arguments: Transport.allCases)
    func severalRowsGiveOneEntryPerRow(_ transport: Transport) async throws {
        try await self.withIris(transport) { api, key in
            let reply = try await api.predict(Self.iris, as: key, json: #"{"ndarray": \#(irisSampleRows)}"#)
            #expect(reply.status == .ok, "\(reply)")
            let rows = try #require(reply.json["predictions"]?.array, "\(reply)")
            #expect(rows.count == 3)
            for (index, row) in rows.enumerated() {
                let items = reply.classItems(row)
                #expect(items.count == 3, "\(row)")
                // Sorted by probability, highest first; the sample rows are one of each class.
                #expect(items.first?.0 == irisClasses[index], "\(row)")
                #expect(items.map(\.1) == items.map(\.1).sorted(by: >), "\(row)")
                let byClass = irisClasses.map { name in items.first { $0.0 == name }?.1 ?? -1 }
                #expect(close(byClass, irisExpectedProbabilities[index], tolerance: 1e-3), "\(row)")
            }
        }
    }

    @Test func orderLimitAndThreshold() async throws {
        try await self.withIris { api, key in
            let row = #"{"ndarray": [[5.0, 2.0, 3.5, 1.0]]}"#  // versicolor 0.9375, setosa 0.056, virginica 0.0066
            func classes(_ query: String) async throws -> [String] {
                let reply = try await api.predict("\(Self.iris)?\(query)", as: key, json: row)
                #expect(reply.status == .ok, "\(query): \(reply)")
                return reply.classItems(reply.json["predictions"]).map(\.0)
            }
            #expect(try await classes("order=desc") == ["versicolor", "setosa", "virginica"])
            #expect(try await classes("order=asc") == ["virginica", "setosa", "versicolor"])
            #expect(try await classes("order=ASC&limit=2") == ["virginica", "setosa"])
            #expect(try await classes("limit=1") == ["versicolor"])
            #expect(try await classes("limit=0") == [])
            #expect(try await classes("limit=-1") == ["versicolor", "setosa", "virginica"])
            #expect(try await classes("threshold=0.5") == ["versicolor"])
            #expect(try await classes("threshold=0.05") == ["versicolor", "setosa"])
            #expect(try await classes("threshold=0.05&order=asc&limit=1") == ["setosa"])
            #expect(try await classes("threshold=1") == [])
            // Several rows: each row is sorted and cut on its own.
            let reply = try await api.predict(
                "\(Self.iris)?limit=1",
                as: key,
                json: #"{"ndarray": \#(irisSampleRows)}"#
            )
            let rows = try #require(reply.json["predictions"]?.array, "\(reply)")
            #expect(rows.map { reply.classItems($0).map(\.0) } == [["setosa"], ["versicolor"], ["virginica"]])
        }
    }

    @Test func featuresAreMappedThroughTheSchema() async throws {
        try await self.withIris { api, key in
            let positional = try await api.predict(Self.iris, as: key, json: #"{"ndarray": \#(irisSampleRows)}"#)
            #expect(positional.status == .ok, "\(positional)")
            // The sample features, with their keys in another order than the schema's ndarray map.
            let features = try #require(try JSONValue.parse(Array(irisExample("samples.json").utf8))["features"])
            let named = try await api.predict(
                Self.iris,
                as: key,
                json: #"{"features": \#(features.serialized()), "context": null}"#
            )
            #expect(named.status == .ok, "\(named)")
            #expect(named.json["predictions"] == positional.json["predictions"], "\(named) vs \(positional)")
            // One object (not a list) is one row: the flat shape.
            let one = try await api.predict(
                Self.iris,
                as: key,
                json:
                    #"{"features": {"petal_width": 2.3, "sepal_width": 3.2, "sepal_length": 6.9, "petal_length": 5.7}}"#
            )
            #expect(one.status == .ok, "\(one)")
            #expect(one.json["predictions"] == positional.json["predictions"]?[2], "\(one)")
        }
    }

    /// The answer is written straight to bytes: class names that need escaping come back intact, and the document
    /// has exactly TeachableHub's keys.
    @Test func classNamesAreEscapedInTheAnswer() async throws {
        try await withServer { api in
            let names = [#"say "hi""#, #"back\slash"#, "line\nbreak \u{1}, naïve 🌷"]
            let classes = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
            try await api.makeModel("admin/escaped")
            try await api.ship("admin/escaped", file: try irisExampleModel(), classes: classes)
            let one = try await api.predict(
                "/v1/admin/escaped/predict",
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            )
            #expect(one.status == .ok, "\(one)")
            #expect(one.json.keys == ["request_id", "environment", "version", "predictions"], "\(one)")
            let items = one.classItems(one.json["predictions"])
            #expect(Set(items.map(\.0)) == Set(names), "\(one)")
            #expect(abs(items.map(\.1).reduce(0, +) - 1) < 1e-3, "\(one)")
            let two = try await api.predict(
                "/v1/admin/escaped/predict?limit=2",
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3]]}"#
            )
            #expect(two.status == .ok, "\(two)")
            let entries = try #require(two.json["predictions"]?.array, "\(two)")
            #expect(entries.count == 2)
            for entry in entries {
                let cut = two.classItems(entry)
                #expect(cut.count == 2, "\(two)")
                #expect(Set(cut.map(\.0)).isSubset(of: Set(names)), "\(two)")
            }
        }
    }

    @Test func aRegressorWithoutClassesAnswersRawValues() async throws {
        try await withServer { api in
            try await api.makeModel("admin/diabetes")
            try await api.ship("admin/diabetes", file: try zooModel("diabetes_random_forest_regressor"))
            let expected = try zooExpectedOutput("diabetes_random_forest_regressor", "variable")
            let (one, _) = try zooRows("diabetes_random_forest_regressor", count: 1)
            let single = try await api.predict(
                "/v1/admin/diabetes/predict",
                as: api.admin,
                json: #"{"ndarray": \#(one)}"#
            )
            #expect(single.status == .ok, "\(single)")
            // One row: TeachableHub's flat `[274.61]`.
            let value = try #require(single.json["predictions"]?.doubles, "\(single)")
            #expect(close(value, [expected[0]], tolerance: 1e-3), "\(single) vs \(expected[0])")

            let (all, rows) = try zooRows("diabetes_random_forest_regressor")
            let batch = try await api.predict(
                "/v1/admin/diabetes/predict",
                as: api.admin,
                json: #"{"ndarray": \#(all)}"#
            )
            #expect(batch.status == .ok, "\(batch)")
            let entries = try #require(batch.json["predictions"]?.array, "\(batch)")
            #expect(entries.count == rows.count)
            #expect(entries.allSatisfy { $0.doubles?.count == 1 }, "\(batch)")
            #expect(close(entries.compactMap { $0.doubles?.first }, expected, tolerance: 1e-3), "\(batch)")
            // order, limit and threshold only concern classes.
            let cut = try await api.predict(
                "/v1/admin/diabetes/predict?limit=0&threshold=1&order=asc",
                as: api.admin,
                json: #"{"ndarray": \#(one)}"#
            )
            #expect(cut.json["predictions"] == single.json["predictions"], "\(cut)")
        }
    }

    @Test func aClassifierWithoutClassesAnswersItsLabels() async throws {
        try await withServer { api in
            try await api.makeModel("admin/forest")
            try await api.ship("admin/forest", file: fixtureModel)
            let labels = try zooExpectedOutput("iris_random_forest", "output_label")
            let (all, rows) = try zooRows("iris_random_forest")
            let reply = try await api.predict("/v1/admin/forest/predict", as: api.admin, json: #"{"ndarray": \#(all)}"#)
            #expect(reply.status == .ok, "\(reply)")
            let entries = try #require(reply.json["predictions"]?.array, "\(reply)")
            #expect(entries.count == rows.count)
            #expect(entries.map { $0.doubles ?? [] } == labels.map { [$0] }, "\(reply)")
            let (one, _) = try zooRows("iris_random_forest", count: 1)
            let single = try await api.predict(
                "/v1/admin/forest/predict",
                as: api.admin,
                json: #"{"ndarray": \#(one)}"#
            )
            #expect(single.json["predictions"]?.doubles == [labels[0]], "\(single)")
        }
    }

    @Test func versionPinnedOrZeroAndEnvironment() async throws {
        try await self.withIris { api, _ in
            // Version 2: the zoo forest, without classes, active in production; version 1 (the example) stays verified.
            try await api.ship("admin/iris", file: fixtureModel)
            try await api.ship("admin/iris", "staging", file: fixtureModel)  // staging version 1
            let key = try await api.createKey("serving", in: "admin/iris", environments: ["production", "staging"])
            let credential = Credential.servingKey(key.secret)
            let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            for query in ["", "?version=0", "?version=2", "?environment=production&version=0"] {
                let reply = try await api.predict(Self.iris + query, as: credential, json: row)
                #expect(reply.status == .ok, "\(query): \(reply)")
                #expect(reply.json["version"]?.int == 2, "\(query): \(reply)")
                #expect(reply.json["predictions"] == .array([.number(0)]), "\(query): \(reply)")
            }
            let pinned = try await api.predict(Self.iris + "?version=1", as: credential, json: row)
            #expect(pinned.status == .ok, "\(pinned)")
            #expect(pinned.json["version"]?.int == 1)
            #expect(pinned.headers[HTTPField.Name("X-Slipway-Version")!] == "1")
            #expect(pinned.classItems(pinned.json["predictions"]).first?.0 == "setosa", "\(pinned)")

            let staging = try await api.predict(Self.iris + "?environment=staging", as: credential, json: row)
            #expect(staging.status == .ok, "\(staging)")
            #expect(staging.json["environment"]?.string == "staging")
            #expect(staging.json["version"]?.int == 1)
            #expect(staging.json["predictions"] == .array([.number(0)]), "\(staging)")
            #expect(staging.headers[HTTPField.Name("X-Slipway-Environment")!] == "staging")
        }
    }

    @Test(arguments: Transport.allCases)
    func trailingSlashOptionalAndDoubledSlashTolerated(_ transport: Transport) async throws {
        try await self.withIris(transport) { api, key in
            for path in [
                "/v1/admin/iris/predict", "/v1/admin/iris/predict/", "/v1//admin/iris/predict/",
                "/v1/admin//iris/predict", "/v1/admin/iris/predict//?environment=production",
            ] {
                let reply = try await api.predict(path, as: key, json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#)
                #expect(reply.status == .ok, "\(path): \(reply)")
                #expect(reply.json["version"]?.int == 1, "\(path): \(reply)")
            }
        }
    }

    // MARK: Bad input

    struct BadRequest: Sendable {
        var name: String
        var path = PredictionRouteTests.iris
        var json: String
        var status: HTTPResponse.Status = .badRequest
        var code = "invalid_input"
        var field: String?
        var detail: String
    }

    /// Bad bodies and query parameters, for `admin/iris` (the example, with a schema) and `admin/forest` (the zoo
    /// forest: no schema, no classes).
    static let badRequests: [BadRequest] = [
        BadRequest(
            name: "malformed JSON",
            json: #"{"ndarray": [[5.1, 3.5"#,
            field: "body",
            detail: "the body is not valid JSON"
        ),
        BadRequest(name: "not JSON at all", json: "sepal=5.1", field: "body", detail: "not valid JSON"),
        BadRequest(name: "empty body", json: "", field: "body", detail: "not valid JSON"),
        BadRequest(name: "a list body", json: "[[5.1, 3.5, 1.4, 0.2]]", field: "body", detail: "JSON object"),
        BadRequest(
            name: "unknown body field",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "inputs": []}"#,
            field: "inputs",
            detail: "'inputs' is not a field of a prediction request"
        ),
        BadRequest(name: "no rows", json: #"{"context": {}}"#, field: "body", detail: "ndarray"),
        BadRequest(
            name: "ndarray and features",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "features": [{}]}"#,
            field: "body",
            detail: "not both"
        ),
        BadRequest(name: "ndarray not a list", json: #"{"ndarray": 5.1}"#, field: "ndarray", detail: "list of rows"),
        BadRequest(
            name: "a row that is not a list",
            json: #"{"ndarray": [5.1, 3.5, 1.4, 0.2]}"#,
            field: "ndarray[0]",
            detail: "row 0"
        ),
        BadRequest(
            name: "features not objects",
            json: #"{"features": "sepal_length=5.1"}"#,
            field: "features",
            detail: "object"
        ),
        BadRequest(
            name: "a feature row not an object",
            json: #"{"features": [1]}"#,
            field: "features[0]",
            detail: "object"
        ),
        BadRequest(
            name: "empty ndarray batch",
            json: #"{"ndarray": []}"#,
            field: "ndarray",
            detail: "at least one row"
        ),
        BadRequest(
            name: "empty features batch",
            json: #"{"features": []}"#,
            field: "features",
            detail: "at least one row"
        ),
        BadRequest(
            name: "a row narrower than the schema",
            json: #"{"ndarray": [[5.1, 3.5, 1.4]]}"#,
            field: "ndarray[0]",
            detail: "row 0 has 3 values; the schema's ndarray order has 4"
        ),
        BadRequest(
            name: "a row wider than the model (no schema)",
            path: "/v1/admin/forest/predict",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2, 9]]}"#,
            field: "ndarray",
            detail: "takes 4 values per row, got 5"
        ),
        BadRequest(
            name: "ragged rows (no schema)",
            path: "/v1/admin/forest/predict",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4]]}"#,
            field: "ndarray[1]",
            detail: "row 1 has 3 values"
        ),
        BadRequest(
            name: "a string where the model takes floats (no schema)",
            path: "/v1/admin/forest/predict",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.1, "wide", 1.4, 0.2]]}"#,
            field: "ndarray[1][1]",
            detail: "must be a number"
        ),
        BadRequest(
            name: "a boolean where the model takes floats (no schema)",
            path: "/v1/admin/forest/predict",
            json: #"{"ndarray": [[true, 3.5, 1.4, 0.2]]}"#,
            field: "ndarray[0][0]",
            detail: "must be a number"
        ),
        BadRequest(
            name: "a nested list where the model takes floats (no schema)",
            path: "/v1/admin/forest/predict",
            json: #"{"ndarray": [[[5.1], 3.5, 1.4, 0.2]]}"#,
            field: "ndarray[0][0]",
            detail: "must be a number"
        ),
        BadRequest(
            name: "features without a schema",
            path: "/v1/admin/forest/predict",
            json: #"{"features": [{"sepal_length": 5.1}]}"#,
            field: "features",
            detail: "no schema"
        ),
        BadRequest(
            name: "bad order",
            path: PredictionRouteTests.iris + "?order=sideways",
            json: "{}",
            field: "order",
            detail: "asc or desc"
        ),
        BadRequest(
            name: "limit below -1",
            path: PredictionRouteTests.iris + "?limit=-2",
            json: "{}",
            field: "limit",
            detail: "-1"
        ),
        BadRequest(
            name: "limit not a number",
            path: PredictionRouteTests.iris + "?limit=all",
            json: "{}",
            field: "limit",
            detail: "all"
        ),
        BadRequest(
            name: "limit over 2000",
            path: PredictionRouteTests.iris + "?limit=2001",
            json: "{}",
            field: "limit",
            detail: "2000"
        ),
        BadRequest(
            name: "threshold over 1",
            path: PredictionRouteTests.iris + "?threshold=1.5",
            json: "{}",
            field: "threshold",
            detail: "from 0 to 1"
        ),
        BadRequest(
            name: "threshold not a number",
            path: PredictionRouteTests.iris + "?threshold=high",
            json: "{}",
            field: "threshold",
            detail: "high"
        ),
        BadRequest(
            name: "negative version",
            path: PredictionRouteTests.iris + "?version=-1",
            json: "{}",
            field: "version",
            detail: "0 to 2000"
        ),
        BadRequest(
            name: "version over 2000",
            path: PredictionRouteTests.iris + "?version=2001",
            json: "{}",
            field: "version",
            detail: "2001"
        ),
        BadRequest(
            name: "version not a number",
            path: PredictionRouteTests.iris + "?version=latest",
            json: "{}",
            field: "version",
            detail: "latest"
        ),
        BadRequest(
            name: "malformed environment",
            path: PredictionRouteTests.iris + "?environment=Prod%20One",
            json: "{}",
            field: "environment",
            detail: "not a valid environment name"
        ),
        BadRequest(
            name: "unknown model",
            path: "/v1/admin/nope/predict",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .notFound,
            code: "not_found",
            detail: "admin/nope"
        ),
        BadRequest(
            name: "unknown owner",
            path: "/v1/nobody/iris/predict",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .notFound,
            code: "not_found",
            detail: "nobody/iris"
        ),
        BadRequest(
            name: "unknown environment",
            path: PredictionRouteTests.iris + "?environment=qa",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .notFound,
            code: "not_found",
            detail: "'qa'"
        ),
        BadRequest(
            name: "unknown version",
            path: PredictionRouteTests.iris + "?version=7",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .notFound,
            code: "not_found",
            detail: "version 7"
        ),
        BadRequest(
            name: "no active deployment",
            path: PredictionRouteTests.iris + "?environment=staging",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .notFound,
            code: "not_active",
            detail: "no active deployment in environment 'staging'"
        ),
        BadRequest(
            name: "a pending version",
            path: PredictionRouteTests.iris + "?version=2",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .conflict,
            code: "not_verified",
            detail: "version 2 of admin/iris in 'production' is pending"
        ),
        BadRequest(
            name: "a failed version",
            path: PredictionRouteTests.iris + "?version=3",
            json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#,
            status: .conflict,
            code: "not_verified",
            detail: "is failed; only verified versions answer predictions (set by the test)"
        ),
        BadRequest(
            name: "a wrong method",
            path: "/v1/admin/iris/predict",
            json: "",
            status: .notFound,
            code: "not_found",
            detail: "no route matches GET /v1/admin/iris/predict"
        ),
    ]

    @Test func everyBadRequestIsA4xxNamingTheProblem() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            try await api.ship("admin/iris", file: fixtureModel, status: nil)  // version 2: pending
            try await api.ship("admin/iris", file: fixtureModel, status: "failed")  // version 3: failed
            try await api.makeModel("admin/forest")
            try await api.ship("admin/forest", file: fixtureModel)
            for bad in Self.badRequests {
                let reply =
                    bad.name == "a wrong method"
                    ? try await api.get(bad.path, as: api.admin)
                    : try await api.predict(bad.path, as: api.admin, json: bad.json)
                reply.expectError(bad.status, code: bad.code, field: bad.field, detailContains: bad.detail)
                #expect(reply.status.code < 500, "\(bad.name): \(reply)")
                if reply.status != bad.status || reply.json["field"]?.string != bad.field {
                    Issue.record("case '\(bad.name)': \(reply)")
                }
                #expect(reply.headers[Self.requestID]?.isEmpty == false, "\(bad.name)")
            }
        }
    }

    @Test func nonFiniteNumbersBreakTheSchemaButReachModelsWithout() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            try await api.makeModel("admin/forest")
            try await api.ship("admin/forest", file: fixtureModel)
            for value in ["NaN", "Infinity", "-Infinity"] {
                let reply = try await api.predict(
                    Self.iris,
                    as: api.admin,
                    json: #"{"ndarray": [[5.1, \#(value), 1.4, 0.2]]}"#
                )
                reply.expectViolations(["0 sepal_width type"], field: "ndarray")
                #expect(reply.json["violations"]?[0]?["expected"]?.string == "a finite number", "\(reply)")
                let named = try await api.predict(
                    Self.iris,
                    as: api.admin,
                    json:
                        #"{"features": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": \#(value), "petal_width": 0.2}]}"#
                )
                named.expectViolations(["0 petal_length type"], field: "features")
                // Without a schema, a tree routes NaN as a missing value.
                let raw = try await api.predict(
                    "/v1/admin/forest/predict",
                    as: api.admin,
                    json: #"{"ndarray": [[5.1, \#(value), 1.4, 0.2]]}"#
                )
                #expect(raw.status == .ok, "\(value): \(raw)")
                #expect(raw.json["predictions"]?.doubles?.count == 1, "\(value): \(raw)")
            }
        }
    }

    @Test func schemaViolationsListEveryProblem() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            // Positional rows: every rule broken in every row is listed.
            let positional = try await api.predict(
                Self.iris,
                as: api.admin,
                json:
                    #"{"ndarray": [[4.0, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2], [5.1, 5.0, 7.0, "wide"], [5.1, null, 1.4, 0.2]]}"#
            )
            positional.expectViolations(
                [
                    "0 sepal_length min", "2 sepal_width max", "2 petal_length max", "2 petal_width type",
                    "3 sepal_width required",
                ],
                field: "ndarray"
            )
            let first = positional.json["violations"]?.array?.first { $0["row"]?.int == 0 }
            #expect(first?["expected"]?.string == "at least 4.3", "\(positional)")
            #expect(first?["got"]?.string == "4", "\(positional)")
            #expect(positional.json["detail"]?.string?.contains("sepal_length") == true, "\(positional)")
            // Named rows: unknown and missing features too.
            let named = try await api.predict(
                Self.iris,
                as: api.admin,
                json: #"""
                    {"features": [
                      {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2, "colour": "blue"},
                      {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4},
                      {"sepal_length": "long", "sepal_width": 1.0, "petal_length": 1.4, "petal_width": 0.2}
                    ]}
                    """#
            )
            named.expectViolations(
                ["0 colour unknown", "1 petal_width required", "2 sepal_length type", "2 sepal_width min"],
                field: "features"
            )

            // Every rule: a schema with each kind (checked before the model sees the rows).
            try await api.makeModel("admin/rules")
            let schema = #"""
                {"features": {"a": {"type": "float", "min": 0, "max": 10}, "b": {"type": "integer"},
                              "c": {"allowed": [1, 2, 3]}, "d": {"type": "string", "minlength": 2, "maxlength": 4},
                              "e": {"type": "boolean", "required": false}, "f": {"type": "number"}},
                 "ndarray": [["a", "b", "c", "d"]]}
                """#
            try await api.ship("admin/rules", file: fixtureModel, schema: schema)
            let rules = try await api.predict(
                "/v1/admin/rules/predict",
                as: api.admin,
                json: #"""
                    {"features": [
                      {"a": -1, "b": 1.5, "c": 4, "d": "x", "f": 1, "zzz": 1},
                      {"a": 11, "b": 2, "c": 2, "d": "toolong", "e": "yes", "f": "one"},
                      {"b": 2.0, "c": 1, "d": "ok", "e": true, "f": 2.5}
                    ]}
                    """#
            )
            rules.expectViolations(
                [
                    "0 zzz unknown", "0 a min", "0 b type", "0 c allowed", "0 d minlength", "1 a max", "1 d maxlength",
                    "1 e type", "1 f type", "2 a required",
                ],
                field: "features"
            )
            let allowed = rules.json["violations"]?.array?.first { $0["rule"]?.string == "allowed" }
            #expect(allowed?["expected"]?.string == "one of 1, 2, 3", "\(rules)")
            #expect(allowed?["got"]?.string == "4", "\(rules)")
        }
    }

    @Test func tooManyRowsAndOversizedBodies() async throws {
        try await self.withIris { api, key in
            let row = "[5.1, 3.5, 1.4, 0.2]"
            let tooMany = try await api.predict(
                Self.iris,
                as: key,
                json: #"{"ndarray": [\#(Array(repeating: row, count: 10_001).joined(separator: ","))]}"#
            )
            tooMany.expectError(
                .contentTooLarge,
                code: "payload_too_large",
                detailContains: "at most 10000 rows, got 10001"
            )
            // The limit itself is accepted.
            let most = try await api.predict(
                Self.iris,
                as: key,
                json: #"{"ndarray": [\#(Array(repeating: row, count: 10_000).joined(separator: ","))]}"#
            )
            #expect(most.status == .ok, "\(most.status)")
            #expect(most.json["predictions"]?.array?.count == 10_000)
            // A body over 8 MiB.
            let padding = String(repeating: " ", count: 8 << 20)
            let oversized = try await api.predict(Self.iris, as: key, json: #"{"ndarray": [\#(row)]\#(padding)}"#)
            oversized.expectError(.contentTooLarge, code: "payload_too_large", detailContains: "larger")
        }
    }

    @Test func configuredLimits() async throws {
        try await withServer(prediction: PredictionAPI.Configuration(maximumBodyBytes: 200, maximumRows: 3)) { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            let three = try await api.predict(Self.iris, as: api.admin, json: #"{"ndarray": \#(irisSampleRows)}"#)
            #expect(three.status == .ok, "\(three)")
            try await api.predict(
                Self.iris,
                as: api.admin,
                json:
                    #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 0.2]]}"#
            ).expectError(.contentTooLarge, code: "payload_too_large", detailContains: "at most 3 rows, got 4")
            try await api.predict(
                Self.iris,
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "context": "\#(String(repeating: "x", count: 200))"}"#
            ).expectError(.contentTooLarge, code: "payload_too_large")
        }
    }

    // MARK: Credentials

    @Test func credentials() async throws {
        try await withServer { api in
            try await api.createOrganization("acme", as: api.admin)
            try await api.makeModel("acme/iris")
            try await api.shipIrisExample("acme/iris")
            try await api.shipIrisExample("acme/iris", "staging")
            try await api.makeModel("acme/other")
            try await api.ship("acme/other", file: fixtureModel)
            let production = try await api.createKey("serving", in: "acme/iris", environments: ["production"])
            let foreign = try await api.createKey("serving", in: "acme/other", environments: ["production"])
            let deployKey = try await api.createKey("deploy", in: "acme/iris", environments: ["production"])
            let otherDeployKey = try await api.createKey("deploy", in: "acme/other", environments: ["production"])
            let viewer = try await api.createUser("vera")
            try await api.setMember("vera", role: "viewer", in: "acme")
            let stranger = try await api.createUser("mallory")
            let path = "/v1/acme/iris/predict/"
            let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#

            // Allowed: the serving key (either header), the administrator, a viewer, the model's deploy key.
            for credential in [
                Credential.servingKey(production.secret), .bearer(production.secret), api.admin, viewer,
                .bearer(deployKey.secret), .authorization("Deploy-Key \(deployKey.secret)"),
            ] {
                let reply = try await api.predict(path, as: credential, json: row)
                #expect(reply.status == .ok, "\(credential): \(reply)")
            }
            // Missing, malformed and unknown credentials.
            try await api.predict(path, json: row).expectError(
                .unauthorized,
                code: "unauthenticated",
                detailContains: "X-Serving-Key"
            )
            try await api.predict(
                path,
                as: .servingKey("slw_s_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"),
                json: row
            )
            .expectError(.unauthorized, code: "unauthenticated")
            try await api.predict(path, as: .servingKey("hunter2"), json: row)
                .expectError(.unauthorized, code: "unauthenticated")
            try await api.predict(path, as: .authorization("Basic abc"), json: row)
                .expectError(.unauthorized, code: "unauthenticated", detailContains: "Basic")
            // Another model's serving key; a key outside its environments.
            try await api.predict(path, as: .servingKey(foreign.secret), json: row)
                .expectError(.forbidden, code: "forbidden", detailContains: "another model")
            try await api.predict(path + "?environment=staging", as: .servingKey(production.secret), json: row)
                .expectError(.forbidden, code: "forbidden", detailContains: "staging")
            // Callers who cannot read the private model do not learn it exists.
            try await api.predict(path, as: stranger, json: row).expectError(.notFound, code: "not_found")
            try await api.predict(path, as: .bearer(otherDeployKey.secret), json: row)
                .expectError(.notFound, code: "not_found")

            // A revoked key: a key never used answers 401 at once; one in use stops within a second (the decision
            // cache's lifetime).
            let unused = try await api.createKey("serving", in: "acme/iris", environments: ["production"])
            #expect(
                try await api.delete("/api/v1/models/acme/iris/keys/\(unused.id)", as: api.admin).status == .noContent
            )
            try await api.predict(path, as: .servingKey(unused.secret), json: row)
                .expectError(.unauthorized, code: "unauthenticated")
            #expect(
                try await api.delete("/api/v1/models/acme/iris/keys/\(production.id)", as: api.admin).status
                    == .noContent
            )
            let revokedAt = ContinuousClock.now
            var last: Reply
            repeat {
                last = try await api.predict(path, as: .servingKey(production.secret), json: row)
                if last.status == .ok { try await Task.sleep(for: .milliseconds(50)) }
            } while last.status == .ok && ContinuousClock.now - revokedAt < .seconds(3)
            last.expectError(.unauthorized, code: "unauthenticated")
            // The cache's second, plus slack for a loaded test machine (1.55 s was seen with every suite running).
            #expect(ContinuousClock.now - revokedAt < .milliseconds(2_500))
        }
    }

    @Test func anonymousCallersOnPublicModels() async throws {
        try await withServer { api in
            try await api.makeModel("admin/open", isPublic: true, publicPredictions: true)
            try await api.shipIrisExample("admin/open")
            try await api.makeModel("admin/shown", isPublic: true, publicPredictions: false)
            try await api.shipIrisExample("admin/shown")
            try await api.makeModel("admin/closed", publicPredictions: true)
            try await api.shipIrisExample("admin/closed")
            let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            let open = try await api.predict("/v1/admin/open/predict", json: row)
            #expect(open.status == .ok, "\(open)")
            #expect(open.classItems(open.json["predictions"]).first?.0 == "setosa")
            try await api.predict("/v1/admin/shown/predict", json: row)
                .expectError(.unauthorized, code: "unauthenticated", detailContains: "serving key")
            // public_predictions needs a public model.
            try await api.predict("/v1/admin/closed/predict", json: row)
                .expectError(.unauthorized, code: "unauthenticated")
            // Turning public_predictions on later works too (within the decision cache's second).
            let patched = try await api.patch(
                "/api/v1/models/admin/shown",
                as: api.admin,
                json: #"{"public_predictions": true}"#
            )
            #expect(patched.status == .ok, "\(patched)")
            try await Task.sleep(for: .milliseconds(1_100))
            #expect(try await api.predict("/v1/admin/shown/predict", json: row).status == .ok)
        }
    }

    // MARK: Rate limits

    @Test func rateLimitedKeysAnswer429WithRetryAfter() async throws {
        try await withServer { api in
            try await api.makeModel("admin/iris")
            try await api.shipIrisExample("admin/iris")
            try await api.shipIrisExample("admin/iris", "staging")
            let row = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            let limit = HTTPField.Name("RateLimit-Limit")!
            let remaining = HTTPField.Name("RateLimit-Remaining")!
            let reset = HTTPField.Name("RateLimit-Reset")!
            // A key allowing one prediction per second (a bucket of one, refilled in a second). The refusals are
            // only certain while less than a second passes between the requests, so a slow round is tried again
            // with a fresh key.
            var conclusive = false
            for _ in 0..<5 where !conclusive {
                let key = try await api.createKey(
                    "serving",
                    in: "admin/iris",
                    environments: ["production", "staging"],
                    extra: #", "rate_limit": 1"#
                )
                let credential = Credential.servingKey(key.secret)
                let started = ContinuousClock.now
                let first = try await api.predict(Self.iris, as: credential, json: row)
                // The bucket is shared by the environments the key covers.
                let shared = try await api.predict(Self.iris + "?environment=staging", as: credential, json: row)
                let again = try await api.predict(Self.iris, as: credential, json: row)
                let elapsed = ContinuousClock.now - started
                #expect(first.status == .ok, "\(first)")
                #expect(first.headers[limit] == "1", "\(first.headers)")
                #expect(first.headers[remaining] == "0", "\(first.headers)")
                #expect(first.headers[reset] == "1", "\(first.headers)")
                guard elapsed < .milliseconds(900) else { continue }
                conclusive = true
                for refused in [shared, again] {
                    refused.expectError(
                        .tooManyRequests,
                        code: "rate_limited",
                        detailContains: "allows 1 predictions per second; retry after 1 s"
                    )
                    #expect(refused.headers[.retryAfter] == "1", "\(refused.headers)")
                    #expect(refused.headers[limit] == "1", "\(refused.headers)")
                    #expect(refused.headers[remaining] == "0", "\(refused.headers)")
                    #expect(refused.headers[reset].flatMap(Int.init) == 1, "\(refused.headers)")
                    #expect(refused.headers[Self.requestID]?.isEmpty == false)
                }
                // Other callers are not limited by this key.
                #expect(try await api.predict(Self.iris, as: api.admin, json: row).status == .ok)
                // After Retry-After, the key answers again.
                try await Task.sleep(for: .seconds(1))
                let later = try await api.predict(Self.iris, as: credential, json: row)
                #expect(later.status == .ok, "\(later)")
            }
            #expect(conclusive, "every round took a second or more")
        }
    }

    // MARK: Request ids

    @Test(arguments: Transport.allCases)
    func requestIDsAreEchoedWhenWellFormedAndGeneratedOtherwise(_ transport: Transport) async throws {
        try await self.withIris(transport) { api, key in
            let good = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            let bad = #"{"ndarray": [[5.1, 3.5, 1.4]]}"#
            let ownID = "trace-42_a.b:c"
            let longest = String(repeating: "x", count: 128)
            for (credential, body, status) in [
                (key, good, HTTPResponse.Status.ok), (key, bad, .badRequest), (.anonymous, good, .unauthorized),
            ] {
                for id in [ownID, longest] {
                    let reply = try await api.predict(
                        Self.iris,
                        as: credential,
                        json: body,
                        headers: [Self.requestID: id]
                    )
                    #expect(reply.status == status, "\(reply)")
                    #expect(reply.headers[Self.requestID] == id, "\(reply.headers)")
                    if status == .ok { #expect(reply.json["request_id"]?.string == id) }
                }
                var generated: Set<String> = []
                for id in ["", "has space", "semi;colon", "slash/y", String(repeating: "x", count: 129), nil] {
                    let headers: HTTPFields = id.map { [Self.requestID: $0] } ?? [:]
                    let reply = try await api.predict(Self.iris, as: credential, json: body, headers: headers)
                    #expect(reply.status == status, "\(reply)")
                    let echoed = try #require(reply.headers[Self.requestID], "\(reply.headers)")
                    #expect(!echoed.isEmpty && echoed != id, "\(id ?? "none") → \(echoed)")
                    #expect(PredictionRouteTests.isWellFormedID(echoed), "\(echoed)")
                    if status == .ok { #expect(reply.json["request_id"]?.string == echoed) }
                    generated.insert(echoed)
                }
                #expect(generated.count == 6, "generated ids are unique: \(generated)")
            }
            // Unknown models and routes carry one too.
            let missing = try await api.predict(
                "/v1/admin/nope/predict",
                as: key,
                json: good,
                headers: [Self.requestID: ownID]
            )
            #expect(missing.status == .notFound)
            #expect(missing.headers[Self.requestID] == ownID)
        }
    }

    static func isWellFormedID(_ id: String) -> Bool {
        (1...128).contains(id.utf8.count)
            && id.unicodeScalars.allSatisfy {
                ($0.isASCII && CharacterSet.alphanumerics.contains($0)) || "-_.:".unicodeScalars.contains($0)
            }
    }
}

// MARK: Verification through the live host

@Suite(.timeLimit(.minutes(2))) struct PredictionVerificationTests {
    /// Polls a deployment until it leaves `pending`; returns its JSON.
    static func settled(_ api: TestAPI, _ model: String, _ environment: String, _ version: Int) async throws -> JSON {
        let started = ContinuousClock.now
        while true {
            let reply = try await api.get(
                "/api/v1/models/\(model)/environments/\(environment)/deployments/\(version)",
                as: api.admin
            )
            try #require(reply.status == .ok, "\(reply)")
            if reply.json["status"]?["state"]?.string != "pending" { return reply.json }
            try #require(ContinuousClock.now - started < .seconds(20), "version \(version) stayed pending: \(reply)")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static let samplesWithExpected = #"""
        {"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.0, 2.0, 3.5, 1.0], [6.9, 3.2, 5.7, 2.3]],
         "expected": ["setosa", 1, "virginica"]}
        """#

    @Test func deploymentsAreVerifiedOrFailedByTheHostItself() async throws {
        try await withServer(.live, runtime: ModelHost.Configuration(threads: 2)) { api in
            try await api.makeModel("admin/iris")
            let schema = try irisExample("schema.json")
            let classes = try irisExample("classes.json")
            let model = try irisExampleModel()

            // Good samples (both forms, with expected outputs): verified by itself, with a report.
            let good = try await api.ship(
                "admin/iris",
                file: model,
                schema: schema,
                samples: try irisExample("samples.json"),
                classes: classes,
                status: nil
            )
            let verified = try await Self.settled(api, "admin/iris", "production", good)
            #expect(verified["status"]?["state"]?.string == "verified", "\(verified)")
            #expect(verified["status"]?["verified_at"]?.string != nil, "\(verified)")
            let report = try #require(verified["verification"], "\(verified)")
            #expect(report["samples"]?.array?.count == 6, "\(report)")
            #expect(report["samples"]?[0]?["latency_us"]?.int != nil, "\(report)")
            #expect(report["samples"]?[0]?["outputs"]?.array?.isEmpty == false, "\(report)")
            #expect(report["error"] == nil, "\(report)")

            let expected = try await api.ship(
                "admin/iris",
                file: model,
                schema: schema,
                samples: Self.samplesWithExpected,
                classes: classes,
                status: nil
            )
            #expect(
                try await Self.settled(api, "admin/iris", "production", expected)["status"]?["state"]?.string
                    == "verified"
            )

            // A sample that breaks the schema.
            let broken = try await api.ship(
                "admin/iris",
                file: model,
                schema: schema,
                samples: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [5.1, 3.5, 1.4, 9.9]]}"#,
                classes: classes,
                status: nil
            )
            let brokenJSON = try await Self.settled(api, "admin/iris", "production", broken)
            #expect(brokenJSON["status"]?["state"]?.string == "failed", "\(brokenJSON)")
            let brokenReason = brokenJSON["status"]?["reason"]?.string ?? ""
            #expect(brokenReason.hasPrefix("samples.ndarray[1]"), "\(brokenReason)")
            #expect(brokenReason.contains("petal_width"), "\(brokenReason)")
            #expect(brokenJSON["verification"]?["error"]?.string == brokenReason, "\(brokenJSON)")

            // Expected outputs that do not match.
            let mismatch = try await api.ship(
                "admin/iris",
                file: model,
                schema: schema,
                samples:
                    #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.9, 3.2, 5.7, 2.3]], "expected": ["setosa", "setosa"]}"#,
                classes: classes,
                status: nil
            )
            let mismatchJSON = try await Self.settled(api, "admin/iris", "production", mismatch)
            #expect(mismatchJSON["status"]?["state"]?.string == "failed", "\(mismatchJSON)")
            let mismatchReason = mismatchJSON["status"]?["reason"]?.string ?? ""
            #expect(
                mismatchReason.contains("samples.ndarray[1]: expected class 'setosa', got 'virginica'"),
                "\(mismatchReason)"
            )
            #expect(mismatchJSON["verification"]?["samples"]?.array?.count == 2, "\(mismatchJSON)")

            // A file that is not a model.
            let garbage = try await api.ship("admin/iris", file: Data("not a model".utf8), status: nil)
            let garbageJSON = try await Self.settled(api, "admin/iris", "production", garbage)
            #expect(garbageJSON["status"]?["state"]?.string == "failed", "\(garbageJSON)")
            #expect(
                garbageJSON["status"]?["reason"]?.string?.contains("cannot be loaded") == true,
                "\(garbageJSON)"
            )

            // Failed versions cannot be activated or pinned; the verified ones can.
            for version in [broken, mismatch, garbage] {
                let refused = try await api.post(
                    "/api/v1/models/admin/iris/environments/production/activate",
                    as: api.admin,
                    json: #"{"version": \#(version)}"#
                )
                refused.expectError(.conflict, code: "not_verified")
                try await api.predict(
                    "/v1/admin/iris/predict?version=\(version)",
                    as: api.admin,
                    json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
                ).expectError(.conflict, code: "not_verified", detailContains: "failed")
            }
            try await api.predict(
                "/v1/admin/iris/predict",
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            )
            .expectError(.notFound, code: "not_active")
            try await api.activate("admin/iris", "production", expected)
            let answer = try await api.predict(
                "/v1/admin/iris/predict",
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            )
            #expect(answer.status == .ok, "\(answer)")
            #expect(answer.json["version"]?.int == expected)
            let pinned = try await api.predict(
                "/v1/admin/iris/predict?version=\(good)",
                as: api.admin,
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
            )
            #expect(pinned.status == .ok, "\(pinned)")
            #expect(pinned.json["version"]?.int == good)
        }
    }

    @Test func aDeploymentAskedToActivateServesOnceVerified() async throws {
        try await withServer(.live, runtime: ModelHost.Configuration(threads: 2)) { api in
            try await api.makeModel("admin/iris")
            let multipart = Multipart.deploy(
                file: try irisExampleModel(),
                fields: [
                    "summary": "activate when verified", "schema": try irisExample("schema.json"),
                    "samples": try irisExample("samples.json"), "classes": try irisExample("classes.json"),
                    "activate": "true",
                ]
            )
            let deployed = try await api.upload(
                "/api/v1/models/admin/iris/environments/production/deployments",
                as: api.admin,
                multipart
            )
            #expect(deployed.status == .created, "\(deployed)")
            let started = ContinuousClock.now
            var answer: Reply
            repeat {
                answer = try await api.predict(
                    "/v1/admin/iris/predict",
                    as: api.admin,
                    json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
                )
                if answer.status != .ok { try await Task.sleep(for: .milliseconds(20)) }
            } while answer.status != .ok && ContinuousClock.now - started < .seconds(20)
            #expect(answer.status == .ok, "\(answer)")
            #expect(answer.json["version"]?.int == 1)
        }
    }
}
