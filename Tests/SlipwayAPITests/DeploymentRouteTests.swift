import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayRegistry
import Testing

@Suite struct DeploymentRouteTests {
    static let deploymentKeys: Set<String> = [
        "id", "uuid", "model", "environment", "version", "status", "is_active", "format", "summary", "description",
        "artifact", "schema", "samples", "classes", "context", "params", "activate_on_verify", "verification",
        "promoted_from_id", "reference_rows",
        "created_by", "created_at",
    ]
    static let base = "/api/v1/models/admin/iris"

    @Test func deploysAPendingVersionWithItsMetadata() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(
                "\(Self.base)/environments/production/deployments",
                as: api.admin,
                .deploy(fields: [
                    "summary": "first forest", "description": "trained on iris",
                    "schema": #"{"features": {"sepal_length": {"type": "float", "min": 0}}}"#,
                    "classes": #"["setosa", "versicolor", "virginica"]"#, "context": #"{"run": 7}"#,
                    "activate": "true",
                ])
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.headers[.location] == "\(Self.base)/environments/production/deployments/1")
            let deployment = reply.json
            #expect(deployment.keys == Self.deploymentKeys)
            #expect(deployment["version"]?.int == 1)
            #expect(deployment["uuid"] == deployment["id"])
            #expect(deployment["model"]?.string == "admin/iris")
            #expect(deployment["status"]?["state"]?.string == "pending")
            #expect(deployment["is_active"]?.bool == false)
            #expect(deployment["activate_on_verify"]?.bool == true)
            #expect(deployment["format"]?.string == "onnx")
            #expect(deployment["summary"]?.string == "first forest")
            #expect(deployment["artifact"]?["size"]?.int == fixtureModel.count)
            #expect(deployment["artifact"]?["sha256"]?.string?.count == 64)
            #expect(deployment["schema"]?["features"]?["sepal_length"]?["type"]?.string == "float")
            #expect(deployment["classes"]?[2]?.string == "virginica")
            #expect(deployment["context"]?["run"]?.int == 7)
            #expect(deployment["params"] == .null)
            #expect(deployment["reference_rows"] == .null)
            #expect(deployment["created_by"]?["kind"]?.string == "user")
        }
    }

    @Test func storesReferenceRowsAndAnswersTheirCount() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let schema =
                #"{"features": {"a": {"type": "float"}, "b": {"type": "float"}, "c": {"type": "float"}, "d": {"type": "float"}}, "ndarray": [["a", "b", "c", "d"]]}"#
            let deploy = "\(Self.base)/environments/staging/deployments"
            let reply = try await api.upload(
                deploy,
                as: api.admin,
                .deploy(fields: [
                    "summary": "with reference", "schema": schema,
                    "reference": #"[[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, null, 1.3], [7.7, 3.0, 6.1, 2.3]]"#,
                ])
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.json["reference_rows"]?.int == 3)
            #expect(reply.json["reference"] == nil, "the rows are not returned")
            let listed = try await api.get("\(Self.base)/deployments", as: api.admin)
            #expect(listed.json[0]?["reference_rows"]?.int == 3)

            try await api.verify("admin/iris", "staging", 1)
            let promoted = try await api.post(
                "\(Self.base)/environments/staging/deployments/1/promote",
                as: api.admin,
                json: #"{"to_environment": "production"}"#
            )
            #expect(promoted.json["reference_rows"]?.int == 3, "\(promoted)")

            let bad = try await api.upload(
                deploy,
                as: api.admin,
                .deploy(fields: ["summary": "bad", "schema": schema, "reference": #"[[1, 2, 3, 4], [1, 2, "x", 4]]"#])
            )
            bad.expectError(.badRequest, code: "invalid_input", field: "reference[1].c")
            let tooMany = "[" + Array(repeating: "[1, 2, 3, 4]", count: 10_001).joined(separator: ",") + "]"
            try await api.upload(deploy, as: api.admin, .deploy(fields: ["summary": "big", "reference": tooMany]))
                .expectError(.badRequest, code: "invalid_input", field: "reference", detailContains: "10000")
            let count = try await api.get("\(Self.base)/environments/staging/deployments", as: api.admin)
            #expect(count.json.array?.count == 1, "rejected deploys leave nothing behind")
        }
    }

    @Test func verifyingAnActivateOnVerifyDeploymentActivatesIt() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.deploy("admin/iris", "production", fields: ["summary": "s", "activate": "true"])
            let reply = try await api.post(
                "\(Self.base)/environments/production/deployments/1/status",
                as: api.admin,
                json: #"{"state": "verified"}"#
            )
            #expect(reply.status == .ok, "\(reply)")
            #expect(reply.json["status"]?["state"]?.string == "verified")
            #expect(reply.json["status"]?["verified_at"]?.string != nil)
            let environment = try await api.get("\(Self.base)/environments/production", as: api.admin)
            #expect(environment.json["active_version"]?.int == 1)
        }
    }

    @Test func recordsFailedVerificationsWithAReason() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.deploy("admin/iris", "production")
            let path = "\(Self.base)/environments/production/deployments/1/status"
            try await api.post(path, as: api.admin, json: #"{"state": "failed"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "reason")
            try await api.post(path, as: api.admin, json: #"{"state": "pending"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "state")
            let failed = try await api.post(path, as: api.admin, json: #"{"state": "failed", "reason": "NaN output"}"#)
            #expect(failed.status == .ok)
            #expect(failed.json["status"]?["reason"]?.string == "NaN output")
            try await api.post(path, as: api.admin, json: #"{"state": "verified"}"#)
                .expectError(.conflict, code: "conflict")
            try await api.post("\(Self.base)/environments/production/activate", as: api.admin, json: #"{"version": 1}"#)
                .expectError(.conflict, code: "not_verified", detailContains: "NaN output")
            try await api.post(
                "\(Self.base)/environments/production/deployments/9/status",
                as: api.admin,
                json: #"{"state": "verified"}"#
            )
            .expectError(.notFound, code: "not_found")
        }
    }

    @Test func listsDeploymentsWithFiltersAndPagination() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris", isPublic: true)
            for _ in 0..<3 { try await api.deploy("admin/iris", "production") }
            try await api.deployVerified("admin/iris", "staging")
            try await api.verify("admin/iris", "production", 2)

            let all = try await api.get("\(Self.base)/deployments?per_page=2")
            #expect(all.status == .ok)
            #expect(all.headers[HTTPField.Name("X-Total-Count")!] == "4")
            #expect(all.headers[HTTPField.Name("Link")!]?.contains(#"rel="next""#) == true)
            #expect(all.json.array?.count == 2)
            #expect(all.json[0]?.keys == Self.deploymentKeys)

            let production = try await api.get("\(Self.base)/deployments?environment=production")
            #expect(production.json.array?.count == 3)
            let verified = try await api.get("\(Self.base)/deployments?status=verified")
            #expect(verified.json.array?.count == 2)
            let second = try await api.get("\(Self.base)/deployments?environment=production&version=2")
            #expect(second.json.array?.compactMap { $0["version"]?.int } == [2])
            try await api.get("\(Self.base)/deployments?environment=nosuch").expectError(.notFound, code: "not_found")

            let environment = try await api.get("\(Self.base)/environments/production/deployments?status=pending")
            #expect(environment.status == .ok)
            #expect(environment.headers[HTTPField.Name("X-Total-Count")!] == "2")
            #expect(Set(environment.json.array?.compactMap { $0["version"]?.int } ?? []) == [1, 3])
            try await api.get("\(Self.base)/environments/nosuch/deployments").expectError(.notFound, code: "not_found")
        }
    }

    @Test func getsEditsAndDownloadsADeployment() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.deploy("admin/iris", "production")
            let path = "\(Self.base)/environments/production/deployments/1"
            let one = try await api.get(path, as: api.admin)
            #expect(one.status == .ok)
            #expect(one.json.keys == Self.deploymentKeys)
            try await api.get("\(Self.base)/environments/production/deployments/2", as: api.admin)
                .expectError(.notFound, code: "not_found")
            try await api.get("\(Self.base)/environments/production/deployments/zero", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "version")

            let edited = try await api.patch(path, as: api.admin, json: #"{"description": "better words"}"#)
            #expect(edited.status == .ok, "\(edited)")
            #expect(edited.json["description"]?.string == "better words")
            try await api.patch(path, as: api.admin, json: #"{"summary": "x"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "summary")

            let artifact = try await api.get("\(path)/artifact", as: api.admin)
            #expect(artifact.status == .ok)
            #expect(artifact.body == fixtureModel)
            #expect(artifact.headers[.contentType] == "application/octet-stream")
            let digest = try #require(one.json["artifact"]?["sha256"]?.string)
            #expect(artifact.headers[.eTag] == "\"\(digest)\"")
        }
    }

    @Test func activatesAndRollsBackOnlyVerifiedVersions() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.deployVerified("admin/iris", "production")
            try await api.deployVerified("admin/iris", "production")
            try await api.deploy("admin/iris", "production")
            let activate = "\(Self.base)/environments/production/activate"
            let first = try await api.post(activate, as: api.admin, json: #"{"version": 1}"#)
            #expect(first.status == .ok, "\(first)")
            #expect(first.json["previous_version"] == .null)
            #expect(first.json["environment"]?.string == "production")
            #expect(first.json["active"]?["version"]?.int == 1)
            #expect(first.json["active"]?["is_active"]?.bool == true)
            let second = try await api.post(activate, as: api.admin, json: #"{"version": 2}"#)
            #expect(second.json["previous_version"]?.int == 1)

            try await api.post(activate, as: api.admin, json: #"{"version": 3}"#)
                .expectError(.conflict, code: "not_verified")
            try await api.post(activate, as: api.admin, json: #"{"version": 7}"#).expectError(
                .notFound,
                code: "not_found"
            )
            let environment = try await api.get("\(Self.base)/environments/production", as: api.admin)
            #expect(environment.json["active_version"]?.int == 2, "a failed activation leaves the previous one active")

            let rollback = try await api.post(
                "\(Self.base)/environments/production/rollback",
                as: api.admin,
                json: #"{"version": 1}"#
            )
            #expect(rollback.status == .ok)
            #expect(rollback.json["previous_version"]?.int == 2)
            #expect(rollback.json["active"]?["version"]?.int == 1)
            let model = try await api.get(Self.base, as: api.admin)
            #expect(model.json["active_deployments"]?["production"]?["version"]?.int == 1)
            let activity = try await api.get("\(Self.base)/activity?action=deployment.rolled_back", as: api.admin)
            #expect(activity.json.array?.count == 1)
            #expect(activity.json[0]?["from_version"]?.int == 2)
            #expect(activity.json[0]?["to_version"]?.int == 1)
        }
    }

    @Test func promotesIntoAnotherEnvironment() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            try await api.deployVerified("admin/iris", "staging")
            let path = "\(Self.base)/environments/staging/deployments/1/promote"
            let reply = try await api.post(
                path,
                as: api.admin,
                json: #"{"to_environment": "production", "summary": "ship it"}"#
            )
            #expect(reply.status == .created, "\(reply)")
            #expect(reply.json["environment"]?.string == "production")
            #expect(reply.json["version"]?.int == 1)
            #expect(reply.json["summary"]?.string == "ship it")
            #expect(reply.json["status"]?["state"]?.string == "verified")
            let source = try await api.get("\(Self.base)/environments/staging/deployments/1", as: api.admin)
            #expect(reply.json["promoted_from_id"] == source.json["id"])
            #expect(reply.json["artifact"] == source.json["artifact"])
            #expect(api.server.objectFiles().count == 1)

            try await api.post(path, as: api.admin, json: #"{"to_environment": "staging"}"#)
                .expectError(.badRequest, code: "invalid_input", field: "to_environment")
            try await api.post(path, as: api.admin, json: #"{"to_environment": "nosuch"}"#)
                .expectError(.notFound, code: "not_found")
            try await api.post(path, as: api.admin, json: "{}")
                .expectError(.badRequest, code: "invalid_input", field: "to_environment")
        }
    }
}

@Suite struct ActivityRouteTests {
    @Test func recordsWhoDidWhatNewestFirst() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            let key = try await api.createKey("deploy", in: "admin/iris", environments: ["staging"], name: "ci")
            try await api.deploy("admin/iris", "staging", as: .bearer(key.secret))
            try await api.verify("admin/iris", "staging", 1)
            try await api.activate("admin/iris", "staging", 1)

            let reply = try await api.get("/api/v1/models/admin/iris/activity", as: api.admin)
            #expect(reply.status == .ok)
            #expect(reply.headers[HTTPField.Name("X-Total-Count")!] == "5")
            let events = try #require(reply.json.array)
            #expect(
                events.compactMap { $0["action"]?.string } == [
                    "deployment.activated", "deployment.verified", "deployment.created", "key.created", "model.created",
                ]
            )
            #expect(
                events[0].keys == [
                    "id", "at", "actor", "action", "environment", "from_version", "to_version", "detail",
                ]
            )
            #expect(
                events[2]["actor"]
                    == .object(["kind": .string("deploy_key"), "id": .string(key.id), "name": .string("ci")])
            )
            #expect(events[0]["to_version"]?.int == 1)
            #expect(events[0]["from_version"] == .null)

            let filtered = try await api.get(
                "/api/v1/models/admin/iris/activity?action=deployment.created&action=model.created",
                as: api.admin
            )
            #expect(filtered.json.array?.count == 2)
            let staging = try await api.get("/api/v1/models/admin/iris/activity?environment=staging", as: api.admin)
            #expect(staging.json.array?.count == 3)
            let future = try await api.get(
                "/api/v1/models/admin/iris/activity?since=2999-01-01T00:00:00Z",
                as: api.admin
            )
            #expect(future.json.array?.isEmpty == true)
            let past = try await api.get("/api/v1/models/admin/iris/activity?until=2000-01-01T00:00:00Z", as: api.admin)
            #expect(past.json.array?.isEmpty == true)
            try await api.get("/api/v1/models/admin/iris/activity?action=model.exploded", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "action")
            try await api.get("/api/v1/models/admin/iris/activity?since=yesterday", as: api.admin)
                .expectError(.badRequest, code: "invalid_input", field: "since")
        }
    }

    /// Activations at known times, then "which version was live at T" for times before, between and after them.
    @Test func answersWhichVersionWasLiveAtATime() async throws {
        try await withServer { api in
            try await api.createModel("admin/iris")
            for _ in 0..<3 { try await api.deployVerified("admin/iris", "production") }
            let live = "/api/v1/models/admin/iris/environments/production/live"
            var marks: [String] = []
            func mark() async throws {
                try await Task.sleep(for: .milliseconds(15))
                marks.append(ISO8601DateFormatter.fractional.string(from: Date()))
                try await Task.sleep(for: .milliseconds(15))
            }
            try await mark()  // before any activation
            try await api.activate("admin/iris", "production", 1)
            try await mark()
            try await api.activate("admin/iris", "production", 3)
            try await mark()
            let rollback = try await api.post(
                "/api/v1/models/admin/iris/environments/production/rollback",
                as: api.admin,
                json: #"{"version": 2}"#
            )
            #expect(rollback.status == .ok)
            try await mark()

            let before = try await api.get("\(live)?at=\(marks[0])", as: api.admin)
            #expect(before.status == .ok, "\(before)")
            #expect(before.json.keys == ["environment", "at", "version", "deployment"])
            #expect(before.json["version"] == .null)
            #expect(before.json["deployment"] == .null)
            for (index, expected) in [(1, 1), (2, 3), (3, 2)] {
                let reply = try await api.get("\(live)?at=\(marks[index])", as: api.admin)
                #expect(reply.json["version"]?.int == expected, "at \(marks[index]): \(reply)")
                #expect(reply.json["deployment"]?["version"]?.int == expected)
            }
            let now = try await api.get(live, as: api.admin)
            #expect(now.json["version"]?.int == 2)
            #expect(now.json["deployment"]?["is_active"]?.bool == true)
            let offset = try await api.get("\(live)?at=2000-01-01T02:00:00%2B02:00", as: api.admin)
            #expect(offset.json["at"]?.string == "2000-01-01T00:00:00.000000Z", "\(offset)")
            try await api.get("\(live)?at=notatime", as: api.admin).expectError(
                .badRequest,
                code: "invalid_input",
                field: "at"
            )
            try await api.get("/api/v1/models/admin/iris/environments/nosuch/live", as: api.admin)
                .expectError(.notFound, code: "not_found")
        }
    }
}
