import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayRegistry
import Testing

@Suite struct BadInputTests {
    struct BadBody: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String
        var field: String
        var testDescription: String { self.name }
    }

    static let badModelBodies: [BadBody] = [
        BadBody(name: "malformed JSON", json: #"{"owner": "admin", "name": "#, field: "body"),
        BadBody(name: "not an object", json: #"["admin", "x"]"#, field: "body"),
        BadBody(name: "unknown field", json: #"{"owner": "admin", "name": "x", "colour": "red"}"#, field: "colour"),
        BadBody(name: "wrong type", json: #"{"owner": "admin", "name": "x", "public": "yes"}"#, field: "public"),
        BadBody(
            name: "wrong nested type",
            json: #"{"owner": "admin", "name": "x", "topics": [1]}"#,
            field: "topics[0]"
        ),
        BadBody(name: "missing field", json: #"{"owner": "admin"}"#, field: "name"),
        BadBody(name: "null for a required field", json: #"{"owner": "admin", "name": null}"#, field: "name"),
        BadBody(
            name: "unknown card section",
            json: #"{"owner": "admin", "name": "x", "card": {"mood": "good"}}"#,
            field: "card.mood"
        ),
        BadBody(
            name: "unknown key metric field",
            json:
                #"{"owner": "admin", "name": "x", "key_metric": {"name": "auc", "direction": "maximize", "goal": 1}}"#,
            field: "key_metric.goal"
        ),
        BadBody(
            name: "card that is not an object",
            json: #"{"owner": "admin", "name": "x", "card": "short"}"#,
            field: "card"
        ),
        BadBody(name: "upper-case name", json: #"{"owner": "admin", "name": "Churn"}"#, field: "name"),
        BadBody(name: "name with a space", json: #"{"owner": "admin", "name": "my model"}"#, field: "name"),
        BadBody(name: "name ending in punctuation", json: #"{"owner": "admin", "name": "churn-"}"#, field: "name"),
        BadBody(
            name: "two punctuation characters in a row",
            json: #"{"owner": "admin", "name": "a._b"}"#,
            field: "name"
        ),
        BadBody(name: "empty name", json: #"{"owner": "admin", "name": ""}"#, field: "name"),
        BadBody(
            name: "65-character name",
            json: #"{"owner": "admin", "name": "\#(String(repeating: "a", count: 65))"}"#,
            field: "name"
        ),
        BadBody(name: "bad topic", json: #"{"owner": "admin", "name": "x", "topics": ["Not OK"]}"#, field: "topics[0]"),
    ]

    @Test(arguments: badModelBodies)
    func refusesABadModelBodyNamingTheField(_ bad: BadBody) async throws {
        try await withServer { api in
            let reply = try await api.post("/api/v1/models", as: api.admin, json: bad.json)
            reply.expectError(.badRequest, code: "invalid_input", field: bad.field)
            #expect(
                try await api.get("/api/v1/models", as: api.admin).json.array?.isEmpty == true,
                "nothing was created"
            )
        }
    }

    @Test func acceptsNamesAtTheLimits() async throws {
        try await withServer { api in
            for name in ["a", "a.b-c_d", String(repeating: "z", count: 64), "9lives"] {
                let reply = try await api.post(
                    "/api/v1/models",
                    as: api.admin,
                    json: #"{"owner": "admin", "name": "\#(name)"}"#
                )
                #expect(reply.status == .created, "\(name): \(reply)")
            }
        }
    }

    @Test func refusesAnOversizedJSONBody() async throws {
        try await withServer { api in
            let description = String(repeating: "x", count: (1 << 20) + 10)
            let reply = try await api.post(
                "/api/v1/models",
                as: api.admin,
                json: #"{"owner": "admin", "name": "big", "description": "\#(description)"}"#
            )
            reply.expectError(.contentTooLarge, code: "payload_too_large")
            try await api.get("/api/v1/models/admin/big", as: api.admin).expectError(.notFound, code: "not_found")
        }
    }

    @Test func refusesAnOversizedJSONBodyOverHTTP() async throws {
        try await withServer(.live) { api in
            let reply = try await api.post(
                "/api/v1/users/me/tokens",
                as: api.admin,
                json: #"{"name": "\#(String(repeating: "x", count: 2 << 20))"}"#
            )
            reply.expectError(.contentTooLarge, code: "payload_too_large")
        }
    }

    @Test func refusesAWrongContentType() async throws {
        try await withServer { api in
            let reply = try await api.request(
                .post,
                "/api/v1/models",
                as: api.admin,
                body: Data(#"{"owner": "admin", "name": "x"}"#.utf8),
                headers: [.contentType: "text/plain"]
            )
            reply.expectError(.unsupportedMediaType, code: "unsupported_media_type")
            try await api.createModel("admin/x")
            let deploy = try await api.request(
                .post,
                "/api/v1/models/admin/x/environments/production/deployments",
                as: api.admin,
                body: fixtureModel,
                headers: [.contentType: "application/octet-stream"]
            )
            deploy.expectError(.unsupportedMediaType, code: "unsupported_media_type")
            let noBoundary = try await api.request(
                .post,
                "/api/v1/models/admin/x/environments/production/deployments",
                as: api.admin,
                body: fixtureModel,
                headers: [.contentType: "multipart/form-data"]
            )
            noBoundary.expectError(.badRequest, code: "invalid_input")
        }
    }

    struct BadQuery: Sendable, CustomTestStringConvertible {
        var path: String
        var field: String
        var testDescription: String { self.path }
    }

    static let badQueries: [BadQuery] = [
        BadQuery(path: "/api/v1/models?page=0", field: "page"),
        BadQuery(path: "/api/v1/models?page=-3", field: "page"),
        BadQuery(path: "/api/v1/models?page=two", field: "page"),
        BadQuery(path: "/api/v1/models?per_page=0", field: "per_page"),
        BadQuery(path: "/api/v1/models?per_page=1000", field: "per_page"),
        BadQuery(path: "/api/v1/users?per_page=201", field: "per_page"),
        BadQuery(path: "/api/v1/models/admin/m/deployments?status=bogus", field: "status"),
        BadQuery(path: "/api/v1/models/admin/m/deployments?version=latest", field: "version"),
        BadQuery(path: "/api/v1/models/admin/m/environments/production/deployments?status=bogus", field: "status"),
        BadQuery(path: "/api/v1/models/admin/m/environments/production/live?at=notatime", field: "at"),
        BadQuery(path: "/api/v1/models/admin/m/environments/production/live?at=2026-02-30T00:00:00Z", field: "at"),
        BadQuery(path: "/api/v1/models/admin/m/activity?until=12:00", field: "until"),
        BadQuery(path: "/api/v1/models/admin/m/activity?per_page=1000", field: "per_page"),
    ]

    @Test(arguments: badQueries)
    func refusesABadQueryParameter(_ bad: BadQuery) async throws {
        try await withServer { api in
            try await api.createModel("admin/m")
            try await api.get(bad.path, as: api.admin).expectError(.badRequest, code: "invalid_input", field: bad.field)
        }
    }

    @Test func acceptsPaginationAtTheLimits() async throws {
        try await withServer { api in
            #expect(try await api.get("/api/v1/models?per_page=200&page=1", as: api.admin).status == .ok)
            let beyond = try await api.get("/api/v1/models?per_page=1&page=99", as: api.admin)
            #expect(beyond.status == .ok)
            #expect(beyond.json.array?.isEmpty == true)
        }
    }

    @Test func refusesBadBodiesOnEveryKindOfJSONRoute() async throws {
        try await withServer { api in
            try await api.createModel("admin/m")
            try await api.deploy("admin/m", "production")
            let routes: [(HTTPRequest.Method, String)] = [
                (.post, "/api/v1/users"), (.post, "/api/v1/users/me/tokens"), (.post, "/api/v1/orgs"),
                (.patch, "/api/v1/models/admin/m"), (.post, "/api/v1/models/admin/m/environments"),
                (.post, "/api/v1/models/admin/m/keys"),
                (.patch, "/api/v1/models/admin/m/environments/production/deployments/1"),
                (.post, "/api/v1/models/admin/m/environments/production/deployments/1/status"),
                (.post, "/api/v1/models/admin/m/environments/production/deployments/1/promote"),
                (.post, "/api/v1/models/admin/m/environments/production/activate"),
                (.post, "/api/v1/models/admin/m/environments/production/rollback"),
            ]
            for (method, path) in routes {
                let malformed = try await api.request(method, path, as: api.admin, json: "{")
                malformed.expectError(.badRequest, code: "invalid_input", field: "body")
                let unknown = try await api.request(method, path, as: api.admin, json: #"{"surprise": 1}"#)
                unknown.expectError(.badRequest, code: "invalid_input", field: "surprise")
            }
            try await api.post(
                "/api/v1/models/admin/m/environments/production/activate",
                as: api.admin,
                json: #"{"version": "1"}"#
            )
            .expectError(.badRequest, code: "invalid_input", field: "version")
            let fraction = try await api.post(
                "/api/v1/models/admin/m/environments/production/activate",
                as: api.admin,
                json: #"{"version": 1.5}"#
            )
            fraction.expectError(.badRequest, code: "invalid_input", field: "version")
            try await api.post(
                "/api/v1/models/admin/m/keys",
                as: api.admin,
                json: #"{"kind": "deploy", "name": "x", "environments": "production"}"#
            )
            .expectError(.badRequest, code: "invalid_input", field: "environments")
            try await api.post(
                "/api/v1/models/admin/m/keys",
                as: api.admin,
                json: #"{"kind": "deploy", "name": "x", "environments": ["production"], "expires_at": "soon"}"#
            ).expectError(.badRequest, code: "invalid_input", field: "expires_at")
        }
    }
}
