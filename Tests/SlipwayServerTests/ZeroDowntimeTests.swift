import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SlipwayServer
import SlipwayStorage
import Synchronization
import Testing

// Zero-downtime switching (issue 4): real servers on loopback answer predictions from concurrent clients while
// another task activates and rolls back again and again. No answer may fail, and every answer's `version` must have
// been active on the server that gave it at some point during the request. Then the same with two servers sharing
// one PostgreSQL database (and one artifact folder): a switch made through either is served by the other within
// one second.

/// Starts servers in this process, talks to them over HTTP, and stops them gracefully.
struct ServerCluster {
    static let adminToken = "slw_u_ZDZDZDZDZDZD_0123456789abcdefghijklmnopqrstuv"
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// A running server's base URL.
    struct Node: Sendable {
        var name: String
        var base: String
    }

    /// Runs `count` servers on `dataDirectory` (and `databaseURL`, when given), calls `body`, then shuts them down.
    static func run(
        count: Int,
        dataDirectory: String,
        databaseURL: String? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable ([Node]) async throws -> Void
    ) async throws {
        var logger = Logger(label: "slipway.zerodowntime")
        logger.logLevel = .error
        var applications: [(SlipwayApplication, AsyncStream<Int>)] = []
        for _ in 0..<count {
            let port = AsyncStream.makeStream(of: Int.self)
            var configuration = ServerConfiguration(
                port: 0,
                dataDirectory: dataDirectory,
                databaseURL: databaseURL,
                adminToken: Self.adminToken,
                logLevel: .error
            )
            configure(&configuration)
            let application = try await buildApplication(
                configuration: configuration,
                logger: logger
            ) { bound in
                port.continuation.yield(bound)
            }
            applications.append((application, port.stream))
        }
        let groups = applications.map { ServiceGroup(services: [$0.0.application], logger: logger) }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for group in groups { tasks.addTask { try await group.run() } }
            var nodes: [Node] = []
            for (index, (_, ports)) in applications.enumerated() {
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next())
                nodes.append(Node(name: "server \(index + 1)", base: "http://127.0.0.1:\(port)"))
            }
            do {
                try await body(nodes)
            } catch {
                for group in groups { await group.triggerGracefulShutdown() }
                try? await tasks.waitForAll()
                throw error
            }
            for group in groups { await group.triggerGracefulShutdown() }
            try await tasks.waitForAll()
        }
    }
}

/// A small HTTP client for the test: JSON in, status and JSON out.
struct Client: Sendable {
    let http: HTTPClient

    struct Answer: Sendable {
        var status: Int
        var body: String

        /// The body as JSON (`.null` when it is not JSON).
        var json: Document { (try? JSONDecoder().decode(Document.self, from: Data(self.body.utf8))) ?? .null }
    }

    func send(
        _ method: HTTPMethod,
        _ url: String,
        json: String? = nil,
        headers: [(String, String)] = [("Authorization", "Bearer \(ServerCluster.adminToken)")],
        body: ByteBuffer? = nil
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        } else if let body {
            request.body = .bytes(body)
        }
        let response = try await self.http.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 16 << 20)
        return Answer(status: Int(response.status.code), body: String(buffer: bytes))
    }

    /// Deploys a model file with text fields; returns the version.
    func deploy(_ base: String, _ model: String, file: String, fields: [String: String]) async throws -> Int {
        let boundary = "zero-downtime-\(UUID().uuidString)"
        var body = ByteBuffer()
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            body.writeString("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n")
        }
        body.writeString(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"model\"; filename=\"model.onnx\"\r\n"
                + "Content-Type: application/octet-stream\r\n\r\n"
        )
        body.writeBytes(try Data(contentsOf: ServerCluster.root.appendingPathComponent(file)))
        body.writeString("\r\n--\(boundary)--\r\n")
        let answer = try await self.send(
            .POST,
            "\(base)/api/v1/models/\(model)/environments/production/deployments",
            headers: [
                ("Authorization", "Bearer \(ServerCluster.adminToken)"),
                ("Content-Type", "multipart/form-data; boundary=\(boundary)"),
            ],
            body: body
        )
        try #require(answer.status == 201, "\(answer.body)")
        return try #require(answer.json["version"]?.int, "\(answer.body)")
    }

    /// Waits until the host has verified a deployment.
    func waitUntilVerified(_ base: String, _ model: String, _ version: Int) async throws {
        let started = ContinuousClock.now
        while true {
            let answer = try await self.send(
                .GET,
                "\(base)/api/v1/models/\(model)/environments/production/deployments/\(version)"
            )
            let state = answer.json["status"]?["state"]?.string
            if state == "verified" { return }
            try #require(state == "pending", "version \(version) did not verify: \(answer.body)")
            try #require(ContinuousClock.now - started < .seconds(20), "version \(version) stayed pending")
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Activates (or rolls back to) a version; returns the status.
    func switchTo(_ base: String, _ model: String, _ version: Int, rollback: Bool) async throws -> Answer {
        try await self.send(
            .POST,
            "\(base)/api/v1/models/\(model)/environments/production/\(rollback ? "rollback" : "activate")",
            json: #"{"version": \#(version)}"#
        )
    }
}

/// What one prediction answered.
struct Observation: Sendable {
    var node: Int
    var started: ContinuousClock.Instant
    var ended: ContinuousClock.Instant
    var status: Int
    var version: Int?
    /// Whether the answer's shape is the one its version gives (class items for the example, a label otherwise).
    var shapeMatches: Bool
    var body: String
}

/// One switch: the version switched to, when the request was sent, and per node when that node was known to serve it.
struct Switch: Sendable {
    var version: Int
    var sent: ContinuousClock.Instant
    var seen: [ContinuousClock.Instant]
    /// How long after the switch's answer the other node served it (two nodes).
    var lag: Duration = .zero
}

/// A JSON value read from an answer.
enum Document: Sendable, Decodable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([Document])
    case object([String: Document])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([Document].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: Document].self))
        }
    }

    subscript(key: String) -> Document? {
        if case .object(let object) = self { return object[key] }
        return nil
    }

    var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var int: Int? {
        if case .number(let value) = self, value.rounded() == value { return Int(value) }
        return nil
    }

    var array: [Document]? {
        if case .array(let value) = self { return value }
        return nil
    }
}

/// The versions each node may have served, over time.
struct Timeline {
    var initial: Int
    var switches: [Switch]

    /// Whether `version` was active on `node` at some moment between `start` and `end`: state k (the initial
    /// version, then each switch's) may be served from the moment its switch was sent until the next switch was
    /// seen on that node.
    func wasActive(
        _ version: Int,
        on node: Int,
        from start: ContinuousClock.Instant,
        to end: ContinuousClock.Instant
    )
        -> Bool
    {
        for state in 0...self.switches.count {
            let stateVersion = state == 0 ? self.initial : self.switches[state - 1].version
            guard stateVersion == version else { continue }
            let begins = state == 0 ? nil : self.switches[state - 1].sent
            let ends = state < self.switches.count ? self.switches[state].seen[node] : nil
            if (begins.map { $0 <= end } ?? true) && (ends.map { $0 >= start } ?? true) { return true }
        }
        return false
    }
}

final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { self.value.load(ordering: .acquiring) }
    func set() { self.value.store(true, ordering: .releasing) }
}

@Suite(.serialized, .timeLimit(.minutes(3))) struct ZeroDowntimeTests {
    static let model = "admin/iris"
    static let row = #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#

    static func example(_ name: String) throws -> String {
        try String(contentsOf: ServerCluster.root.appendingPathComponent("examples/iris/\(name)"), encoding: .utf8)
    }

    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 32
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Creates `admin/iris` with two verified versions whose answers differ recognisably: version 1 is the iris
    /// example (classes: `[{className, probability}, …]`), version 2 the zoo's logistic regression without classes
    /// (its label: `[2]`). Version 1 is made active.
    static func prepare(_ client: Client, _ base: String) async throws {
        let created = try await client.send(
            .POST,
            "\(base)/api/v1/models",
            json: #"{"owner": "admin", "name": "iris"}"#
        )
        try #require(created.status == 201, "\(created.body)")
        let first = try await client.deploy(
            base,
            Self.model,
            file: "examples/iris/model.onnx",
            fields: [
                "summary": "iris example", "schema": try Self.example("schema.json"),
                "samples": try Self.example("samples.json"), "classes": try Self.example("classes.json"),
            ]
        )
        let second = try await client.deploy(
            base,
            Self.model,
            file: "Tests/Fixtures/zoo/iris_logistic_regression/model.onnx",
            fields: ["summary": "zoo logistic regression", "samples": #"{"ndarray": [[6.9, 3.2, 5.7, 2.3]]}"#]
        )
        try #require(first == 1 && second == 2)
        try await client.waitUntilVerified(base, Self.model, 1)
        try await client.waitUntilVerified(base, Self.model, 2)
        let activated = try await client.switchTo(base, Self.model, 1, rollback: false)
        try #require(activated.status == 200, "\(activated.body)")
    }

    /// Sends one prediction to `node` and records what it answered.
    static func predict(_ client: Client, _ nodes: [ServerCluster.Node], _ node: Int) async -> Observation {
        let started = ContinuousClock.now
        do {
            let answer = try await client.send(
                .POST,
                "\(nodes[node].base)/v1/admin/iris/predict/",
                json: Self.row
            )
            let ended = ContinuousClock.now
            let json = answer.json
            let version = json["version"]?.int
            let predictions = json["predictions"]?.array ?? []
            let shapeMatches: Bool
            switch version {
            case 1: shapeMatches = predictions.count == 3 && predictions.first?["className"]?.string == "virginica"
            case 2: shapeMatches = predictions.count == 1 && predictions.first?.int == 2
            default: shapeMatches = false
            }
            return Observation(
                node: node,
                started: started,
                ended: ended,
                status: answer.status,
                version: version,
                shapeMatches: shapeMatches,
                body: answer.body
            )
        } catch {
            return Observation(
                node: node,
                started: started,
                ended: ContinuousClock.now,
                status: 0,
                version: nil,
                shapeMatches: false,
                body: "transport error: \(error)"
            )
        }
    }

    /// Runs `clientsPerNode` prediction loops on every node while `switcher` runs; returns every observation.
    static func underLoad(
        _ client: Client,
        _ nodes: [ServerCluster.Node],
        clientsPerNode: Int,
        switcher: @escaping @Sendable () async throws -> [Switch]
    ) async throws -> ([Observation], [Switch]) {
        let stop = StopFlag()
        return try await withThrowingTaskGroup(of: ([Observation], [Switch]).self) { group in
            for node in nodes.indices {
                for _ in 0..<clientsPerNode {
                    group.addTask {
                        var observations: [Observation] = []
                        while !stop.isSet {
                            observations.append(await Self.predict(client, nodes, node))
                            // A short pause keeps the machine responsive for the suites running alongside.
                            try await Task.sleep(for: Self.pause)
                        }
                        return (observations, [])
                    }
                }
            }
            group.addTask {
                defer { stop.set() }
                return ([], try await switcher())
            }
            var observations: [Observation] = []
            var switches: [Switch] = []
            for try await (some, made) in group {
                observations += some
                switches += made
            }
            return (observations, switches)
        }
    }

    /// Checks the observations: all 2xx, each answer shaped like its version and served while that version was
    /// active on that node.
    static func check(
        _ observations: [Observation],
        _ timeline: Timeline,
        nodes: Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let failed = observations.filter { !(200..<300).contains($0.status) }
        #expect(
            failed.isEmpty,
            "\(failed.count) failed requests, e.g. \(failed.prefix(3).map(\.body))",
            sourceLocation: sourceLocation
        )
        let misshapen = observations.filter { $0.status == 200 && !$0.shapeMatches }
        #expect(
            misshapen.isEmpty,
            "answers unlike their version: \(misshapen.prefix(3).map(\.body))",
            sourceLocation: sourceLocation
        )
        let stale = observations.filter { observation in
            guard let version = observation.version else { return false }
            return !timeline.wasActive(version, on: observation.node, from: observation.started, to: observation.ended)
        }
        #expect(
            stale.isEmpty,
            "\(stale.count) answers came from a version that was not active during the request: \(stale.prefix(3).map { "node \($0.node) version \($0.version ?? 0)" })",
            sourceLocation: sourceLocation
        )
        for node in 0..<nodes {
            let served = Set(observations.filter { $0.node == node }.compactMap(\.version))
            #expect(served == [1, 2], "node \(node) served versions \(served)", sourceLocation: sourceLocation)
        }
    }

    @Test func activationsAndRollbacksUnderLoadFailNoRequest() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-zd-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let http = Self.makeClient()
        let client = Client(http: http)
        do {
            try await ServerCluster.run(count: 1, dataDirectory: data) { nodes in
                let base = nodes[0].base
                try await Self.prepare(client, base)
                let (observations, switches) = try await Self.underLoad(client, nodes, clientsPerNode: 8) {
                    var switches: [Switch] = []
                    for index in 0..<50 {
                        // Activate version 2, then roll back to version 1, 25 times each.
                        let version = index.isMultiple(of: 2) ? 2 : 1
                        let sent = ContinuousClock.now
                        let answer = try await client.switchTo(base, Self.model, version, rollback: version == 1)
                        try #require(answer.status == 200, "switch \(index) to version \(version): \(answer.body)")
                        switches.append(Switch(version: version, sent: sent, seen: [ContinuousClock.now]))
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    return switches
                }
                #expect(switches.count == 50)
                #expect(observations.count >= 200, "only \(observations.count) requests were made")
                Self.check(observations, Timeline(initial: 1, switches: switches), nodes: 1)
                // The activity records every switch.
                let activity = try await client.send(
                    .GET,
                    "\(base)/api/v1/models/admin/iris/activity?action=deployment.activated&action=deployment.rolled_back&per_page=200"
                )
                #expect(activity.json.array?.count == 51, "\(activity.body.prefix(300))")
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    @Test func theTimelineAcceptsOnlyVersionsActiveDuringTheRequest() {
        let t0 = ContinuousClock.now
        func at(_ ms: Int) -> ContinuousClock.Instant { t0 + .milliseconds(ms) }
        // Version 1, then 2 (sent at 10, seen on node 0 at 20 and on node 1 at 40), then 1 (sent at 50, seen at 60/90).
        let timeline = Timeline(
            initial: 1,
            switches: [
                Switch(version: 2, sent: at(10), seen: [at(20), at(40)]),
                Switch(version: 1, sent: at(50), seen: [at(60), at(90)]),
            ]
        )
        #expect(timeline.wasActive(1, on: 0, from: at(0), to: at(5)))
        #expect(!timeline.wasActive(2, on: 0, from: at(0), to: at(5)))
        #expect(timeline.wasActive(2, on: 0, from: at(0), to: at(15)))
        #expect(timeline.wasActive(1, on: 0, from: at(15), to: at(18)))
        #expect(!timeline.wasActive(1, on: 0, from: at(25), to: at(45)))
        #expect(timeline.wasActive(1, on: 1, from: at(25), to: at(35)))
        #expect(!timeline.wasActive(1, on: 1, from: at(41), to: at(45)))
        #expect(timeline.wasActive(2, on: 1, from: at(70), to: at(80)))
        #expect(!timeline.wasActive(2, on: 0, from: at(70), to: at(80)))
        #expect(timeline.wasActive(1, on: 0, from: at(1_000), to: at(1_001)))
    }

    static var postgresURL: String? {
        guard let url = ProcessInfo.processInfo.environment["SLIPWAY_TEST_POSTGRES_URL"], !url.isEmpty else {
            return nil
        }
        return url
    }

    @Test(.enabled(if: Self.postgresURL != nil, "SLIPWAY_TEST_POSTGRES_URL is not set"))
    func twoServersOnOnePostgreSQLFollowEachOtherWithinOneSecond() async throws {
        try await Self.withTwoServers { client, nodes in
            try await Self.prepare(client, nodes[0].base)
            // The other server learns of the first activation through its poll.
            for node in nodes.indices {
                let started = ContinuousClock.now
                while await Self.predict(client, nodes, node).version != 1 {
                    try #require(ContinuousClock.now - started < .seconds(5), "\(nodes[node].name) serves nothing")
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let (observations, switches) = try await Self.underLoad(client, nodes, clientsPerNode: 4) {
                var switches: [Switch] = []
                for index in 0..<Self.clusterSwitches {
                    // Alternate the server the switch goes through; wait until the other one serves it.
                    let version = index.isMultiple(of: 2) ? 2 : 1
                    let through = index % 2
                    let other = 1 - through
                    let sent = ContinuousClock.now
                    let answer = try await client.switchTo(
                        nodes[through].base,
                        Self.model,
                        version,
                        rollback: version == 1
                    )
                    try #require(answer.status == 200, "switch \(index) to version \(version): \(answer.body)")
                    let answered = ContinuousClock.now
                    var seen = [answered, answered]
                    while true {
                        let probe = await Self.predict(client, nodes, other)
                        try #require(probe.status == 200, "\(probe.body)")
                        if probe.version == version {
                            seen[other] = probe.ended
                            break
                        }
                        try #require(
                            ContinuousClock.now - answered < .seconds(5),
                            "\(nodes[other].name) still serves version \(probe.version ?? 0) 5 s after the switch"
                        )
                        try await Task.sleep(for: .milliseconds(10))
                    }
                    switches.append(Switch(version: version, sent: sent, seen: seen, lag: seen[other] - answered))
                }
                return switches
            }
            #expect(switches.count == Self.clusterSwitches)
            let worst = switches.map(\.lag).max() ?? .zero
            #expect(worst < .seconds(1), "a switch took \(worst) to reach the other server")
            Self.check(observations, Timeline(initial: 1, switches: switches), nodes: 2)
        }
    }

    /// Runs `body` against two servers sharing a fresh PostgreSQL database (both use its default schema) and one
    /// artifact folder, with a client for them; removes the database and the folder afterwards.
    static func withTwoServers(
        _ body: @escaping @Sendable (Client, [ServerCluster.Node]) async throws -> Void
    )
        async throws
    {
        let url = try #require(Self.postgresURL)
        // A fresh database of its own (both servers use the default schema); artifacts live in one shared folder.
        let database = "slipway_zd_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let admin = try await SQLRegistryRepository.makePostgres(
            url: url,
            schema: nil,
            connectionsPerEventLoop: 1,
            logger: SQLRegistryRepository.quietLogger
        )
        try await admin.execute(unsafeSQL: "CREATE DATABASE \(database)")
        var components = try #require(URLComponents(string: url))
        components.path = "/\(database)"
        let databaseURL = try #require(components.string)
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("slipway-zd-\(UUID().uuidString)").path
        let http = Self.makeClient()
        let client = Client(http: http)
        func cleanUp() async {
            try? await http.shutdown()
            try? await admin.execute(unsafeSQL: "DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
            try? await admin.shutdown()
            try? FileManager.default.removeItem(atPath: data)
        }
        do {
            try await ServerCluster.run(count: 2, dataDirectory: data, databaseURL: databaseURL) { nodes in
                try await body(client, nodes)
            }
        } catch {
            await cleanUp()
            throw error
        }
        await cleanUp()
    }

    /// A traffic split set through one server is served by the other within a second, and a route key lands on the
    /// same version on both (the assignment is a hash of the key, not per-server state).
    @Test(.enabled(if: Self.postgresURL != nil, "SLIPWAY_TEST_POSTGRES_URL is not set"))
    func aTrafficSplitReachesTheOtherServerAndKeysStickAcrossServers() async throws {
        try await Self.withTwoServers { client, nodes in
            /// The version that answers `key` on `node`; with `settled` false, `nil` while the node answers 404
            /// (it has not seen the activation made through the other node yet).
            @Sendable func version(_ node: Int, key: String, settled: Bool = true) async throws -> Int? {
                let answer = try await client.send(
                    .POST,
                    "\(nodes[node].base)/v1/admin/iris/predict/",
                    json: Self.row,
                    headers: [("Authorization", "Bearer \(ServerCluster.adminToken)"), ("X-Slipway-Route-Key", key)]
                )
                if !settled && answer.status == 404 { return nil }
                try #require(answer.status == 200, "\(answer.body)")
                return answer.json["version"]?.int
            }
            try await Self.prepare(client, nodes[0].base)
            let keys = (0..<40).map { "user-\($0)" }
            for node in nodes.indices {
                let started = ContinuousClock.now
                while try await version(node, key: "warm-up", settled: false) != 1 {
                    try #require(ContinuousClock.now - started < .seconds(5), "\(nodes[node].name) serves nothing")
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let set = try await client.send(
                .PUT,
                "\(nodes[0].base)/api/v1/models/admin/iris/environments/production/traffic",
                json: #"{"arms": [{"version": 1, "weight": 50}, {"version": 2, "weight": 50}]}"#
            )
            try #require(set.status == 200, "\(set.body)")
            let answered = ContinuousClock.now
            // The server the policy went through splits at once.
            var first: [String: Int] = [:]
            for key in keys { first[key] = try await version(0, key: key) }
            #expect(Set(first.values) == [1, 2], "\(first)")
            // The other one follows within a second, and gives every key the same version.
            while try await version(1, key: keys.first { first[$0] == 2 }!) != 2 {
                try #require(ContinuousClock.now - answered < .seconds(5), "the other server never split")
                try await Task.sleep(for: .milliseconds(10))
            }
            let lag = ContinuousClock.now - answered
            #expect(lag < .seconds(1), "the split took \(lag) to reach the other server")
            for key in keys {
                let other = try await version(1, key: key)
                #expect(
                    other == first[key],
                    "\(key): \(String(describing: first[key])) then \(String(describing: other))"
                )
            }
        }
    }

    /// Each client's pause between requests.
    static let pause = Duration.milliseconds(2)

    /// Switches in the two-server case (each waits for the other server's route poll, 250 ms apart).
    static let clusterSwitches = 50
}
