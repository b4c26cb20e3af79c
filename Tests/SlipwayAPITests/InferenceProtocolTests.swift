import Foundation
import HTTPTypes
import SlipwayAPI
import SlipwayInference
import Synchronization
import Testing

// The Open Inference Protocol v2 routes, in process, against a fake Predictor that runs zoo models with the engine.

@Suite("Open Inference Protocol: names")
struct InferenceModelNameTests {
    @Test func productionAndOtherEnvironments() throws {
        let production = try #require(InferenceModelName("acme__iris"))
        #expect(production == InferenceModelName(owner: "acme", name: "iris", environment: "production"))
        #expect(production.description == "acme__iris")
        let staging = try #require(InferenceModelName("acme__my_model.v2__staging"))
        #expect(staging == InferenceModelName(owner: "acme", name: "my_model.v2", environment: "staging"))
        #expect(staging.description == "acme__my_model.v2__staging")
        #expect(InferenceModelName("acme__iris__production")?.description == "acme__iris")
    }

    @Test(arguments: ["", "acme", "acme/iris", "acme__", "__iris", "acme___iris", "a__b__c__d", "Acme__iris", "a__b__"])
    func malformedNames(_ text: String) {
        #expect(InferenceModelName(text) == nil, "\(text)")
    }
}

@Suite("Open Inference Protocol: routes")
struct InferenceProtocolRouteTests {
    @Test func serverLiveReadyAndMetadata() async throws {
        try await withInferenceServer { api, _ in
            let live = try await api.get("/v2/health/live")
            #expect(live.status == .ok)
            #expect(live.json == .object(["live": .bool(true)]))
            let ready = try await api.get("/v2/health/ready")
            #expect(ready.status == .ok)
            #expect(ready.json == .object(["ready": .bool(true)]))
            let metadata = try await api.get("/v2")
            #expect(metadata.status == .ok)
            #expect(metadata.json["name"]?.string == "slipway")
            #expect(metadata.json["version"]?.string == "9.9.9")
            #expect(metadata.json["extensions"] == .array([.string("binary_tensor_data")]))
        }
    }

    @Test func serverNotReady() async throws {
        try await withInferenceServer(ready: false) { api, _ in
            try await api.get("/v2/health/ready").expectProtocolError(.serviceUnavailable, contains: "not ready")
            #expect(try await api.get("/v2/health/live").status == .ok)
        }
    }

    @Test func modelMetadataAndReadiness() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            try await api.publish("acme/iris", createModel: false)  // version 2, active
            let metadata = try await api.get("/v2/models/acme__iris")
            #expect(metadata.status == .ok, "\(metadata)")
            #expect(metadata.json["name"]?.string == "acme__iris")
            #expect(metadata.json["platform"]?.string == "slipway_onnx")
            #expect(metadata.json["versions"] == .array([.string("1"), .string("2")]))
            #expect(
                metadata.json["inputs"]
                    == .array([
                        .object([
                            "name": .string("input"), "datatype": .string("FP32"),
                            "shape": .array([.number(-1), .number(4)]),
                        ])
                    ])
            )
            let outputs = try #require(metadata.json["outputs"]?.array)
            #expect(outputs.map { $0["name"]?.string } == ["output_label", "output_probability"])
            #expect(outputs.map { $0["datatype"]?.string } == ["INT64", "FP32"])

            let pinned = try await api.get("/v2/models/acme__iris/versions/1")
            #expect(pinned.status == .ok, "\(pinned)")
            #expect(pinned.json["name"]?.string == "acme__iris")

            let ready = try await api.get("/v2/models/acme__iris/ready")
            #expect(ready.status == .ok)
            #expect(ready.json == .object(["name": .string("acme__iris"), "ready": .bool(true)]))
            #expect(try await api.get("/v2/models/acme__iris/versions/1/ready").status == .ok)
        }
    }

    @Test func unknownModelsVersionsAndEnvironments() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            try await api.get("/v2/models/acme__nope").expectProtocolError(.notFound, contains: "acme/nope")
            try await api.get("/v2/models/acme__iris__canary/ready").expectProtocolError(.notFound, contains: "canary")
            try await api.get("/v2/models/acme%2Firis/ready").expectProtocolError(.notFound, contains: "owner__name")
            try await api.get("/v2/models/acme__iris/versions/7").expectProtocolError(.notFound, contains: "7")
            try await api.get("/v2/models/acme__iris/versions/v1/ready").expectProtocolError(
                .notFound,
                contains: "'v1'"
            )
            try await api.get("/v2/models/acme__iris/versions/0/ready").expectProtocolError(.notFound)
            try await api.infer("/v2/models/acme__nope/infer", json: #"{"inputs": []}"#)
                .expectProtocolError(.notFound)
            // Staging exists but nothing is active there.
            try await api.get("/v2/models/acme__iris__staging/ready").expectProtocolError(.notFound, contains: "active")
            // A deployed but unverified version.
            let reply = try await api.upload(
                "/api/v1/models/acme/iris/environments/production/deployments",
                as: api.admin,
                .deploy(fields: ["summary": "pending"])
            )
            #expect(reply.status == .created)
            try await api.get("/v2/models/acme__iris/versions/2/ready").expectProtocolError(
                .badRequest,
                contains: "pending"
            )
        }
    }

    @Test func listModelsTheCallerMayUse() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            try await api.publish("acme/iris", environment: "staging", createModel: false)
            try await api.publish("acme/secret")
            try await api.publish("acme/idle", activate: false)
            let anonymous = try await api.get("/v2/models")
            #expect(
                anonymous.json == .object(["models": .array([.string("acme__iris"), .string("acme__iris__staging")])])
            )
            let admin = try await api.get("/v2/models", as: api.admin)
            #expect(
                admin.json
                    == .object([
                        "models": .array([
                            .string("acme__iris"), .string("acme__iris__staging"), .string("acme__secret"),
                        ])
                    ])
            )
            let key = try await api.createKey("serving", in: "acme/iris", environments: ["staging"])
            let keyed = try await api.get("/v2/models", as: .servingKey(key.secret))
            #expect(keyed.json == .object(["models": .array([.string("acme__iris__staging")])]))
        }
    }

    @Test func inferJSONMatchesONNXRuntime() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            let reply = try await api.infer(
                "/v2/models/acme__iris/infer",
                json: try zooInferBody("iris_random_forest", id: "req-42")
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.headers[.contentType] == "application/json")
            #expect(reply.json["model_name"]?.string == "acme__iris")
            #expect(reply.json["model_version"]?.string == "1")
            #expect(reply.json["id"]?.string == "req-42")
            let outputs = try #require(reply.json["outputs"]?.array)
            #expect(outputs.map { $0["name"]?.string } == ["output_label", "output_probability"])
            #expect(outputs[0]["datatype"]?.string == "INT64")
            #expect(outputs[0]["shape"] == .array([.number(20)]))
            #expect(outputs[0]["data"]?.doubles == (try zooExpectedOutput("iris_random_forest", "output_label")))
            #expect(outputs[1]["datatype"]?.string == "FP32")
            #expect(outputs[1]["shape"] == .array([.number(20), .number(3)]))
            let probabilities = try #require(outputs[1]["data"]?.doubles)
            #expect(close(probabilities, try zooExpectedOutput("iris_random_forest", "output_probability")))
            #expect(outputs[1]["parameters"]?["keys"] == .array([.number(0), .number(1), .number(2)]))
        }
    }

    @Test func requestedOutputsOnlyAndPinnedVersion() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            try await api.publish(
                "acme/iris",
                file: try zooModel("breast_cancer_gradient_boosting"),
                createModel: false
            )
            let reply = try await api.infer(
                "/v2/models/acme__iris/versions/1/infer",
                json: try zooInferBody("iris_random_forest", outputs: ["output_label"])
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.json["model_version"]?.string == "1")
            #expect(reply.json["id"] == nil)
            let outputs = try #require(reply.json["outputs"]?.array)
            #expect(outputs.map { $0["name"]?.string } == ["output_label"])
            // The active version 2 is the breast cancer model.
            let active = try await api.infer(
                "/v2/models/acme__iris/infer",
                json: try zooInferBody("breast_cancer_gradient_boosting", outputs: ["output_label"])
            )
            #expect(active.json["model_version"]?.string == "2")
            #expect(
                active.json["outputs"]?[0]?["data"]?.doubles
                    == (try zooExpectedOutput("breast_cancer_gradient_boosting", "output_label"))
            )
        }
    }

    @Test func multipleInputsWithBytesInt64AndFP64() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/wine", file: try zooModel("wine_column_transformer"), isPublic: true)
            let wine = try await api.infer(
                "/v2/models/acme__wine/infer",
                json: try zooInferBody("wine_column_transformer")
            )
            #expect(wine.status == .ok, "\(wine)")
            #expect(
                wine.json["outputs"]?[0]?["data"]?.doubles
                    == (try zooExpectedOutput("wine_column_transformer", "output_label"))
            )
            try await api.publish("acme/ridge", file: try zooModel("diabetes_ridge_double"), isPublic: true)
            let ridge = try await api.infer(
                "/v2/models/acme__ridge/infer",
                json: try zooInferBody("diabetes_ridge_double")
            )
            #expect(ridge.status == .ok, "\(ridge)")
            #expect(ridge.json["outputs"]?[0]?["datatype"]?.string == "FP64")
            #expect(
                close(
                    try #require(ridge.json["outputs"]?[0]?["data"]?.doubles),
                    try zooExpectedOutput("diabetes_ridge_double", "variable"),
                    tolerance: 1e-9
                )
            )
        }
    }

    @Test func binaryInputsAndOutputs() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            let rows: [Float] = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3]
            let header = """
                {"id":"b1","inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}],\
                "outputs":[{"name":"output_label","parameters":{"binary_data":true}},{"name":"output_probability","parameters":{"binary_data":false}}]}
                """
            let reply = try await api.infer("/v2/models/acme__iris/infer", header: header, binary: float32Bytes(rows))
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.headers[.contentType] == "application/octet-stream")
            let (json, binary) = try reply.binaryParts()
            #expect(json["id"]?.string == "b1")
            let outputs = try #require(json["outputs"]?.array)
            #expect(outputs[0]["parameters"]?["binary_data_size"]?.int == 16)
            #expect(outputs[0]["data"] == nil)
            #expect(readInt64(binary[0..<16]) == [0, 2])
            #expect(binary.count == 16)
            #expect(outputs[1]["data"]?.doubles?.count == 6)

            // binary_data_output makes every output binary; a ZipMap output travels as its FP32 scores.
            let all = try await api.infer(
                "/v2/models/acme__iris/infer",
                header: """
                    {"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}],\
                    "parameters":{"binary_data_output":true}}
                    """,
                binary: float32Bytes(rows)
            )
            #expect(all.status == .ok, "\(all)")
            let (allJSON, allBinary) = try all.binaryParts()
            let sizes = try #require(allJSON["outputs"]?.array).map { $0["parameters"]?["binary_data_size"]?.int }
            #expect(sizes == [16, 24])
            #expect(allBinary.count == 40)
            let scores = readFloat32(allBinary[16..<40])
            #expect(abs(scores[0...2].reduce(0, +) - 1) < 1e-4)
            #expect(scores[0] > 0.9 && scores[5] > 0.5)
        }
    }

    @Test func binaryBytesInputs() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/wine", file: try zooModel("wine_column_transformer"), isPublic: true)
            let expected = try zooExpected("wine_column_transformer")
            guard case .array(let inputs)? = expected["inputs"], case .array(let numeric)? = inputs[0]["data"],
                case .array(let bands)? = inputs[1]["data"], case .array(let levels)? = inputs[2]["data"]
            else { throw InferenceError(.invalidRequest, "unexpected expected.json") }
            let floats = numeric.map { value -> Float in
                if case .double(let x) = value { return Float(x) }
                if case .int(let x) = value { return Float(x) }
                return .nan
            }
            let ints = bands.map { value -> Int64 in if case .int(let x) = value { x } else { -1 } }
            let strings = levels.map { value -> String in if case .string(let s) = value { s } else { "" } }
            let level = bytesElements(strings)
            let header = """
                {"inputs":[{"name":"numeric","shape":[20,4],"datatype":"FP32","parameters":{"binary_data_size":320}},\
                {"name":"color_band","shape":[20,1],"datatype":"INT64","parameters":{"binary_data_size":160}},\
                {"name":"proline_level","shape":[20,1],"datatype":"BYTES","parameters":{"binary_data_size":\(level.count)}}],\
                "outputs":[{"name":"output_label"}]}
                """
            let reply = try await api.infer(
                "/v2/models/acme__wine/infer",
                header: header,
                binary: float32Bytes(floats) + littleEndianBytes(ints) + level
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(
                reply.json["outputs"]?[0]?["data"]?.doubles
                    == (try zooExpectedOutput("wine_column_transformer", "output_label"))
            )
        }
    }

    @Test func everyDatatypeRoundTrips() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/echo", isPublic: true)
            let json = """
                {"inputs":[{"name":"b","shape":[2,2],"datatype":"BOOL","data":[[true,false],[false,true]]},\
                {"name":"i32","shape":[3],"datatype":"INT32","data":[-2147483648,0,2147483647]},\
                {"name":"i64","shape":[2],"datatype":"INT64","data":[-9223372036854775808,9223372036854775807]},\
                {"name":"f32","shape":[2],"datatype":"FP32","data":[0.1,-2.5]},\
                {"name":"f64","shape":[2],"datatype":"FP64","data":[0.1,1e300]},\
                {"name":"s","shape":[2],"datatype":"BYTES","data":["héllo",""]}]}
                """
            let reply = try await api.infer("/v2/models/acme__echo/infer", json: json)
            #expect(reply.status == .ok, "\(reply)")
            let text = reply.text
            #expect(
                text.contains(#"{"name":"b","datatype":"BOOL","shape":[2,2],"data":[true,false,false,true]}"#),
                "\(text)"
            )
            #expect(text.contains(#""data":[-2147483648,0,2147483647]"#), "\(text)")
            #expect(text.contains(#""data":[-9223372036854775808,9223372036854775807]"#), "\(text)")
            #expect(text.contains(#""datatype":"FP32","shape":[2],"data":[0.1,-2.5]"#), "\(text)")
            #expect(text.contains(#""data":[0.1,1e+300]"#), "\(text)")
            #expect(text.contains(#""data":["héllo",""]"#), "\(text)")

            // The same tensors as binary data, in and out.
            let binary =
                [1, 0, 0, 1] + littleEndianBytes([Int32.min, 0, Int32.max])
                + littleEndianBytes([Int64.min, Int64.max]) + float32Bytes([0.1, -2.5])
                + littleEndianBytes([(0.1 as Double).bitPattern, (1e300 as Double).bitPattern])
                + bytesElements(["héllo", ""])
            let header = """
                {"inputs":[{"name":"b","shape":[2,2],"datatype":"BOOL","parameters":{"binary_data_size":4}},\
                {"name":"i32","shape":[3],"datatype":"INT32","parameters":{"binary_data_size":12}},\
                {"name":"i64","shape":[2],"datatype":"INT64","parameters":{"binary_data_size":16}},\
                {"name":"f32","shape":[2],"datatype":"FP32","parameters":{"binary_data_size":8}},\
                {"name":"f64","shape":[2],"datatype":"FP64","parameters":{"binary_data_size":16}},\
                {"name":"s","shape":[2],"datatype":"BYTES","parameters":{"binary_data_size":14}}],\
                "outputs":[{"name":"b"},{"name":"i32"},{"name":"i64"},{"name":"f32"},{"name":"f64"},{"name":"s"}],\
                "parameters":{"binary_data_output":true}}
                """
            let echoed = try await api.infer("/v2/models/acme__echo/infer", header: header, binary: binary)
            #expect(echoed.status == .ok, "\(echoed)")
            let (echoJSON, echoBinary) = try echoed.binaryParts()
            #expect(echoBinary == binary)
            let datatypes = try #require(echoJSON["outputs"]?.array).map { $0["datatype"]?.string ?? "" }
            #expect(datatypes == ["BOOL", "INT32", "INT64", "FP32", "FP64", "BYTES"])
        }
    }

    @Test func overloadedAnswers503WithRetryAfter() async throws {
        try await withInferenceServer { api, predictor in
            try await api.publish("acme/iris", isPublic: true)
            predictor.overloadedRetryAfter.withLock { $0 = 2 }
            let reply = try await api.infer("/v2/models/acme__iris/infer", json: try zooInferBody("iris_random_forest"))
            reply.expectProtocolError(.serviceUnavailable, contains: "busy")
            #expect(reply.headers[HTTPField.Name("Retry-After")!] == "2")
            #expect(reply.headers[HTTPField.Name("X-Request-ID")!] != nil)
        }
    }
}
