import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayRegistry
import Testing

@Suite struct ModelRouteTests {
    static let modelKeys: Set<String> = [
        "id", "owner", "name", "full_name", "public", "public_predictions", "description", "topics", "homepage_url",
        "source_url",
        "dataset_url", "license_url", "card", "key_metric", "default_environment", "environments",
        "active_deployments", "created_at", "updated_at",
    ]

    @Test func createsAModelWithProductionAndStaging() async throws {
        try await withServer { api in
            let reply = try await api.post(
                "/api/v1/models",
                as: api.admin,
                json: """
                    {"owner": "admin", "name": "churn", "public": true, "description": "who leaves",
                     "topics": ["tabular"], "homepage_url": "https://example.com/churn",
                     "card": {"intended_use": "retention"}, "key_metric": {"name": "accuracy", "direction": "maximize"}}
                    """
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.headers[.location] == "/api/v1/models/admin/churn")
            let model = reply.json
            #expect(model.keys == Self.modelKeys)
            #expect(model["full_name"]?.string == "admin/churn")
            #expect(model["public"]?.bool == true)
            #expect(model["topics"] == .array([.string("tabular")]))
            #expect(model["card"]?["intended_use"]?.string == "retention")
            #expect(model["card"]?["factors"]?.string == "")
            #expect(model["key_metric"]?["direction"]?.string == "maximize")
            #expect(model["default_environment"]?.string == "production")
            let environments = model["environments"]?.array?.compactMap { $0["name"]?.string }.sorted()
            #expect(environments == ["production", "staging"])
            #expect(model["active_deployments"] == .object([:]))

            try await api.post("/api/v1/models", as: api.admin, json: #"{"owner": "admin", "name": "churn"}"#)
                .expectError(.conflict, code: "conflict")
            try await api.post("/api/v1/models", as: api.admin, json: #"{"owner": "nobody", "name": "churn"}"#)
                .expectError(.notFound, code: "not_found")
            try await api.post("/api/v1/models", as: api.admin, json: #"{"owner": "admin", "name": "a--b"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")
            try await api.post(
                "/api/v1/models",
                as: api.admin,
                json: #"{"owner": "admin", "name": "x", "homepage_url": "ftp://x"}"#
            ).expectError(.badRequest, code: "invalid_input", field: "homepage_url")
            try await api.post(
                "/api/v1/models",
                as: api.admin,
                json: #"{"owner": "admin", "name": "x", "key_metric": {"name": "auc", "direction": "up"}}"#
            ).expectError(.badRequest, code: "invalid_input", field: "key_metric.direction")
            try await api.post("/api/v1/models", json: #"{"owner": "admin", "name": "y"}"#)
                .expectError(.unauthorized, code: "unauthenticated")
            let alice = try await api.createUser("alice")
            try await api.post("/api/v1/models", as: alice, json: #"{"owner": "admin", "name": "y"}"#)
                .expectError(.forbidden, code: "forbidden")
        }
    }

    @Test func getsAModelAndHidesPrivateOnes() async throws {
        try await withServer { api in
            let alice = try await api.createUser("alice")
            let bob = try await api.createUser("bob")
            try await api.createModel("alice/secret", as: alice)
            let own = try await api.get("/api/v1/models/alice/secret", as: alice)
            #expect(own.status == .ok)
            #expect(own.json.keys == Self.modelKeys)
            try await api.get("/api/v1/models/alice/secret", as: bob).expectError(.notFound, code: "not_found")
            try await api.get("/api/v1/models/alice/secret").expectError(.notFound, code: "not_found")
            try await api.get("/api/v1/models/alice/nosuch", as: alice).expectError(.notFound, code: "not_found")
        }
    }

    @Test func listsModelsWithFiltersAndPagination() async throws {
        try await withServer { api in
            let alice = try await api.createUser("alice")
            try await api.createModel("alice/one", isPublic: true, as: alice)
            try await api.createModel("alice/two", isPublic: false, as: alice)
            try await api.createModel("alice/three", isPublic: true, as: alice)
            _ = try await api.patch("/api/v1/models/alice/three", as: alice, json: #"{"topics": ["vision"]}"#)

            let mine = try await api.get("/api/v1/models?owner=alice&per_page=2", as: alice)
            #expect(mine.status == .ok)
            #expect(mine.headers[HTTPField.Name("X-Total-Count")!] == "3")
            let link = try #require(mine.headers[HTTPField.Name("Link")!])
            #expect(link.contains(#"</api/v1/models?owner=alice&page=2&per_page=2>; rel="next""#), "\(link)")
            #expect(link.contains(#"rel="last""#))
            #expect(mine.json.array?.count == 2)

            let anonymous = try await api.get("/api/v1/models")
            #expect(anonymous.headers[HTTPField.Name("X-Total-Count")!] == "2")
            #expect(Set(anonymous.json.array?.compactMap { $0["name"]?.string } ?? []) == ["one", "three"])
            let privateOnly = try await api.get("/api/v1/models?visibility=private", as: alice)
            #expect(privateOnly.json.array?.compactMap { $0["name"]?.string } == ["two"])
            let topic = try await api.get("/api/v1/models?topic=vision", as: alice)
            #expect(topic.json.array?.compactMap { $0["name"]?.string } == ["three"])
            let search = try await api.get("/api/v1/models?q=tw", as: alice)
            #expect(search.json.array?.compactMap { $0["name"]?.string } == ["two"])
            try await api.get("/api/v1/models?visibility=secret").expectError(
                .badRequest,
                code: "invalid_input",
                field: "visibility"
            )
        }
    }

    @Test func updatesModelFields() async throws {
        try await withServer { api in
            let alice = try await api.createUser("alice")
            try await api.createModel("alice/churn", as: alice)
            _ = try await api.patch(
                "/api/v1/models/alice/churn",
                as: alice,
                json: #"{"card": {"factors": "age"}, "key_metric": {"name": "rmse", "direction": "minimize"}}"#
            )
            let reply = try await api.patch(
                "/api/v1/models/alice/churn",
                as: alice,
                json: #"{"description": "v2", "card": {"metrics": "auc"}, "source_url": "https://example.com/src"}"#
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.json["description"]?.string == "v2")
            #expect(reply.json["card"]?["factors"]?.string == "age", "card sections merge")
            #expect(reply.json["card"]?["metrics"]?.string == "auc")
            #expect(reply.json["source_url"]?.string == "https://example.com/src")
            #expect(reply.json["key_metric"]?["name"]?.string == "rmse")
            let cleared = try await api.patch(
                "/api/v1/models/alice/churn",
                as: alice,
                json: #"{"key_metric": null, "source_url": null}"#
            )
            #expect(cleared.json["key_metric"] == .null)
            #expect(cleared.json["source_url"] == .null)
            try await api.patch("/api/v1/models/alice/churn", as: alice, json: #"{"name": "other"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")
            try await api.patch("/api/v1/models/alice/nosuch", as: alice, json: #"{"description": "x"}"#)
                .expectError(.notFound, code: "not_found")
        }
    }

    @Test func changingVisibilityNeedsTheOwner() async throws {
        try await withServer { api in
            let olivia = try await api.createUser("olivia")
            let mark = try await api.createUser("mark")
            try await api.createOrganization("acme", as: olivia)
            try await api.setMember("mark", role: "maintainer", in: "acme")
            try await api.createModel("acme/churn", as: mark)
            try await api.patch("/api/v1/models/acme/churn", as: mark, json: #"{"public": true}"#)
                .expectError(.forbidden, code: "forbidden")
            let reply = try await api.patch("/api/v1/models/acme/churn", as: olivia, json: #"{"public": true}"#)
            #expect(reply.json["public"]?.bool == true, "\(reply)")
        }
    }

    @Test func deletesAModelAndItsUnreferencedArtifacts() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn")
            try await api.deploy("admin/churn", "production")
            #expect(api.server.objectFiles().count == 1)
            try await api.delete("/api/v1/models/admin/churn", as: .anonymous).expectError(.notFound, code: "not_found")
            #expect(try await api.delete("/api/v1/models/admin/churn", as: api.admin).status == .noContent)
            try await api.get("/api/v1/models/admin/churn", as: api.admin).expectError(.notFound, code: "not_found")
            #expect(api.server.objectFiles().isEmpty)
            try await api.delete("/api/v1/models/admin/churn", as: api.admin).expectError(.notFound, code: "not_found")
        }
    }
}

@Suite struct EnvironmentRouteTests {
    @Test func createsListsGetsAndDeletesEnvironments() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn", isPublic: true)
            let created = try await api.post(
                "/api/v1/models/admin/churn/environments",
                as: api.admin,
                json: #"{"name": "canary"}"#
            )
            #expect(created.status == .created, "\(created)")
            #expect(created.json.keys == ["id", "name", "active_version", "active_deployment_id", "created_at"])
            #expect(created.json["active_version"] == .null)
            try await api.post("/api/v1/models/admin/churn/environments", as: api.admin, json: #"{"name": "canary"}"#)
                .expectError(.conflict, code: "conflict", field: "name")
            try await api.post("/api/v1/models/admin/churn/environments", as: api.admin, json: #"{"name": "Canary!"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")

            let list = try await api.get("/api/v1/models/admin/churn/environments")
            #expect(list.status == .ok)
            #expect(list.json.array?.compactMap { $0["name"]?.string }.sorted() == ["canary", "production", "staging"])
            let one = try await api.get("/api/v1/models/admin/churn/environments/canary")
            #expect(one.json["name"]?.string == "canary")
            try await api.get("/api/v1/models/admin/churn/environments/nosuch").expectError(
                .notFound,
                code: "not_found"
            )

            #expect(
                try await api.delete("/api/v1/models/admin/churn/environments/canary", as: api.admin).status
                    == .noContent
            )
            try await api.get("/api/v1/models/admin/churn/environments/canary").expectError(
                .notFound,
                code: "not_found"
            )
            try await api.delete("/api/v1/models/admin/churn/environments/canary", as: api.admin)
                .expectError(.notFound, code: "not_found")
        }
    }

    @Test func refusesToDeleteAnEnvironmentWithAnActiveDeployment() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn")
            let version = try await api.deployVerified("admin/churn", "production")
            try await api.activate("admin/churn", "production", version)
            try await api.delete("/api/v1/models/admin/churn/environments/production", as: api.admin)
                .expectError(.conflict, code: "conflict")
            let environment = try await api.get("/api/v1/models/admin/churn/environments/production", as: api.admin)
            #expect(environment.json["active_version"]?.int == version)
        }
    }
}

@Suite struct KeyRouteTests {
    @Test func createsKeysShowingTheSecretOnce() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn")
            let reply = try await api.post(
                "/api/v1/models/admin/churn/keys",
                as: api.admin,
                json:
                    #"{"kind": "serving", "name": "web", "environments": ["production", "production"], "rate_limit": 50, "expires_in_days": 10}"#
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(
                reply.json.keys == [
                    "id", "kind", "name", "environments", "rate_limit", "expires_at", "revoked_at", "created_by",
                    "created_at", "secret",
                ]
            )
            let secret = try #require(reply.json["secret"]?.string)
            #expect(secret.hasPrefix("slw_s_"))
            #expect(reply.json["environments"] == .array([.string("production")]))
            #expect(reply.json["rate_limit"]?.int == 50)
            #expect(reply.json["created_by"]?["name"]?.string == "admin")

            let list = try await api.get("/api/v1/models/admin/churn/keys", as: api.admin)
            #expect(list.status == .ok)
            let keys = try #require(list.json.array)
            #expect(keys.count == 1)
            #expect(!keys[0].keys.contains("secret"))
            #expect(!list.text.contains(secret))

            try await api.post(
                "/api/v1/models/admin/churn/keys",
                as: api.admin,
                json: #"{"kind": "deploy", "name": "ci", "environments": ["nosuch"]}"#
            ).expectError(.badRequest, code: "invalid_input", field: "environments[0]")
            try await api.post(
                "/api/v1/models/admin/churn/keys",
                as: api.admin,
                json: #"{"kind": "deploy", "name": "ci", "environments": []}"#
            ).expectError(.badRequest, code: "invalid_input", field: "environments")
            try await api.post(
                "/api/v1/models/admin/churn/keys",
                as: api.admin,
                json: #"{"kind": "admin", "name": "ci", "environments": ["production"]}"#
            ).expectError(.badRequest, code: "invalid_input", field: "kind")
            try await api.post(
                "/api/v1/models/admin/churn/keys",
                as: api.admin,
                json:
                    #"{"kind": "deploy", "name": "ci", "environments": ["production"], "expires_at": "2001-01-01T00:00:00Z"}"#
            ).expectError(.badRequest, code: "invalid_input", field: "expires_at")
        }
    }

    @Test func revokesKeys() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn")
            let key = try await api.createKey("deploy", in: "admin/churn", environments: ["production"])
            #expect(try await api.get("/api/v1/models/admin/churn", as: .bearer(key.secret)).status == .ok)
            #expect(
                try await api.delete("/api/v1/models/admin/churn/keys/\(key.id)", as: api.admin).status == .noContent
            )
            try await api.get("/api/v1/models/admin/churn", as: .bearer(key.secret))
                .expectError(.unauthorized, code: "unauthenticated", detailContains: "revoked")
            let list = try await api.get("/api/v1/models/admin/churn/keys", as: api.admin)
            #expect(list.json[0]?["revoked_at"]?.string != nil)
            try await api.delete("/api/v1/models/admin/churn/keys/nosuchkey000", as: api.admin)
                .expectError(.notFound, code: "not_found")
        }
    }

    @Test func refusesExpiredKeys() async throws {
        try await withServer { api in
            try await api.createModel("admin/churn")
            let expiry = Date().addingTimeInterval(5)
            let key = try await api.createKey(
                "deploy",
                in: "admin/churn",
                environments: ["production"],
                extra: #", "expires_at": "\#(ISO8601DateFormatter.fractional.string(from: expiry))""#
            )
            #expect(try await api.get("/api/v1/models/admin/churn", as: .bearer(key.secret)).status == .ok)
            try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 0.05))
            try await api.get("/api/v1/models/admin/churn", as: .bearer(key.secret))
                .expectError(.unauthorized, code: "unauthenticated", detailContains: "expired")
        }
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with fractional seconds.
    static var fractional: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
