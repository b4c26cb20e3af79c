import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayRegistry
import Testing

@Suite struct SystemRouteTests {
    @Test func answersHealthAndReadiness() async throws {
        try await withServer { api in
            let health = try await api.get("/healthz")
            #expect(health.status == .ok)
            #expect(health.json == .object(["status": .string("ok")]))
            let ready = try await api.get("/readyz")
            #expect(ready.status == .ok)
            #expect(ready.json == .object(["status": .string("ready")]))
        }
    }

    @Test func servesTheOpenAPIDocumentAndTheDocsPage() async throws {
        try await withServer { api in
            let document = try await api.get("/api/v1/openapi.json")
            #expect(document.status == .ok)
            #expect(document.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(document.json["openapi"]?.string == "3.1.0")
            #expect(document.json["paths"]?["/api/v1/models/{owner}/{name}"] != nil)
            let page = try await api.get("/api/docs")
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(page.text.contains("/api/v1/models"))
        }
    }

    @Test func answersUnknownRoutesWithAJSONNotFound() async throws {
        try await withServer { api in
            let reply = try await api.get("/api/v1/nothing-here")
            reply.expectError(.notFound, code: "not_found")
        }
    }
}

@Suite struct UserRouteTests {
    @Test func returnsTheCallersUser() async throws {
        try await withServer { api in
            let reply = try await api.get("/api/v1/users/me", as: api.admin)
            #expect(reply.status == .ok)
            #expect(reply.json["username"]?.string == "admin")
            #expect(reply.json["is_admin"]?.bool == true)
            #expect(reply.json.keys == ["id", "username", "display_name", "email", "is_admin", "created_at"])
            try await api.get("/api/v1/users/me").expectError(.unauthorized, code: "unauthenticated")
            #expect(try await api.get("/api/v1/users/me").headers[.wwwAuthenticate] != nil)
        }
    }

    @Test func acceptsTeachableHubTokenHeader() async throws {
        try await withServer { api in
            let reply = try await api.get("/api/v1/users/me", as: .authorization("Token \(api.server.adminToken)"))
            #expect(reply.status == .ok, "\(reply)")
            let unknownScheme = try await api.get("/api/v1/users/me", as: .authorization("Basic abc"))
            unknownScheme.expectError(.unauthorized, code: "unauthenticated")
        }
    }

    @Test func createsUsersWithAFirstTokenShownOnce() async throws {
        try await withServer { api in
            let reply = try await api.post(
                "/api/v1/users",
                as: api.admin,
                json: #"{"username": "alice", "display_name": "Alice", "email": "alice@example.com"}"#
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.json["user"]?["username"]?.string == "alice")
            #expect(reply.json["user"]?["email"]?.string == "alice@example.com")
            #expect(reply.json["user"]?["is_admin"]?.bool == false)
            let secret = try #require(reply.json["token"]?["secret"]?.string)
            #expect(secret.hasPrefix("slw_u_"))
            let me = try await api.get("/api/v1/users/me", as: .bearer(secret))
            #expect(me.json["username"]?.string == "alice")

            try await api.post("/api/v1/users", as: api.admin, json: #"{"username": "alice"}"#)
                .expectError(.conflict, code: "conflict", field: "username")
            try await api.post("/api/v1/users", as: .bearer(secret), json: #"{"username": "bob"}"#)
                .expectError(.forbidden, code: "forbidden")
            try await api.post("/api/v1/users", json: #"{"username": "bob"}"#)
                .expectError(.unauthorized, code: "unauthenticated")
            try await api.post("/api/v1/users", as: api.admin, json: #"{"username": "Bad Name"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "username")
            try await api.post("/api/v1/users", as: api.admin, json: #"{"display_name": "x"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "username")
        }
    }

    @Test func listsUsersForAdministratorsWithPagination() async throws {
        try await withServer { api in
            for name in ["u1", "u2", "u3"] { try await api.createUser(name) }
            let reply = try await api.get("/api/v1/users?per_page=2&page=2", as: api.admin)
            #expect(reply.status == .ok)
            #expect(reply.headers[HTTPField.Name("X-Total-Count")!] == "4")
            let link = try #require(reply.headers[HTTPField.Name("Link")!])
            #expect(link.contains(#"</api/v1/users?page=1&per_page=2>; rel="first""#), "\(link)")
            #expect(link.contains(#"</api/v1/users?page=1&per_page=2>; rel="prev""#), "\(link)")
            #expect(!link.contains(#"rel="next""#), "\(link)")
            #expect(link.contains(#"</api/v1/users?page=2&per_page=2>; rel="last""#), "\(link)")
            #expect(reply.json.array?.count == 2)
            let first = try await api.get("/api/v1/users?per_page=2", as: api.admin)
            #expect(first.headers[HTTPField.Name("Link")!]?.contains(#"page=2&per_page=2>; rel="next""#) == true)

            let user = try await api.createUser("u4")
            try await api.get("/api/v1/users", as: user).expectError(.forbidden, code: "forbidden")
            try await api.get("/api/v1/users").expectError(.unauthorized, code: "unauthenticated")
        }
    }

    @Test func createsListsAndRevokesTokens() async throws {
        try await withServer { api in
            let alice = try await api.createUser("alice")
            let created = try await api.post(
                "/api/v1/users/me/tokens",
                as: alice,
                json: #"{"name": "ci", "expires_in_days": 30}"#
            )
            #expect(created.status == .created, "\(created)")
            let secret = try #require(created.json["secret"]?.string)
            let id = try #require(created.json["id"]?.string)
            #expect(created.json["expires_at"]?.string != nil)
            #expect(secret.contains(id))

            let list = try await api.get("/api/v1/users/me/tokens", as: alice)
            #expect(list.status == .ok)
            let tokens = try #require(list.json.array)
            #expect(tokens.count == 2)
            for token in tokens {
                #expect(!token.keys.contains("secret"), "lists never show secrets: \(token)")
                #expect(token.keys == ["id", "name", "created_at", "expires_at", "revoked_at"])
            }
            #expect(!list.text.contains(secret))

            #expect(try await api.get("/api/v1/users/me", as: .bearer(secret)).status == .ok)
            let revoked = try await api.delete("/api/v1/users/me/tokens/\(id)", as: alice)
            #expect(revoked.status == .noContent)
            try await api.get("/api/v1/users/me", as: .bearer(secret))
                .expectError(.unauthorized, code: "unauthenticated", detailContains: "revoked")
            try await api.delete("/api/v1/users/me/tokens/nosuchtoken0", as: alice)
                .expectError(.notFound, code: "not_found")
            let bob = try await api.createUser("bob")
            let alices = try await api.post("/api/v1/users/me/tokens", as: alice, json: #"{"name": "x"}"#)
            let alicesID = try #require(alices.json["id"]?.string)
            try await api.delete("/api/v1/users/me/tokens/\(alicesID)", as: bob)
                .expectError(.notFound, code: "not_found")

            try await api.post("/api/v1/users/me/tokens", as: alice, json: #"{"name": ""}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")
            try await api.post("/api/v1/users/me/tokens", as: alice, json: #"{"name": "x", "expires_in_days": 0}"#)
                .expectError(.badRequest, code: "invalid_input", field: "expires_in_days")
        }
    }
}

@Suite struct OrganizationRouteTests {
    @Test func createsAndReadsOrganizations() async throws {
        try await withServer { api in
            let olivia = try await api.createUser("olivia")
            let created = try await api.post(
                "/api/v1/orgs",
                as: olivia,
                json: #"{"name": "acme", "display_name": "Acme Inc."}"#
            )
            #expect(created.status == .created, "\(created)")
            #expect(created.json.keys == ["id", "name", "display_name", "created_at"])
            #expect(created.json["display_name"]?.string == "Acme Inc.")
            try await api.post("/api/v1/orgs", as: olivia, json: #"{"name": "olivia"}"#)
                .expectError(.conflict, code: "conflict", field: "name")
            try await api.post("/api/v1/orgs", as: olivia, json: #"{"name": "-acme"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "name")

            let one = try await api.get("/api/v1/orgs/acme", as: olivia)
            #expect(one.status == .ok)
            #expect(one.json["name"]?.string == "acme")
            let list = try await api.get("/api/v1/orgs", as: olivia)
            #expect(list.json.array?.compactMap { $0["name"]?.string } == ["acme"])

            let stranger = try await api.createUser("stranger")
            #expect(try await api.get("/api/v1/orgs", as: stranger).json.array?.isEmpty == true)
            try await api.get("/api/v1/orgs/acme", as: stranger).expectError(.notFound, code: "not_found")
            try await api.get("/api/v1/orgs/nosuch", as: olivia).expectError(.notFound, code: "not_found")
            #expect(try await api.get("/api/v1/orgs", as: api.admin).json.array?.count == 1)
        }
    }

    @Test func managesMembers() async throws {
        try await withServer { api in
            let olivia = try await api.createUser("olivia")
            let mark = try await api.createUser("mark")
            try await api.createOrganization("acme", as: olivia)

            let added = try await api.put(
                "/api/v1/orgs/acme/members/mark",
                as: olivia,
                json: #"{"role": "maintainer"}"#
            )
            #expect(added.status == .ok, "\(added)")
            #expect(added.json == .object(["username": .string("mark"), "role": .string("maintainer")]))
            let members = try await api.get("/api/v1/orgs/acme/members", as: mark)
            #expect(members.status == .ok)
            let roles = Dictionary(
                uniqueKeysWithValues: (members.json.array ?? []).map {
                    ($0["username"]?.string ?? "", $0["role"]?.string ?? "")
                }
            )
            #expect(roles == ["olivia": "owner", "mark": "maintainer"])

            try await api.put("/api/v1/orgs/acme/members/olivia", as: mark, json: #"{"role": "viewer"}"#)
                .expectError(.forbidden, code: "forbidden")
            try await api.put("/api/v1/orgs/acme/members/nobody", as: olivia, json: #"{"role": "viewer"}"#)
                .expectError(.notFound, code: "not_found")
            try await api.put("/api/v1/orgs/acme/members/mark", as: olivia, json: #"{"role": "boss"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "role")
            try await api.put("/api/v1/orgs/acme/members/olivia", as: olivia, json: #"{"role": "viewer"}"#)
                .expectError(.conflict, code: "conflict")

            try await api.delete("/api/v1/orgs/acme/members/olivia", as: olivia)
                .expectError(.conflict, code: "conflict")
            #expect(try await api.delete("/api/v1/orgs/acme/members/mark", as: olivia).status == .noContent)
            try await api.delete("/api/v1/orgs/acme/members/mark", as: olivia).expectError(.notFound, code: "not_found")
            try await api.get("/api/v1/orgs/acme/members", as: mark).expectError(.notFound, code: "not_found")
        }
    }
}
