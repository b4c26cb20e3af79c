import Foundation
import HTTPTypes
import SlipwayAPI
import Testing

// Bad input and credentials on the Open Inference Protocol routes: every answer is a 4xx with {"error": "…"}.

@Suite("Open Inference Protocol: bad input")
struct InferenceProtocolBadInputTests {
    static let iris = "/v2/models/acme__iris/infer"

    /// A JSON body and the words its error must contain.
    static let badJSON: [(String, String)] = [
        ("", "JSON"),
        ("{", "JSON"),
        ("[]", "JSON object"),
        (#"{"inputs": 3}"#, "'inputs' must be an array"),
        (#"{"id": 3, "inputs": []}"#, "'id' must be a string"),
        (#"{"inputs": []}"#, "'inputs' is empty"),
        (#"{"inputs": [], "extra": 1}"#, "unknown field 'extra'"),
        (#"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "UINT8", "data": [1, 2, 3, 4]}]}"#, "UINT8"),
        (#"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3]}]}"#, "holds 3 values"),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, "x"]}]}"#,
            "must be a number"
        ),
        (#"{"inputs": [{"name": "input", "shape": [-1, 4], "datatype": "FP32", "data": []}]}"#, "non-negative"),
        (#"{"inputs": [{"name": "input", "shape": [0, 4], "datatype": "FP32", "data": []}]}"#, "no elements"),
        (#"{"inputs": [{"name": "input", "shape": [1, 3], "datatype": "FP32", "data": [1, 2, 3]}]}"#, "dimension 1"),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP64", "data": [1, 2, 3, 4]}]}"#,
            "element type"
        ),
        (
            #"{"inputs": [{"name": "nope", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"#,
            "unknown input"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}], "outputs": [{"name": "nope"}]}"#,
            "unknown output"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}], "outputs": [{"name": "output_label", "parameters": {"classification": 2}}]}"#,
            "classification"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}], "parameters": {"binary_data_output": "yes"}}"#,
            "true or false"
        ),
        (
            #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]}"#,
            "Inference-Header-Content-Length"
        ),
    ]

    @Test func malformedRequestsAre400() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            for (body, words) in Self.badJSON {
                let reply = try await api.request(.post, Self.iris, body: Data(body.utf8))
                reply.expectProtocolError(.badRequest, contains: words)
            }
        }
    }

    @Test func malformedBinaryRequestsAre400() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            func header(_ size: Int, datatype: String = "FP32", shape: String = "[1,4]") -> String {
                #"{"inputs":[{"name":"input","shape":\#(shape),"datatype":"\#(datatype)","parameters":{"binary_data_size":\#(size)}}]}"#
            }
            let row = float32Bytes([5.1, 3.5, 1.4, 0.2])
            // Sizes that disagree with the shape, run past the body, or leave bytes over.
            try await api.infer(Self.iris, header: header(12), binary: Array(row[0..<12]))
                .expectProtocolError(.badRequest, contains: "take 16")
            try await api.infer(Self.iris, header: header(32), binary: row)
                .expectProtocolError(.badRequest, contains: "only 16 bytes")
            try await api.infer(Self.iris, header: header(16), binary: row + [0])
                .expectProtocolError(.badRequest, contains: "1 bytes of binary data")
            // A header length beyond the body, and one that cuts the JSON.
            try await api.infer(Self.iris, header: header(16), binary: row, headerLength: 10_000)
                .expectProtocolError(.badRequest, contains: "Inference-Header-Content-Length")
            try await api.infer(Self.iris, header: header(16), binary: row, headerLength: 20)
                .expectProtocolError(.badRequest, contains: "JSON")
            // Both data and binary_data_size.
            try await api.infer(
                Self.iris,
                header:
                    #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":{"binary_data_size":16}}]}"#,
                binary: row
            ).expectProtocolError(.badRequest, contains: "both")
            // Bad BOOL bytes and BYTES lengths (the engine refuses the type afterwards, but the bytes come first).
            try await api.infer(Self.iris, header: header(4, datatype: "BOOL"), binary: [0, 1, 2, 1])
                .expectProtocolError(.badRequest, contains: "expected 0 or 1")
            try await api.infer(
                Self.iris,
                header: header(8, datatype: "BYTES", shape: "[1]"),
                binary: [9, 0, 0, 0, 65, 66, 67, 68]
            )
            .expectProtocolError(.badRequest, contains: "declares 9 bytes")
            try await api.infer(
                Self.iris,
                header: header(6, datatype: "BYTES", shape: "[1]"),
                binary: [2, 0, 0, 0, 0xFF, 0xFE]
            )
            .expectProtocolError(.badRequest, contains: "UTF-8")
            // A negative or non-numeric header length, and a negative size.
            let body = Data(header(16).utf8) + Data(row)
            for value in ["-1", "abc"] {
                try await api.request(
                    .post,
                    Self.iris,
                    body: body,
                    headers: [HTTPField.Name("Inference-Header-Content-Length")!: value]
                ).expectProtocolError(.badRequest, contains: "non-negative integer")
            }
            try await api.infer(Self.iris, header: header(-4), binary: row)
                .expectProtocolError(.badRequest, contains: "binary_data_size")
            // Compressed bodies are not supported.
            try await api.request(
                .post,
                Self.iris,
                body: Data(#"{"inputs":[]}"#.utf8),
                headers: [.contentEncoding: "gzip"]
            ).expectProtocolError(.badRequest, contains: "gzip")
        }
    }

    @Test func bodiesOverTheLimitAre413() async throws {
        try await withInferenceServer(maximumBodyBytes: 1000) { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            let data = Array(repeating: "1.0", count: 400).joined(separator: ",")
            let body = #"{"inputs":[{"name":"input","shape":[100,4],"datatype":"FP32","data":[\#(data)]}]}"#
            try await api.infer(Self.iris, json: body).expectProtocolError(.contentTooLarge, contains: "1000 bytes")
            // Under the limit it still works.
            let small = #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]}"#
            #expect(try await api.infer(Self.iris, json: small).status == .ok)
        }
    }

    @Test func nonFiniteFloatsAreAccepted() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris", isPublic: true)
            let body =
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[NaN,null,Infinity,-Infinity]}]}"#
            #expect(try await api.infer(Self.iris, json: body).status == .ok)
        }
    }
}

@Suite("Open Inference Protocol: credentials")
struct InferenceProtocolCredentialTests {
    static let row = #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[5.1,3.5,1.4,0.2]}]}"#

    @Test func privateModelsNeedAServingKeyOfTheModelAndEnvironment() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris")
            try await api.publish("acme/iris", environment: "staging", createModel: false)
            try await api.publish("acme/other")
            let key = try await api.createKey("serving", in: "acme/iris", environments: ["production"])
            let other = try await api.createKey("serving", in: "acme/other", environments: ["production"])
            let deploy = try await api.createKey("deploy", in: "acme/iris", environments: ["production"])

            let anonymous = try await api.infer("/v2/models/acme__iris/infer", json: Self.row)
            anonymous.expectProtocolError(.unauthorized, contains: "serving key")
            #expect(anonymous.headers[.wwwAuthenticate] != nil)
            try await api.get("/v2/models/acme__iris").expectProtocolError(.unauthorized)
            try await api.get("/v2/models/acme__iris/ready").expectProtocolError(.unauthorized)

            for credential in [Credential.servingKey(key.secret), .bearer(key.secret), api.admin] {
                let reply = try await api.infer("/v2/models/acme__iris/infer", as: credential, json: Self.row)
                #expect(reply.status == .ok, "\(credential): \(reply)")
            }
            try await api.infer("/v2/models/acme__iris__staging/infer", as: .servingKey(key.secret), json: Self.row)
                .expectProtocolError(.forbidden, contains: "staging")
            try await api.infer("/v2/models/acme__iris/infer", as: .servingKey(other.secret), json: Self.row)
                .expectProtocolError(.forbidden, contains: "another model")
            // A deploy key reads its model, so it may predict, as on the prediction API.
            #expect(
                try await api.infer("/v2/models/acme__iris/infer", as: .bearer(deploy.secret), json: Self.row).status
                    == .ok
            )
            try await api.infer("/v2/models/acme__iris/infer", as: .servingKey("slw_s_nonsense"), json: Self.row)
                .expectProtocolError(.unauthorized)
            try await api.infer("/v2/models/acme__iris/infer", as: .servingKey("not-a-key"), json: Self.row)
                .expectProtocolError(.unauthorized, contains: "slw_")
            try await api.infer("/v2/models/acme__iris/infer", as: .authorization("Basic abc"), json: Self.row)
                .expectProtocolError(.unauthorized, contains: "Basic")

            let stranger = try await api.createUser("stranger")
            try await api.infer("/v2/models/acme__iris/infer", as: stranger, json: Self.row)
                .expectProtocolError(.notFound, contains: "does not exist")
        }
    }

    @Test func publicModelsNeedPublicPredictionsForAnonymousCallers() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/open", isPublic: true)
            let created = try await api.post(
                "/api/v1/models",
                as: api.admin,
                json: #"{"owner": "acme", "name": "shown", "public": true}"#
            )
            #expect(created.status == .created)
            try await api.publish("acme/shown", createModel: false)
            #expect(try await api.infer("/v2/models/acme__open/infer", json: Self.row).status == .ok)
            try await api.infer("/v2/models/acme__shown/infer", json: Self.row)
                .expectProtocolError(.unauthorized, contains: "serving key")
            let listed = try await api.get("/v2/models")
            #expect(listed.json == .object(["models": .array([.string("acme__open")])]))
        }
    }

    @Test func servingKeyRateLimits() async throws {
        try await withInferenceServer { api, _ in
            try await api.publish("acme/iris")
            // One prediction per second: the refusal is only certain while less than a second passes between the
            // two requests, so a slow round (a loaded machine) is tried again with a fresh key.
            var conclusive = false
            for _ in 0..<20 where !conclusive {
                let key = try await api.createKey(
                    "serving",
                    in: "acme/iris",
                    environments: ["production"],
                    extra: #", "rate_limit": 1"#
                )
                let started = ContinuousClock.now
                let first = try await api.infer(
                    "/v2/models/acme__iris/infer",
                    as: .servingKey(key.secret),
                    json: Self.row
                )
                let second = try await api.infer(
                    "/v2/models/acme__iris/infer",
                    as: .servingKey(key.secret),
                    json: Self.row
                )
                let elapsed = ContinuousClock.now - started
                #expect(first.status == .ok, "\(first)")
                #expect(first.headers[HTTPField.Name("RateLimit-Limit")!] == "1")
                #expect(first.headers[HTTPField.Name("X-Slipway-Version")!] == "1")
                guard elapsed < .milliseconds(900) else { continue }
                conclusive = true
                second.expectProtocolError(.tooManyRequests, contains: "1 predictions per second")
                #expect(second.headers[HTTPField.Name("Retry-After")!] != nil)
                #expect(second.headers[HTTPField.Name("RateLimit-Remaining")!] == "0")
                // Metadata and readiness do not spend tokens.
                #expect(try await api.get("/v2/models/acme__iris/ready", as: .servingKey(key.secret)).status == .ok)
            }
            #expect(conclusive, "every round took a second or more")
        }
    }

    @Test func organisationMembersAndPublicModels() async throws {
        try await withInferenceServer { api, _ in
            let owner = try await api.createUser("olga")
            try await api.createOrganization("beta", as: owner)
            try await api.publish("beta/iris")
            try await api.publish("beta/open", isPublic: true)
            let viewer = try await api.createUser("vic")
            try await api.setMember("vic", role: "viewer", in: "beta")
            #expect(try await api.infer("/v2/models/beta__iris/infer", as: viewer, json: Self.row).status == .ok)
            #expect(try await api.infer("/v2/models/beta__iris/infer", as: owner, json: Self.row).status == .ok)
            #expect(try await api.infer("/v2/models/beta__open/infer", json: Self.row).status == .ok)
            #expect(try await api.get("/v2/models/beta__open/ready").status == .ok)
            let visible = try await api.get("/v2/models", as: viewer)
            #expect(visible.json == .object(["models": .array([.string("beta__iris"), .string("beta__open")])]))
        }
    }
}
