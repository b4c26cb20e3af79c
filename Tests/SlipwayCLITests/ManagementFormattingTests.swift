import Foundation
import NIOCore
import Testing

@testable import SlipwayCLI
@testable import SlipwayInference

/// The human forms, the pretty JSON, the request URLs and the multipart body.
@Suite struct ManagementFormattingTests {
    @Test func alignsTablesAndBlocks() {
        let table = TextLayout.table(
            ["VERSION", "STATUS", "SUMMARY"],
            [["1", "verified", "first"], ["12", "failed: bad", "two\nlines"]]
        )
        #expect(
            table == """
                VERSION  STATUS       SUMMARY
                1        verified     first
                12       failed: bad  two lines
                """
        )
        #expect(
            TextLayout.block([("model", "acme/churn"), ("visibility", "private")])
                == "model:       acme/churn\nvisibility:  private"
        )
    }

    @Test func formatsTimesAndSizes() {
        #expect(TextLayout.time("2026-11-28T04:31:07.123456Z") == "2026-11-28 04:31:07")
        #expect(TextLayout.time(nil) == "-")
        #expect(TextLayout.bytes(512) == "512 B")
        #expect(TextLayout.bytes(72_505) == "70.8 KiB")
        #expect(TextLayout.bytes(3 << 30) == "3.0 GiB")
    }

    @Test func prettyPrintsJSONKeepingMemberOrder() throws {
        let value = try JSONValue.parse(#"{"b":1,"a":[true,null,{"x":"y"}],"e":{},"f":[]}"#)
        #expect(
            value.prettyPrinted() == """
                {
                  "b": 1,
                  "a": [
                    true,
                    null,
                    {
                      "x": "y"
                    }
                  ],
                  "e": {},
                  "f": []
                }
                """
        )
        #expect(try JSONValue.parse(value.prettyPrinted()) == value)
    }

    @Test func describesDeploymentsAndActivity() throws {
        let deployments = try JSONValue.parse(
            #"""
            [{"environment":"production","version":2,"status":{"state":"failed","reason":"sample 1 failed"},
              "is_active":false,"summary":"more trees","created_at":"2026-11-28T04:31:07.123456Z"},
             {"environment":"production","version":1,"status":{"state":"verified","reason":null},
              "is_active":true,"summary":"first","created_at":"2026-11-27T04:31:07Z"}]
            """#
        )
        #expect(
            HumanFormat.deployments(deployments, showEnvironment: false) == """
                VERSION  STATUS                   ACTIVE  SUMMARY     CREATED
                2        failed: sample 1 failed  no      more trees  2026-11-28 04:31:07
                1        verified                 yes     first       2026-11-27 04:31:07
                """
        )
        let events = try JSONValue.parse(
            #"[{"at":"2026-11-28T04:31:07Z","actor":{"kind":"deploy_key","id":"k","name":"ci"},"#
                + #""action":"deployment.activated","environment":"production","from_version":1,"to_version":2,"#
                + #""detail":""}]"#
        )
        #expect(HumanFormat.activity(events).hasSuffix("deploy key ci  deployment.activated  production   1 → 2     -"))
    }

    @Test func buildsPercentEncodedURLs() throws {
        let server = try ManagementOptions.serverURL("http://127.0.0.1:8080/")
        #expect(
            ManagementSession.url(
                server: server,
                ["models", "acme", "churn", "environments", "production", "live"],
                query: [
                    ("at", "2026-11-28T06:31:07+02:00"), ("skipped", nil),
                ]
            )
                == "http://127.0.0.1:8080/api/v1/models/acme/churn/environments/production/live?at=2026-11-28T06%3A31%3A07%2B02%3A00"
        )
    }

    @Test func writesMultipartFieldsBeforeTheStreamedFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "slipway-cli-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("model.onnx")
        let content = (0..<(MultipartUpload.chunkSize * 2 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try Data(content).write(to: file)
        let upload = try MultipartUpload(
            fields: [("summary", "s"), ("samples", "[1]")],
            fileField: "model",
            filePath: file.path,
            boundary: "B"
        )
        let progress = UploadProgress(label: "model.onnx", total: upload.fileSize) { _ in }
        var body: [UInt8] = []
        for try await chunk in upload.body(progress: progress) { body += Array(chunk.readableBytesView) }
        #expect(body.count == upload.length)
        let head = Array(
            ("--B\r\nContent-Disposition: form-data; name=\"summary\"\r\n\r\ns\r\n"
                + "--B\r\nContent-Disposition: form-data; name=\"samples\"\r\n\r\n[1]\r\n"
                + "--B\r\nContent-Disposition: form-data; name=\"model\"; filename=\"model.onnx\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n").utf8
        )
        #expect(Array(body.prefix(head.count)) == head)
        #expect(Array(body[head.count..<(head.count + content.count)]) == content)
        #expect(Array(body.suffix(8)) == Array("\r\n--B--\r\n".utf8.suffix(8)))
    }

    @Test func drawsAProgressLine() {
        #expect(
            UploadProgress.line(label: "m.onnx", sent: 512 << 10, total: 1 << 20, width: 10)
                == "m.onnx  [#####-----]  512.0 KiB / 1.0 MiB   50%"
        )
    }

    @Test func checksJSONFilesLocally() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json").path
        try Data("{oops".utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect {
            try DeployCommand.jsonFile(path, option: "--samples")
        } throws: { error in
            "\(error)".contains("--samples file \(path) is not valid JSON")
        }
    }
}
