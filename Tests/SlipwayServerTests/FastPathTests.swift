import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SlipwayRuntime
import SlipwayServer
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

// The HTTP fast path (`FastPath.swift`): a real server on loopback answers `GET /healthz` and warm, cheap predictions
// on its network thread. Every answer must be the one the router gives: the same requests go to a server with the
// fast path and to one without, and status, body (but the request id) and header names must match. Requests the
// fast path must not take still work, and answers on one connection keep the order of its requests.
@Suite(.serialized, .timeLimit(.minutes(3))) struct FastPathTests {
    /// What one request got, with what may differ between two servers taken out.
    struct Seen: Equatable, CustomStringConvertible {
        var status: Int
        var body: String
        var headerNames: [String]

        var description: String { "\(self.status) \(self.body) \(self.headerNames)" }
    }

    /// A request of the comparison: path and query, headers, body.
    struct Sent: Sendable {
        var path: String
        var headers: [(String, String)] = []
        var body: String
        /// Bytes sent after `body` (the binary tensor extension's tensor data).
        var binary: [UInt8] = []
        /// Whether only the router answers it, even with the fast path on.
        var routerOnly = false
    }

    /// An Open Inference Protocol request with its input's data in binary (the extension): the JSON, then the bytes.
    static func binaryInfer(_ path: String, json: String, floats: [Float], routerOnly: Bool = false) -> Sent {
        Sent(
            path: path,
            headers: [("Inference-Header-Content-Length", String(json.utf8.count))],
            body: json,
            binary: floats.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } },
            routerOnly: routerOnly
        )
    }

    static func send(
        _ http: HTTPClient,
        _ url: String,
        method: HTTPMethod = .POST,
        headers: [(String, String)],
        body: String?,
        binary: [UInt8] = []
    ) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: Array(body.utf8) + binary)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), response.headers, String(buffer: bytes))
    }

    /// The fast path's request count, read from `/metrics`.
    static func fastCount(_ http: HTTPClient, _ base: String) async throws -> Int {
        let metrics = try await self.send(http, base + "/metrics", method: .GET, headers: [], body: nil)
        let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("slipway_http_fast_path_requests_total ") }
        return Int(try #require(line?.split(separator: " ").last.map(String.init)).prefix { $0.isNumber }) ?? -1
    }

    /// Creates `admin/iris` (the example, with schema and classes) and a serving key; returns the key.
    static func prepare(_ client: Client, _ base: String) async throws -> String {
        let created = try await client.send(.POST, "\(base)/api/v1/models", json: #"{"owner":"admin","name":"iris"}"#)
        try #require(created.status == 201, "\(created.body)")
        let version = try await client.deploy(
            base,
            "admin/iris",
            file: "examples/iris/model.onnx",
            fields: [
                "summary": "iris example", "schema": try ZeroDowntimeTests.example("schema.json"),
                "samples": try ZeroDowntimeTests.example("samples.json"),
                "classes": try ZeroDowntimeTests.example("classes.json"),
            ]
        )
        try await client.waitUntilVerified(base, "admin/iris", version)
        let activated = try await client.switchTo(base, "admin/iris", version, rollback: false)
        try #require(activated.status == 200, "\(activated.body)")
        let key = try await client.send(
            .POST,
            "\(base)/api/v1/models/admin/iris/keys",
            json: #"{"kind":"serving","name":"fast","environments":["production"]}"#
        )
        try #require(key.status == 201, "\(key.body)")
        return try #require(key.json["secret"]?.string)
    }

    static let requests: [Sent] = [
        Sent(path: "/v1/admin/iris/predict/", body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#),
        Sent(path: "/v1/admin/iris/predict", body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3], [5.1, 3.5, 1.4, 0.2]]}"#),
        Sent(path: "/v1//admin/iris/predict/", body: #"{"ndarray": [[5.9, 3.0, 4.2, 1.5]], "context": {"a": 1}}"#),
        Sent(
            path: "/v1/admin/iris/predict/",
            body: #"{"features": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}]}"#
        ),
        Sent(
            path: "/v1/admin/iris/predict/?order=asc&limit=2&threshold=0.0",
            body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#
        ),
        Sent(path: "/v1/admin/iris/predict/?version=1", body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#),
        Sent(
            path: "/v1/admin/iris/predict/",
            headers: [("X-Request-ID", "client-chosen.id:1")],
            body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#
        ),
        // Refusals: the schema (409 with every violation), JSON, shape, empty batch, query, unknown fields.
        Sent(
            path: "/v1/admin/iris/predict/",
            body: #"{"features": [{"sepal_length": 99, "sepal_width": "x", "petal_length": 1.4, "color": 1}]}"#
        ),
        Sent(path: "/v1/admin/iris/predict/", body: #"{"ndarray": [[6.9, 3.2"#),
        Sent(path: "/v1/admin/iris/predict/", body: #"{"ndarray": [[6.9, 3.2, 5.7]]}"#),
        Sent(path: "/v1/admin/iris/predict/", body: #"{"ndarray": []}"#),
        Sent(path: "/v1/admin/iris/predict/", body: #"{"ndarray": [["a", 3.2, 5.7, 2.3]]}"#),
        Sent(path: "/v1/admin/iris/predict/?limit=many", body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#),
        Sent(
            path: "/v1/admin/iris/predict/?environment=staging",
            body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#,
            routerOnly: true
        ),
        Sent(path: "/v1/admin/iris/predict/", body: #"{"rows": [[6.9, 3.2, 5.7, 2.3]]}"#),
        Sent(path: "/v1/admin/iris/predict/", body: #"[1, 2]"#),
        // The Open Inference Protocol: answers (requested outputs, a pinned version, an id, a binary output), then
        // refusals (shape, datatype, unknown input and output, JSON).
        Sent(
            path: "/v2/models/admin__iris/infer",
            body: #"{"id": "r-1", "inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "#
                + #""data": [6.9, 3.2, 5.7, 2.3, 5.1, 3.5, 1.4, 0.2]}]}"#
        ),
        Sent(
            path: "/v2/models/admin__iris/versions/1/infer/",
            body:
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [[5.9, 3.0, 4.2, 1.5]]}], "#
                + #""outputs": [{"name": "label"}]}"#
        ),
        Sent(
            path: "/v2//models/admin__iris__production/infer",
            body:
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [5.9, 3.0, 4.2, 1.5]}], "#
                + #""outputs": [{"name": "label", "parameters": {"binary_data": true}}]}"#
        ),
        Sent(
            path: "/v2/models/admin__iris/infer",
            body: #"{"inputs": [{"name": "X", "shape": [1, 3], "datatype": "FP32", "data": [5.9, 3.0, 4.2]}]}"#
        ),
        Sent(
            path: "/v2/models/admin__iris/infer",
            body: #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "INT64", "data": [5, 3, 4, 1]}]}"#
        ),
        Sent(
            path: "/v2/models/admin__iris/infer",
            body: #"{"inputs": [{"name": "nope", "shape": [1, 4], "datatype": "FP32", "data": [5.9, 3.0, 4.2, 1.5]}]}"#
        ),
        Sent(
            path: "/v2/models/admin__iris/infer",
            body:
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [5.9, 3.0, 4.2, 1.5]}], "#
                + #""outputs": [{"name": "nothing"}]}"#
        ),
        Sent(path: "/v2/models/admin__iris/infer", body: #"{"inputs": [{"name": "X""#, routerOnly: true),
        // The binary tensor extension: an input's data as bytes, with a JSON output and then a binary one; then
        // bytes that do not match the input's shape, and a malformed header length (refused by the router).
        Self.binaryInfer(
            "/v2/models/admin__iris/infer",
            json:
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 16}}]}"#,
            floats: [6.9, 3.2, 5.7, 2.3]
        ),
        Self.binaryInfer(
            "/v2/models/admin__iris/infer",
            json:
                #"{"inputs": [{"name": "X", "shape": [2, 4], "datatype": "FP32", "parameters": {"binary_data_size": 32}}], "#
                + #""outputs": [{"name": "probabilities", "parameters": {"binary_data": true}}]}"#,
            floats: [6.9, 3.2, 5.7, 2.3, 5.1, 3.5, 1.4, 0.2]
        ),
        Self.binaryInfer(
            "/v2/models/admin__iris/infer",
            json:
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "parameters": {"binary_data_size": 12}}]}"#,
            floats: [6.9, 3.2, 5.7],
            routerOnly: true
        ),
        Sent(
            path: "/v2/models/admin__iris/infer",
            headers: [("Inference-Header-Content-Length", "-3")],
            body: #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [5.9, 3.0, 4.2, 1.5]}]}"#,
            routerOnly: true
        ),
        // Header names in any case; a field sent twice is read as its values joined ("dup.a, dup.b" is not a
        // well-formed request id, so the server chooses one).
        Sent(
            path: "/v1/admin/iris/predict/",
            headers: [("x-REQUEST-id", "client-chosen.id:2")],
            body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#
        ),
        Sent(
            path: "/v1/admin/iris/predict/",
            headers: [("X-Request-ID", "dup.a"), ("x-request-id", "dup.b")],
            body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#
        ),
    ]

    /// How many of ``requests`` the router must answer even with the fast path on: the unknown environment (looked
    /// up by the router), the malformed `/v2` body (decoded only by the router, after the rate limit), the binary
    /// data that does not match its input and the malformed header length (both refused by the router alone).
    static var routerOnly: Int { Self.requests.filter(\.routerOnly).count }

    /// Runs one server with `admin/iris` prepared and warmed by 20 predictions (the fast path takes a model once 16
    /// of its calls are measured); calls `body` with the HTTP client, the management client, the base URL and the
    /// serving key, then shuts the client down.
    static func withWarmServer(
        fastPath: Bool = true,
        _ body: @escaping @Sendable (HTTPClient, Client, String, String) async throws -> Void
    ) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-fast-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        try await ServerCluster.run(count: 1, dataDirectory: data.path) { configuration in
            configuration.fastPath = fastPath
            // Debug builds run the forest slower than release ones; the threshold keeps it "cheap" in tests.
            configuration.runtime.inlineThreshold = .seconds(1)
        } _: { nodes in
            let http = ZeroDowntimeTests.makeClient()
            let client = Client(http: http)
            let base = nodes[0].base
            do {
                let key = try await self.prepare(client, base)
                for _ in 0..<20 {
                    let warm = try await self.send(
                        http,
                        base + "/v1/admin/iris/predict/",
                        headers: [("X-Serving-Key", key), ("Content-Type", "application/json")],
                        body: #"{"ndarray": [[5.1, 3.5, 1.4, 0.2]]}"#
                    )
                    try #require(warm.status == 200, "\(warm.body)")
                }
                try await body(http, client, base, key)
            } catch {
                try? await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    /// Runs one server (fast path on or off) and returns what each of ``requests`` got, after warming the model so
    /// that its calls are measured (the fast path takes a model after 16 calls).
    static func answers(fastPath: Bool) async throws -> (seen: [Seen], fastAnswered: Int) {
        let result = Mutex<([Seen], Int)>(([], 0))
        try await self.withWarmServer(fastPath: fastPath) { http, _, base, key in
            let keyHeader = [("X-Serving-Key", key), ("Content-Type", "application/json")]
            var seen: [Seen] = []
            var fastAnswered = 0
            for sent in self.requests {
                // A credential's decision stays cached for a second: on a loaded machine it may lapse between
                // requests, and the router answers instead. Such a request is sent again (it changes nothing).
                var attempts = 0
                while true {
                    attempts += 1
                    let before = try await self.fastCount(http, base)
                    let answer = try await self.send(
                        http,
                        base + sent.path,
                        headers: keyHeader + sent.headers,
                        body: sent.body,
                        binary: sent.binary
                    )
                    let wasFast = try await self.fastCount(http, base) > before
                    if fastPath && !wasFast && !sent.routerOnly && attempts < 5 { continue }
                    if wasFast { fastAnswered += 1 }
                    let requestID = try #require(answer.headers.first(name: "X-Request-ID"))
                    #expect(answer.headers.first(name: "Server") == "slipway")
                    #expect(answer.headers.first(name: "Date")?.hasSuffix(" GMT") == true)
                    let chosen = sent.headers.filter { $0.0.lowercased() == "x-request-id" }
                    if chosen.count == 1 {
                        #expect(requestID == chosen[0].1)
                    } else if !chosen.isEmpty {
                        #expect(!chosen.contains { $0.1 == requestID })
                    }
                    seen.append(
                        Seen(
                            status: answer.status,
                            body: answer.body.replacingOccurrences(of: requestID, with: "<id>"),
                            headerNames: answer.headers.map { $0.name.lowercased() }.sorted()
                        )
                    )
                    break
                }
            }
            result.withLock { $0 = (seen, fastAnswered) }
        }
        return result.withLock { $0 }
    }

    @Test func answersExactlyAsTheRouterDoes() async throws {
        let fast = try await Self.answers(fastPath: true)
        let routed = try await Self.answers(fastPath: false)
        #expect(fast.seen.count == Self.requests.count)
        for (index, (a, b)) in zip(fast.seen, routed.seen).enumerated() {
            #expect(a == b, "request \(index) (\(Self.requests[index].path) \(Self.requests[index].body))")
        }
        // All but the router's took the fast path on the first server, and none on the second.
        #expect(fast.fastAnswered == Self.requests.count - Self.routerOnly)
        #expect(routed.fastAnswered == 0)
        #expect(fast.seen[0].status == 200 && fast.seen[7].status == 409 && fast.seen[8].status == 400)
        #expect(fast.seen[7].body.contains(#""violations""#) && fast.seen[7].body.contains("color"))
        let v2 = fast.seen[16..<28]
        #expect(v2.map(\.status) == [200, 200, 200, 400, 400, 400, 400, 400, 200, 200, 400, 400], "\(Array(v2))")
        #expect(fast.seen[16].body.contains(#""id":"r-1""#) && fast.seen[16].body.contains(#""model_version":"1""#))
        #expect(fast.seen[18].headerNames.contains("inference-header-content-length"))
        // Binary input with a JSON answer, then with a binary output.
        #expect(
            fast.seen[24].body.contains(#""outputs""#)
                && !fast.seen[24].headerNames.contains("inference-header-content-length")
        )
        #expect(fast.seen[25].headerNames.contains("inference-header-content-length"))
        #expect(fast.seen[28].status == 200 && fast.seen[29].status == 200)
    }

    @Test func keepsAnswersInRequestOrderAndHandsOtherRequestsToTheRouter() async throws {
        try await Self.withWarmServer { http, client, base, key in
            let row = #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#
            let port = try #require(Int(base.split(separator: ":").last ?? ""))
            let predict =
                "POST /v1/admin/iris/predict/ HTTP/1.1\r\nHost: x\r\nX-Serving-Key: \(key)\r\n"
                + "Content-Type: application/json\r\nContent-Length: \(row.utf8.count)\r\n\r\n\(row)"
            let routed =
                "GET /api/v1/users/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(ServerCluster.adminToken)\r\n\r\n"
            let health = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
            // Pipelined on one connection: router, fast, fast, router, fast; the answers come back in that order.
            let answers = try Self.pipeline(port: port, [routed, predict, health, routed, predict], count: 5)
            try #require(answers.count == 5, "\(answers)")
            #expect(answers[0].contains(#""username":"admin""#))
            #expect(answers[1].contains(#""className":"virginica""#))
            #expect(answers[2].contains(#"{"status":"ok"}"#))
            #expect(answers[3].contains(#""username":"admin""#))
            #expect(answers[4].contains(#""className":"virginica""#))

            // A body over the fast path's 64 KiB goes through the router, which reads it all.
            let padding = String(repeating: "x", count: 70_000)
            let large = try await Self.send(
                http,
                base + "/v1/admin/iris/predict/",
                headers: [("X-Serving-Key", key)],
                body: #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]], "context": {"note": "\#(padding)"}}"#
            )
            #expect(large.status == 200, "\(large.body.prefix(300))")
            // `Connection: close` is honoured: the router answers and closes.
            let closing = try Self.pipeline(
                port: port,
                [predict.replacingOccurrences(of: "Host: x\r\n", with: "Host: x\r\nConnection: close\r\n")],
                count: 1
            )
            #expect(closing.count == 1 && closing[0].contains("virginica"))
            // So is HTTP/1.0 (the fast path takes HTTP/1.1 only).
            let beforeOld = try await Self.fastCount(http, base)
            let old = try Self.pipeline(
                port: port,
                [predict.replacingOccurrences(of: "HTTP/1.1", with: "HTTP/1.0")],
                count: 1
            )
            #expect(old.count == 1 && old[0].contains("virginica"), "\(old)")
            #expect(try await Self.fastCount(http, base) == beforeOld)
            // A key the server has not seen goes to the router (it reads the database), then is refused the
            // same way on the fast path once its decision is cached.
            var refusals: [String] = []
            for _ in 0..<2 {
                let refused = try await Self.send(
                    http,
                    base + "/v1/admin/iris/predict/",
                    headers: [("X-Serving-Key", "slw_s_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")],
                    body: row
                )
                #expect(refused.status == 401)
                refusals.append(refused.body)
            }
            #expect(refusals[0] == refusals[1])
            // A rate-limited key: every answer carries `RateLimit-*`, and a refusal is a 429 with `Retry-After`,
            // whichever path answers (the first request reads the key through the router, the rest need not).
            let limitedKey = try await client.send(
                .POST,
                "\(base)/api/v1/models/admin/iris/keys",
                json: #"{"kind":"serving","name":"limited","environments":["production"],"rate_limit":2}"#
            )
            try #require(limitedKey.status == 201, "\(limitedKey.body)")
            let limited = try #require(limitedKey.json["secret"]?.string)
            let before = try await Self.fastCount(http, base)
            let statuses = try await Self.sendLimited(
                http,
                base + "/v1/admin/iris/predict/",
                key: limited,
                body: row,
                times: 8
            ) { #expect($0.contains("rate_limited")) }
            #expect(statuses.first == 200 && statuses.contains(429), "\(statuses)")
            #expect(try await Self.fastCount(http, base) > before)
            // The same key on `/v2` (its bucket shared with the TeachableHub route): a 429 in the protocol's shape.
            let tensor =
                #"{"inputs": [{"name": "X", "shape": [1, 4], "datatype": "FP32", "data": [6.9, 3.2, 5.7, 2.3]}]}"#
            let v2 = try await Self.sendLimited(
                http,
                base + "/v2/models/admin__iris/infer",
                key: limited,
                body: tensor,
                times: 6
            ) { #expect($0.hasPrefix(#"{"error":"the serving key 'limited' allows 2 predictions"#)) }
            #expect(v2.contains(429) && v2.allSatisfy { $0 == 200 || $0 == 429 }, "\(v2)")
        }
    }

    /// Sends `body` to `url` `times` times with a serving key limited to 2 predictions a second; every answer must
    /// carry `RateLimit-Limit: 2`, and every 429 a `Retry-After` and a body `checkRefusal` accepts. Returns the
    /// statuses.
    static func sendLimited(
        _ http: HTTPClient,
        _ url: String,
        key: String,
        body: String,
        times: Int,
        checkRefusal: (String) -> Void
    ) async throws -> [Int] {
        var statuses: [Int] = []
        for _ in 0..<times {
            let answer = try await self.send(http, url, headers: [("X-Serving-Key", key)], body: body)
            statuses.append(answer.status)
            #expect(answer.headers.first(name: "RateLimit-Limit") == "2")
            if answer.status == 429 {
                #expect(answer.headers.first(name: "Retry-After") != nil)
                checkRefusal(answer.body)
            }
        }
        return statuses
    }

    /// Writes `requests` on one connection in one go and reads `count` answers (each by its `Content-Length`), or
    /// until the server closes.
    static func pipeline(port: Int, _ requests: [String], count: Int) throws -> [String] {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        try #require(connected == 0)
        let bytes = Array(requests.joined().utf8)
        let sent = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, 0) }
        try #require(sent == bytes.count)
        var received: [UInt8] = []
        var answers: [String] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while answers.count < count {
            // Parse complete answers from what arrived.
            if let end = Self.headEnd(received) {
                let head = String(decoding: received[..<end], as: UTF8.self)
                let length =
                    head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                    .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.count >= end + 4 + length {
                    answers.append(String(decoding: received[..<(end + 4 + length)], as: UTF8.self))
                    received.removeFirst(end + 4 + length)
                    continue
                }
            }
            let read = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if read <= 0 { break }
            received.append(contentsOf: buffer[..<read])
        }
        return answers
    }

    /// Where `\r\n\r\n` starts.
    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}
