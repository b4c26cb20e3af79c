import Foundation
import HTTPTypes
import HummingbirdTesting
import SlipwayRegistry
import Testing

/// Deploy uploads over real HTTP: edge cases, and that nothing is left half-written.
@Suite struct UploadTests {
    static let deployments = "/api/v1/models/admin/iris/environments/production/deployments"

    /// Expects no deployment rows, no artifact object and no temporary upload file.
    static func expectNothingLeft(_ api: TestAPI, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let list = try await api.get("/api/v1/models/admin/iris/deployments", as: api.admin)
        #expect(list.json.array?.isEmpty == true, "no deployment row: \(list)", sourceLocation: sourceLocation)
        #expect(
            api.server.objectFiles().isEmpty,
            "no artifact: \(api.server.objectFiles())",
            sourceLocation: sourceLocation
        )
        #expect(api.server.temporaryFiles().isEmpty, "no temporary file", sourceLocation: sourceLocation)
    }

    @Test func refusesAnEmptyModelFile() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy(file: Data()))
            reply.expectError(.badRequest, code: "invalid_input", field: "model", detailContains: "empty")
            try await Self.expectNothingLeft(api)
        }
    }

    @Test func refusesAnUploadWithoutAModelPart() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy(file: nil))
            reply.expectError(.badRequest, code: "invalid_input", field: "model")
            try await Self.expectNothingLeft(api)
        }
    }

    @Test func refusesTwoModelParts() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            var multipart = Multipart.deploy()
            multipart.file("model", filename: "again.onnx", fixtureModel)
            let reply = try await api.upload(Self.deployments, as: api.admin, multipart)
            reply.expectError(.badRequest, code: "invalid_input", field: "model")
            try await Self.expectNothingLeft(api)
        }
    }

    @Test func refusesAnUnknownPart() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(
                Self.deployments,
                as: api.admin,
                .deploy(fields: ["summary": "s", "colour": "red"])
            )
            reply.expectError(.badRequest, code: "invalid_input", field: "colour")
            try await Self.expectNothingLeft(api)
        }
    }

    @Test func refusesAnArtifactOverTheLimit() async throws {
        try await withServer(.live, maximumArtifactBytes: 10_000) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy())
            reply.expectError(.contentTooLarge, code: "payload_too_large")
            try await Self.expectNothingLeft(api)
            let small = try await api.upload(Self.deployments, as: api.admin, .deploy(file: fixtureModel.prefix(9_000)))
            #expect(small.status == .created, "a file under the limit is accepted: \(small)")
        }
    }

    @Test func refusesAnInterruptedUpload() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy(), closed: false)
            reply.expectError(.badRequest, code: "invalid_input")
            try await Self.expectNothingLeft(api)
            var cut = Multipart.deploy().encoded()
            cut.removeLast(fixtureModel.count / 2)
            let truncated = try await api.request(
                .post,
                Self.deployments,
                as: api.admin,
                body: cut,
                headers: [.contentType: Multipart().contentType]
            )
            #expect((400..<500).contains(truncated.status.code), "\(truncated)")
            try await Self.expectNothingLeft(api)
        }
    }

    @Test func storesIdenticalBytesOnce() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let first = try await api.upload(Self.deployments, as: api.admin, .deploy())
            let second = try await api.upload(
                "/api/v1/models/admin/iris/environments/staging/deployments",
                as: api.admin,
                .deploy()
            )
            #expect(first.status == .created && second.status == .created, "\(first) \(second)")
            let digest = try #require(first.json["artifact"]?["sha256"]?.string)
            #expect(second.json["artifact"]?["sha256"]?.string == digest)
            let objects = api.server.objectFiles()
            #expect(objects.count == 1)
            #expect(objects.first?.hasSuffix(String(digest.dropFirst(2))) == true)
            #expect(api.server.temporaryFiles().isEmpty)
            let artifact = try await api.get("\(Self.deployments)/1/artifact", as: api.admin)
            #expect(artifact.body == fixtureModel)
        }
    }

    struct BadMetadata: Sendable, CustomTestStringConvertible {
        var fields: [String: String]
        var field: String
        var testDescription: String { self.field }
    }

    static let badMetadata: [BadMetadata] = [
        BadMetadata(fields: ["description": "no summary"], field: "summary"),
        BadMetadata(fields: ["summary": "two\nlines"], field: "summary"),
        BadMetadata(fields: ["summary": "s", "schema": "{not json"], field: "schema"),
        BadMetadata(fields: ["summary": "s", "schema": #"{"colour": 1}"#], field: "schema.colour"),
        BadMetadata(fields: ["summary": "s", "context": "[1, 2]"], field: "context"),
        BadMetadata(fields: ["summary": "s", "format": "pickle"], field: "format"),
        BadMetadata(fields: ["summary": "s", "activate": "maybe"], field: "activate"),
    ]

    @Test(arguments: badMetadata)
    func aFailedDeployLeavesNoRowAndNoArtifact(_ bad: BadMetadata) async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy(fields: bad.fields))
            reply.expectError(.badRequest, code: "invalid_input", field: bad.field)
            try await Self.expectNothingLeft(api)
            let activity = try await api.get(
                "/api/v1/models/admin/iris/activity?action=deployment.created",
                as: api.admin
            )
            #expect(activity.json.array?.isEmpty == true)
        }
    }

    @Test func aFailedDeployKeepsAnArtifactOtherDeploymentsUse() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            try await api.deploy("admin/iris", "production")
            let reply = try await api.upload(Self.deployments, as: api.admin, .deploy(fields: ["summary": ""]))
            reply.expectError(.badRequest, code: "invalid_input", field: "summary")
            #expect(api.server.objectFiles().count == 1)
            let artifact = try await api.get("\(Self.deployments)/1/artifact", as: api.admin)
            #expect(artifact.status == .ok)
        }
    }

    @Test func refusesADeployBeforeReadingTheUploadWhenNotAllowed() async throws {
        try await withServer(.live) { api in
            try await api.createModel("admin/iris")
            let key = try await api.createKey("deploy", in: "admin/iris", environments: ["staging"])
            let reply = try await api.upload(
                Self.deployments,
                as: .authorization("Deploy-Key \(key.secret)"),
                .deploy()
            )
            reply.expectError(.forbidden, code: "forbidden")
            try await Self.expectNothingLeft(api)
            let staging = try await api.upload(
                "/api/v1/models/admin/iris/environments/staging/deployments",
                as: .authorization("Deploy-Key \(key.secret)"),
                .deploy()
            )
            #expect(staging.status == .created, "TeachableHub's Deploy-Key header works: \(staging)")
            #expect(staging.json["created_by"]?["kind"]?.string == "deploy_key")
        }
    }

    /// Twenty deploys at once into one environment get versions 1…20, no gaps and no duplicates.
    @Test func numbersConcurrentDeploysWithoutGapsOrDuplicates() async throws {
        try await withServer(.ahc(.http)) { api in
            try await api.createModel("admin/iris")
            let versions = try await withThrowingTaskGroup(of: Int?.self) { group in
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await api.upload(
                            Self.deployments,
                            as: api.admin,
                            .deploy(fields: ["summary": "concurrent \(index)"])
                        )
                        #expect(reply.status == .created, "\(reply)")
                        return reply.json["version"]?.int
                    }
                }
                var versions: [Int] = []
                for try await version in group { if let version { versions.append(version) } }
                return versions
            }
            #expect(versions.sorted() == Array(1...20))
            let list = try await api.get("\(Self.deployments)?per_page=50", as: api.admin)
            #expect(list.headers[HTTPField.Name("X-Total-Count")!] == "20")
            #expect(api.server.objectFiles().count == 1)
            #expect(api.server.temporaryFiles().isEmpty)
        }
    }
}
