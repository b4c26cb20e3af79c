import Foundation
import HTTPTypes
import SlipwayAPI
import SlipwayRegistry
import SlipwayRuntime
import Testing
import ZIPFoundation

// TeachableHub's management API under /v1, driven the way its Python SDK drives it (the live SDK itself runs in
// tests/teachablehub): environment lookup, the zip upload with JSON-string form fields, list by environment id and
// version, activation and rollback by deployment id and by version, whoami, and every kind of bad upload.

/// A zip of `entries` (name, bytes), deflated, built in memory.
func makeZip(_ entries: [(String, Data)]) throws -> Data {
    let archive = try Archive(data: Data(), accessMode: .create)
    for (name, data) in entries {
        try archive.addEntry(
            with: name,
            type: .file,
            uncompressedSize: Int64(data.count),
            compressionMethod: .deflate
        ) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
    }
    return try #require(archive.data)
}

/// The SDK's multipart deploy: the fields as JSON strings and the zip in part `model`.
func teachableHubUpload(zip: Data, fields: [String: String]) -> Multipart {
    var multipart = Multipart()
    for (name, value) in fields.sorted(by: { $0.key < $1.key }) { multipart.field(name, value) }
    multipart.file("model", filename: "GmKx1xWk3TJWp8Lj.zip", zip)
    return multipart
}

extension TestAPI {
    /// The id of an environment as `GET /v1/teachables/…/environments/` lists it.
    func environmentID(_ model: String, _ environment: String, as credential: Credential? = nil) async throws -> String
    {
        let reply = try await self.get("/v1/teachables/\(model)/environments/", as: credential ?? self.admin)
        try #require(reply.status == .ok, "\(reply)")
        let found = try #require(reply.json.array?.first { $0["name"]?.string == environment }, "\(reply)")
        return try #require(found["id"]?.string)
    }
}

@Suite struct TeachableHubRouteTests {
    static let samples = #"{"ndarray": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}"#
    static let classes = #"{"0": "setosa", "1": "versicolor", "2": "virginica"}"#

    /// The form fields the SDK sends for an ONNX zip into `environmentID`.
    static func fields(_ environmentID: String, _ extra: [String: String] = [:]) -> [String: String] {
        var fields = [
            "framework": "onnx", "environment": environmentID, "summary": "iris forest via the SDK",
            "samples": Self.samples, "classes": Self.classes,
            "context": #"{"environment": {"python": {"version": "3.11.7"}}}"#,
        ]
        fields.merge(extra) { $1 }
        return fields
    }

    @Test func deploysListsActivatesAndRollsBackTheWayTheSDKDoes() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let key = Credential.authorization(
                "Deploy-Key \(try await api.createKey("deploy", in: "admin/iris", environments: ["production"]).secret)"
            )
            let production = try await api.environmentID("admin/iris", "production", as: key)
            let zip = try makeZip([("iris.onnx", fixtureModel)])

            var uuids: [String] = []
            for version in 1...2 {
                let reply = try await api.upload(
                    "/v1/teachables/admin/iris/deployments/",
                    as: key,
                    teachableHubUpload(zip: zip, fields: Self.fields(production, ["activate": "True"]))
                )
                #expect(reply.status == .created, "\(reply)")
                #expect(reply.json["version"]?.int == version)
                #expect(reply.json["status"]?["state"]?.string == "pending")
                #expect(reply.json["format"]?.string == "onnx")
                #expect(reply.json["activate_on_verify"]?.bool == true)
                #expect(reply.json["classes"]?["2"]?.string == "virginica", "JSON fields are stored as JSON")
                let uuid = try #require(reply.json["uuid"]?.string)
                uuids.append(uuid)

                // verified(reload=True): the list by environment id and version holds exactly this deployment.
                let listed = try await api.get(
                    "/v1/teachables/admin/iris/deployments/?environment_id=\(production)&version=\(version)",
                    as: key
                )
                #expect(listed.status == .ok, "\(listed)")
                #expect(listed.json.array?.count == 1)
                #expect(listed.json[0]?["uuid"]?.string == uuid)
                try await api.verify("admin/iris", "production", version)
                let detail = try await api.get("/v1/teachables/admin/iris/deployments/\(uuid)/", as: key)
                #expect(detail.json["status"]?["state"]?.string == "verified", "\(detail)")

                let activated = try await api.post(
                    "/v1/teachables/admin/iris/deployments/\(uuid)/activate/",
                    as: key
                )
                #expect(activated.status == .ok, "\(activated)")
                #expect(activated.json["uuid"]?.string == uuid)
                #expect(activated.json["is_active"]?.bool == true)
            }
            #expect(api.server.objectFiles().count == 1, "the same ONNX bytes are stored once")

            let usable = try await api.get("/v1/teachables/admin/iris/deployments/?usable=true", as: key)
            #expect(usable.json.array?.count == 2, "\(usable)")

            // rollback(version): the JSON body names the environment by id; the answer is the now-active deployment.
            let rolledBack = try await api.post(
                "/v1/teachables/admin/iris/deployments/rollback-version/",
                as: key,
                json: #"{"environment": "\#(production)", "version": 1}"#
            )
            #expect(rolledBack.status == .ok, "\(rolledBack)")
            #expect(rolledBack.json["uuid"]?.string == uuids[0])
            #expect(rolledBack.json["is_active"]?.bool == true)
            let teachable = try await api.get("/v1/teachables/admin/iris/", as: key)
            #expect(teachable.json["active_deployments"]?["production"]?["version"]?.int == 1, "\(teachable)")
            #expect(teachable.json["default_environment"]?.string == "production")

            let back = try await api.post("/v1/teachables/admin/iris/deployments/\(uuids[1])/rollback/", as: key)
            #expect(back.status == .ok, "\(back)")
            #expect(back.json["version"]?.int == 2)
            let activity = try await api.get("/api/v1/models/admin/iris/activity", as: api.admin)
            #expect(activity.json[0]?["action"]?.string == "deployment.rolled_back", "\(activity)")

            // The SDK's prediction call: doubled slash, trailing slash, query parameters, X-Serving-Key.
            let serving = try await api.createKey("serving", in: "admin/iris", environments: ["production"]).secret
            let prediction = try await api.request(
                .post,
                "/v1//admin/iris/predict/?environment=production&order=desc&limit=2&threshold=0.0",
                as: .servingKey(serving),
                json: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]], "context": null}"#
            )
            #expect(prediction.status == .ok, "\(prediction)")
            #expect(prediction.json["predictions"]?.array?.count == 2, "limit=2 keeps two classes: \(prediction)")
            #expect(prediction.json["predictions"]?[0]?["className"]?.string == "setosa")
        }
    }

    /// th-sklearn-json's model.json of a multinomial LogisticRegression on iris (Tests/Fixtures/teachablehub).
    static let sklearnModelJSON = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Fixtures/teachablehub/logistic_regression_multinomial_iris/model.json")

    @Test func translatesASklearnModelJSONAndServesIt() async throws {
        try await withServer(runtime: ModelHost.Configuration()) { api in
            try await api.createModel("admin/iris")
            let production = try await api.environmentID("admin/iris", "production")
            let zip = try makeZip([("model.json", try Data(contentsOf: Self.sklearnModelJSON))])
            let reply = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: api.admin,
                teachableHubUpload(
                    zip: zip,
                    fields: Self.fields(production, ["framework": "sklearn", "activate": "True"])
                )
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.json["format"]?.string == "onnx", "the artifact is the translated ONNX model")
            let uuid = try #require(reply.json["uuid"]?.string)
            // The server verifies it on its samples and activates it.
            var state = ""
            for _ in 0..<200 {
                let detail = try await api.get("/v1/teachables/admin/iris/deployments/\(uuid)/", as: api.admin)
                state = detail.json["status"]?["state"]?.string ?? ""
                if state != "pending" && detail.json["is_active"]?.bool == true || state == "failed" { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(state == "verified")
            let serving = try await api.createKey("serving", in: "admin/iris", environments: ["production"]).secret
            let prediction = try await api.request(
                .post,
                "/v1//admin/iris/predict/?environment=production",
                as: .servingKey(serving),
                json: #"{"ndarray": [[4.9, 3.0, 1.4, 0.2]]}"#
            )
            #expect(prediction.status == .ok, "\(prediction)")
            #expect(prediction.json["predictions"]?[0]?["className"]?.string == "setosa", "\(prediction)")
        }
    }

    @Test func refusesUnsupportedEstimatorsWithTheTranslatorsMessage() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let production = try await api.environmentID("admin/iris", "production")
            let modelJSON = #"{"meta": "multinomial-nb", "classes_": [0, 1], "params": {}}"#
            let reply = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: api.admin,
                teachableHubUpload(
                    zip: try makeZip([("model.json", Data(modelJSON.utf8))]),
                    fields: Self.fields(production, ["framework": "sklearn"])
                )
            )
            reply.expectError(
                .badRequest,
                code: "invalid_input",
                field: "model",
                detailContains: "unsupported estimator"
            )
            #expect(api.server.objectFiles() == [])
            let listed = try await api.get("/v1/teachables/admin/iris/deployments/", as: api.admin)
            #expect(listed.json.array?.isEmpty == true, "\(listed)")
        }
    }

    @Test func whoamiAnswersTheTokensUser() async throws {
        try await withServer { api in
            let token = try await api.createUser("wanda")
            let secret = try #require(token.headers[.authorization]?.split(separator: " ").last)
            let reply = try await api.get("/v1/users/me/", as: .authorization("Token \(secret)"))
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.json["username"]?.string == "wanda")

            try await api.createModel("wanda/m", as: token)
            let key = try await api.createKey("deploy", in: "wanda/m", environments: ["production"]).secret
            let refused = try await api.get("/v1/users/me/", as: .authorization("Deploy-Key \(key)"))
            refused.expectError(.forbidden, code: "forbidden", detailContains: "API token")
            try await api.get("/v1/users/me/").expectError(.unauthorized, code: "unauthenticated")
        }
    }

    @Test func listsTheCallersAndThePublicTeachables() async throws {
        try await withServer { api in
            let token = try await api.createUser("wanda")
            try await api.createModel("wanda/private-one", as: token)
            try await api.createModel("wanda/public-one", isPublic: true, as: token)
            try await api.createModel("admin/shared", isPublic: true)
            try await api.createModel("admin/hidden")

            let mine = try await api.get("/v1/users/me/teachables/", as: token)
            #expect(mine.status == .ok, "\(mine)")
            #expect(
                Set(mine.json.array?.compactMap { $0["full_name"]?.string } ?? []) == [
                    "wanda/private-one", "wanda/public-one",
                ]
            )
            let public_ = try await api.get("/v1/teachables/")
            #expect(public_.status == .ok, "\(public_)")
            #expect(
                Set(public_.json.array?.compactMap { $0["full_name"]?.string } ?? []) == [
                    "wanda/public-one", "admin/shared",
                ]
            )
            #expect(public_.headers[HTTPField.Name("X-Total-Count")!] == "2")
            try await api.get("/v1/users/me/teachables/").expectError(.unauthorized, code: "unauthenticated")
        }
    }

    @Test func reservesTheTeachablesOwnerName() async throws {
        try await withServer { api in
            try await api.post("/api/v1/users", as: api.admin, json: #"{"username": "teachables"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "username", detailContains: "reserved")
            try await api.post("/api/v1/orgs", as: api.admin, json: #"{"name": "teachables"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name", detailContains: "reserved")
        }
    }

    /// A bad upload: what it sends, and the 4xx it must get.
    struct BadUpload: Sendable, CustomTestStringConvertible {
        var testDescription: String
        var zip: @Sendable () throws -> Data
        var fields: @Sendable (String) -> [String: String]
        var status: HTTPResponse.Status = .badRequest
        var field: String
        var detail: String
    }

    static let badUploads: [BadUpload] = [
        BadUpload(
            testDescription: "not a zip",
            zip: { fixtureModel },
            fields: { Self.fields($0) },
            field: "model",
            detail: "not a zip"
        ),
        BadUpload(
            testDescription: "sklearn zip without model.json",
            zip: { try makeZip([("weights.json", Data("{}".utf8))]) },
            fields: { Self.fields($0, ["framework": "sklearn"]) },
            field: "model",
            detail: "no model.json"
        ),
        BadUpload(
            testDescription: "onnx zip without an .onnx file",
            zip: { try makeZip([("model.json", Data("{}".utf8))]) },
            fields: { Self.fields($0) },
            field: "model",
            detail: "exactly one .onnx"
        ),
        BadUpload(
            testDescription: "nested path",
            zip: { try makeZip([("../model.onnx", fixtureModel)]) },
            fields: { Self.fields($0) },
            field: "model",
            detail: "top level"
        ),
        BadUpload(
            testDescription: "folder inside",
            zip: { try makeZip([("models/model.onnx", fixtureModel)]) },
            fields: { Self.fields($0) },
            field: "model",
            detail: "top level"
        ),
        BadUpload(
            testDescription: "empty zip",
            zip: { try makeZip([]) },
            fields: { Self.fields($0) },
            field: "model",
            detail: "empty"
        ),
        BadUpload(
            testDescription: "unknown framework",
            zip: { try makeZip([("model.h5", Data("h5".utf8))]) },
            fields: { Self.fields($0, ["framework": "keras"]) },
            field: "framework",
            detail: "framework 'keras' is not supported; supported: onnx, sklearn"
        ),
        BadUpload(
            testDescription: "no framework",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { Self.fields($0).filter { $0.key != "framework" } },
            field: "framework",
            detail: "framework is required"
        ),
        BadUpload(
            testDescription: "unknown environment id",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { _ in Self.fields("3f2a9c1e-0000-4000-8000-000000000000") },
            field: "environment",
            detail: "is not an environment of admin/iris"
        ),
        BadUpload(
            testDescription: "no environment (the SDK's TH_ENVIRONMENT bug sends none)",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { Self.fields($0).filter { $0.key != "environment" } },
            field: "environment",
            detail: "environment is required"
        ),
        BadUpload(
            testDescription: "samples that are not JSON",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { Self.fields($0, ["samples": "[[5.1"]) },
            field: "samples",
            detail: "samples"
        ),
        BadUpload(
            testDescription: "activate that is not a boolean",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { Self.fields($0, ["activate": "maybe"]) },
            field: "activate",
            detail: "activate must be true or false"
        ),
        BadUpload(
            testDescription: "a field the SDK never sends",
            zip: { try makeZip([("iris.onnx", fixtureModel)]) },
            fields: { Self.fields($0, ["run_tests": "True"]) },
            field: "run_tests",
            detail: "is not a deploy field"
        ),
    ]

    @Test(arguments: Self.badUploads)
    func refusesBadUploadsAndStoresNothing(_ bad: BadUpload) async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let production = try await api.environmentID("admin/iris", "production")
            let reply = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: api.admin,
                teachableHubUpload(zip: try bad.zip(), fields: bad.fields(production))
            )
            reply.expectError(bad.status, code: "invalid_input", field: bad.field, detailContains: bad.detail)
            #expect(api.server.objectFiles() == [], "no artifact is stored")
            #expect(api.server.temporaryFiles() == [], "no upload is left behind")
            let listed = try await api.get("/v1/teachables/admin/iris/deployments/", as: api.admin)
            #expect(listed.json.array?.isEmpty == true, "no deployment is recorded: \(listed)")
        }
    }

    @Test func refusesOversizedZipsAndZipBombs() async throws {
        try await withServer(maximumArtifactBytes: 256 << 10) { api in
            try await api.createModel("admin/iris")
            let production = try await api.environmentID("admin/iris", "production")
            // Over the upload limit as sent.
            var noise = SystemRandomNumberGenerator()
            let random = Data((0..<(300 << 10)).map { _ in UInt8.random(in: 0...255, using: &noise) })
            let big = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: api.admin,
                teachableHubUpload(zip: try makeZip([("iris.onnx", random)]), fields: Self.fields(production))
            )
            big.expectError(.contentTooLarge, code: "payload_too_large", field: "model", detailContains: "limit")
            // Small as sent, past the limit once inflated: 8 MiB of zeros deflate to a few KiB.
            let bomb = try makeZip([("model.json", Data(count: 8 << 20))])
            #expect(bomb.count < 64 << 10)
            let inflated = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: api.admin,
                teachableHubUpload(zip: bomb, fields: Self.fields(production, ["framework": "sklearn"]))
            )
            inflated.expectError(
                .contentTooLarge,
                code: "payload_too_large",
                field: "model",
                detailContains: "inflates"
            )
            #expect(api.server.objectFiles() == [])
        }
    }

    @Test func refusesForeignAndOutOfScopeKeysBeforeStoringAnything() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.createModel("admin/other")
            let production = try await api.environmentID("admin/iris", "production")
            let staging = try await api.environmentID("admin/iris", "staging")
            let foreign = try await api.createKey("deploy", in: "admin/other", environments: ["production"]).secret
            let scoped = try await api.createKey("deploy", in: "admin/iris", environments: ["staging"]).secret
            let serving = try await api.createKey("serving", in: "admin/iris", environments: ["production"]).secret
            let zip = try makeZip([("iris.onnx", fixtureModel)])

            let hidden = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: .authorization("Deploy-Key \(foreign)"),
                teachableHubUpload(zip: zip, fields: Self.fields(production))
            )
            hidden.expectError(.notFound, code: "not_found")
            let outOfScope = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: .authorization("Deploy-Key \(scoped)"),
                teachableHubUpload(zip: zip, fields: Self.fields(production))
            )
            outOfScope.expectError(.forbidden, code: "forbidden", detailContains: "production")
            let servingKey = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: .servingKey(serving),
                teachableHubUpload(zip: zip, fields: Self.fields(production))
            )
            #expect([.forbidden, .notFound, .unauthorized].contains(servingKey.status), "\(servingKey)")
            #expect(api.server.objectFiles() == [])

            // The key of the staging environment deploys there.
            let allowed = try await api.upload(
                "/v1/teachables/admin/iris/deployments/",
                as: .authorization("Deploy-Key \(scoped)"),
                teachableHubUpload(zip: zip, fields: Self.fields(staging))
            )
            #expect(allowed.status == .created, "\(allowed)")
            #expect(allowed.json["environment"]?.string == "staging")
        }
    }

    @Test func answersUnknownDeploymentsAndVersionsWithNotFound() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let production = try await api.environmentID("admin/iris", "production")
            try await api.get("/v1/teachables/admin/iris/deployments/not-a-uuid/", as: api.admin)
                .expectError(.notFound, code: "not_found", detailContains: "not-a-uuid")
            try await api.post(
                "/v1/teachables/admin/iris/deployments/\(UUID().uuidString.lowercased())/activate/",
                as: api.admin
            ).expectError(.notFound, code: "not_found")
            try await api.post(
                "/v1/teachables/admin/iris/deployments/rollback-version/",
                as: api.admin,
                json: #"{"environment": "\#(production)", "version": 7}"#
            ).expectError(.notFound, code: "not_found")
            try await api.get("/v1/teachables/admin/iris/deployments/?environment_id=nope", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "environment_id")
            try await api.get("/v1/teachables/admin/iris/deployments/?usable=perhaps", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "usable")
        }
    }
}
