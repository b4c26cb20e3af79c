import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import SlipwayInference
import SlipwayRegistry
import Synchronization

/// The model host: turns deployments into warm inference sessions and answers ``Predictor`` calls.
///
/// - **Routing** lives in memory (`owner/name/environment` → model, environment, active deployment and its
///   prepared session); ``prepare(owner:name:environment:version:)`` takes one lock and never reads the database
///   for a known route. The service loop polls the registry's change marker every
///   ``Configuration/refreshInterval`` and reloads the routes when it moved, so an activation made by another
///   process sharing the database is served here within one second. Unknown names fall back to one lookup.
/// - **Sessions**: active deployments are kept loaded; pinned versions load on demand into an LRU bounded by
///   ``Configuration/memoryBudget``. Concurrent calls for a deployment that is loading wait for the one load.
/// - **Switching**: routes only ever point at loaded sessions (new active deployments are warmed before the
///   route moves), and a request keeps the ``PreparedModel`` it resolved, so it finishes on that version.
/// - **Inference** runs on a dedicated thread pool, at most ``Configuration/concurrencyPerDeployment`` calls per
///   deployment with ``Configuration/queueLimit`` waiting; beyond that callers get `.overloaded` at once.
/// - **Verification** of pending deployments runs in the service loop (see ``verify(_:)``).
///
/// ```swift
/// let host = ModelHost(registry: registry)
/// let prepared = try await host.prepare(owner: "acme", name: "iris", environment: "production", version: nil)
/// let outputs = try await host.infer(prepared, inputs: ["X": tensor], outputs: nil)
/// ```
public final class ModelHost: Predictor, Service {
    /// The host's settings.
    public struct Configuration: Sendable {
        /// The most bytes loaded sessions may take (estimated from the model size); active deployments are
        /// kept even beyond it. Default 1 GiB.
        public var memoryBudget: Int
        /// Threads that run inference and model loading. Default: the number of active processors.
        public var threads: Int
        /// Inference calls one deployment may run at once. Default: ``threads``.
        public var concurrencyPerDeployment: Int
        /// Calls that may wait for one deployment before further calls are refused as overloaded. Default 256.
        public var queueLimit: Int
        /// How often the registry's change marker is polled. Default 250 ms.
        public var refreshInterval: Duration
        /// How often the routes are reloaded even when the marker did not move (deleting a model removes its
        /// activity). Default 10 s.
        public var fullReloadInterval: Duration
        /// Added to a model's byte count to estimate a loaded session's size. Default 64 KiB.
        public var sessionOverhead: Int
        /// Calls whose measured cost (per row, times the rows) is below this run on the request's own task instead of
        /// the inference threads: handing a call to another thread and back costs tens of microseconds on its own,
        /// more than a small tree ensemble's whole prediction, and such a call holds the cooperative pool for less
        /// than a context switch. Calls are measured on the pool first. Default 50 µs; zero sends every call to the
        /// pool.
        public var inlineThreshold: Duration
        /// Whether the service verifies pending deployments (found by polling, or queued with
        /// ``ModelHost/verifySoon(_:)``). Default `true`; tests that set statuses by hand turn it off.
        public var verifiesDeployments: Bool
        /// Told about loads and verification outcomes (metrics). Default `nil`.
        public var observer: (any RuntimeObserver)?

        /// Creates a configuration; every setting has a default.
        public init(
            memoryBudget: Int = 1 << 30,
            threads: Int? = nil,
            concurrencyPerDeployment: Int? = nil,
            queueLimit: Int = 256,
            refreshInterval: Duration = .milliseconds(250),
            fullReloadInterval: Duration = .seconds(10),
            sessionOverhead: Int = 64 << 10,
            inlineThreshold: Duration = .microseconds(50),
            verifiesDeployments: Bool = true,
            observer: (any RuntimeObserver)? = nil
        ) {
            let threads = max(1, threads ?? System.coreCount)
            self.memoryBudget = max(0, memoryBudget)
            self.threads = threads
            self.concurrencyPerDeployment = max(1, concurrencyPerDeployment ?? threads)
            self.queueLimit = max(0, queueLimit)
            self.refreshInterval = refreshInterval
            self.fullReloadInterval = fullReloadInterval
            self.sessionOverhead = max(0, sessionOverhead)
            self.inlineThreshold = inlineThreshold
            self.verifiesDeployments = verifiesDeployments
            self.observer = observer
        }
    }

    /// A route's name.
    struct RouteKey: Hashable, Sendable {
        var owner: String
        var name: String
        var environment: String
    }

    /// A pinned version of an environment.
    struct PinKey: Hashable, Sendable {
        var environmentID: UUID
        var version: Int
    }

    /// A loaded deployment: its session and what every prepared model of it shares.
    struct LoadedSession: Sendable {
        var session: InferenceSession
        var schema: FeatureSchema?
        var classes: [String]?
        var gate: AdmissionGate
    }

    /// One environment in the routing table.
    struct RouteEntry: Sendable {
        var model: SlipwayRegistry.Model
        var environment: Environment
        var active: Deployment?
        /// The active deployment, prepared with its traffic route; set only once every session it needs is loaded.
        var prepared: PreparedModel?
        /// The traffic policy, `nil` when all traffic goes to the active deployment.
        var policy: TrafficPolicy? = nil
        /// The deployments the policy names.
        var policyDeployments: [Deployment] = []

        /// The deployments this route keeps loaded: the active one and those its policy names.
        var servedIDs: [UUID] { (self.active.map { [$0.id] } ?? []) + self.policyDeployments.map(\.id) }
    }

    typealias Machine = StateMachine<LoadedSession, CheckedContinuation<LoadedSession?, any Error>>

    struct State {
        var machine: Machine
        var routes: [RouteKey: RouteEntry] = [:]
        var keysByEnvironment: [UUID: RouteKey] = [:]
        /// Names the database did not know at the last lookup, with the error (cleared on every reload).
        var missing: [RouteKey: RuntimeError] = [:]
        /// Verified pinned versions already looked up.
        var pinned: [PinKey: Deployment] = [:]
        /// Environment id → activity id of a local activation the last reload may not include yet.
        var overrides: [UUID: Int64] = [:]
        /// The change marker of the last reload.
        var marker: Int64?
        var lastFullReload: ContinuousClock.Instant?
        /// Deployments queued for or under verification.
        var verifying: Set<UUID> = []
        var isShutDown = false
        /// Artifact loads started (tests check that concurrent callers share one).
        var loads = 0
    }

    /// The registry: repository, artifact store, verification records.
    public let registry: Registry
    /// The settings.
    public let configuration: Configuration
    let logger: Logger
    let pool: NIOThreadPool
    let state: Mutex<State>
    let verifications: AsyncStream<Deployment>
    let verificationQueue: AsyncStream<Deployment>.Continuation

    /// Creates a host and starts its thread pool. Run it as a `Service` for route refreshes and verification;
    /// call ``shutdown()`` when it is not run as one.
    ///
    /// - Parameters:
    ///   - registry: where routes, deployments and artifacts come from.
    ///   - configuration: budgets, threads and intervals.
    ///   - logger: logs at info level and below.
    public init(
        registry: Registry,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "slipway.runtime")
    ) {
        self.registry = registry
        self.configuration = configuration
        self.logger = logger
        self.pool = NIOThreadPool(numberOfThreads: configuration.threads)
        self.pool.start()
        self.state = Mutex(State(machine: Machine(budget: configuration.memoryBudget)))
        (self.verifications, self.verificationQueue) = AsyncStream.makeStream(of: Deployment.self)
    }

    // MARK: Predictor

    /// What the lock-held lookup found.
    enum Lookup {
        case ready(PreparedModel)
        case unknown
        case missing(RuntimeError)
        case shutDown
        case entry(RouteEntry)
    }

    /// The lock-held route lookup: a ready model, or what the slow path must do.
    func lookup(_ key: RouteKey, _ pinned: Int?) -> Lookup {
        self.state.withLock { state -> Lookup in
            guard !state.isShutDown else { return .shutDown }
            guard let entry = state.routes[key] else { return state.missing[key].map(Lookup.missing) ?? .unknown }
            if pinned == nil || pinned == entry.active?.version {
                if let prepared = entry.prepared { return .ready(prepared) }
                return .entry(entry)
            }
            guard let deployment = state.pinned[PinKey(environmentID: entry.environment.id, version: pinned!)],
                state.machine.isLoaded(deployment.id),
                case .ready(let loaded) = state.machine.acquire(deployment.id)
            else { return .entry(entry) }
            return .ready(Self.prepared(entry, deployment, loaded))
        }
    }

    public func preparedIfReady(owner: String, name: String, environment: String, version: Int?) -> PreparedModel? {
        let pinned = (version ?? 0) == 0 ? nil : version
        guard
            case .ready(let prepared) = self.lookup(
                RouteKey(owner: owner, name: name, environment: environment),
                pinned
            )
        else { return nil }
        return prepared
    }

    public func inlineSlot(_ model: PreparedModel, rows: Int) -> InlineInference? {
        guard let gate = model.admission, gate.isCheap(rows: rows, threshold: self.inlineThreshold), gate.tryAcquire()
        else { return nil }
        return InlineInference(session: model.session, gate: gate, rows: rows)
    }

    public func prepare(owner: String, name: String, environment: String, version: Int?) async throws -> PreparedModel {
        let key = RouteKey(owner: owner, name: name, environment: environment)
        let pinned = (version ?? 0) == 0 ? nil : version
        let entry: RouteEntry
        switch self.lookup(key, pinned) {
        case .ready(let prepared): return prepared
        case .shutDown: throw RuntimeError(.unavailable, "the server is shutting down")
        case .missing(let error): throw error
        case .unknown: entry = try await self.fetchRoute(key)
        case .entry(let found): entry = found
        }
        let deployment: Deployment
        if pinned == nil || pinned == entry.active?.version {
            guard let active = entry.active else {
                throw RuntimeError(
                    .notActive,
                    "\(entry.model.fullName) has no active deployment in environment '\(entry.environment.name)'; "
                        + "activate a verified version first"
                )
            }
            deployment = active
        } else {
            deployment = try await self.pinnedDeployment(entry, version: pinned!)
        }
        let loaded = try await self.loaded(deployment, label: Self.label(entry.model, deployment))
        guard deployment.id == entry.active?.id else { return Self.prepared(entry, deployment, loaded) }
        var sessions: [UUID: LoadedSession] = [:]
        for other in entry.policyDeployments {
            do {
                sessions[other.id] = try await self.loaded(other, label: Self.label(entry.model, other))
            } catch {
                self.logger.info(
                    "a deployment of the traffic policy did not load; its share goes to the active one",
                    metadata: ["deployment.id": "\(other.id)", "error": "\(error)"]
                )
            }
        }
        let prepared = Self.preparedActive(entry, deployment, loaded, dropMissing: true) { sessions[$0] }!
        if deployment.id == entry.active?.id {
            self.state.withLock { state in
                if state.routes[key]?.active?.id == deployment.id, state.routes[key]?.prepared == nil {
                    state.routes[key]?.prepared = prepared
                }
            }
        }
        return prepared
    }

    public func infer(
        _ model: PreparedModel,
        inputs: [String: Tensor],
        outputs: [String]?
    ) async throws -> [(String, Value)] {
        guard let gate = model.admission else { return try await self.run(model.session, inputs, outputs) }
        try await gate.acquire(describing: Self.label(model.model, model.deployment))
        defer { gate.release() }
        let rows = inputs.values.first?.shape.first ?? 1
        let session = model.session
        if gate.isCheap(rows: rows, threshold: self.inlineThreshold) {
            // Cheaper than the two thread hand-offs the pool costs: run on the request's own task.
            return try gate.measured(rows: rows) { try session.run(inputs, outputNames: outputs) }
        }
        do {
            return try await self.pool.runIfActive {
                try gate.measured(rows: rows) { try session.run(inputs, outputNames: outputs) }
            }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw RuntimeError(.unavailable, "the server is shutting down")
        }
    }

    /// Runs the model on the calling task's thread, with one thread, through the deployment's gate (a background
    /// caller such as a batch job runs on a low-priority thread of its own, which the scheduler ranks below online
    /// requests; the inference pool's threads are left to them). Its calls do not count in the model's measured cost.
    public func inferInBackground(
        _ model: PreparedModel,
        inputs: [String: Tensor],
        outputs: [String]?
    ) async throws -> [(String, Value)] {
        let session = model.session
        guard let gate = model.admission else { return try session.run(inputs, outputNames: outputs, threads: 1) }
        try await gate.acquire(describing: Self.label(model.model, model.deployment))
        defer { gate.release() }
        return try session.run(inputs, outputNames: outputs, threads: 1)
    }

    /// ``Configuration/inlineThreshold`` in nanoseconds.
    var inlineThreshold: UInt64 {
        let components = self.configuration.inlineThreshold.components
        return UInt64(max(0, components.seconds)) * 1_000_000_000
            + UInt64(max(0, components.attoseconds / 1_000_000_000))
    }

    /// Runs a session on the inference pool.
    func run(
        _ session: InferenceSession,
        _ inputs: [String: Tensor],
        _ outputs: [String]?
    ) async throws -> [(
        String, Value
    )] {
        do {
            return try await self.pool.runIfActive { try session.run(inputs, outputNames: outputs) }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw RuntimeError(.unavailable, "the server is shutting down")
        }
    }

    // MARK: Activation

    /// Loads a deployment's session (if it is not loaded yet) so that activating it switches to a warm model.
    /// Call it before `Registry.activate`, then ``didActivate(_:)`` with the result.
    ///
    /// - Throws: ``RuntimeError/Code/loadFailed`` when the artifact cannot be loaded.
    public func warm(_ deployment: Deployment) async throws {
        let label = self.state.withLock { state in
            state.keysByEnvironment[deployment.environmentID].flatMap { state.routes[$0] }.map {
                Self.label($0.model, deployment)
            }
        }
        _ = try await self.loaded(
            deployment,
            label: label ?? "version \(deployment.version) in '\(deployment.environmentName)'"
        )
    }

    /// Switches this process's route to an activation's deployment at once (other processes follow through the
    /// change poll). Requests already holding the previous ``PreparedModel`` finish on it.
    public func didActivate(_ activation: Activation) async throws {
        let environment = activation.environment
        let deployment = activation.current
        let known = self.state.withLock { state in
            state.keysByEnvironment[environment.id].flatMap { state.routes[$0]?.model }
        }
        let model: SlipwayRegistry.Model
        if let known {
            model = known
        } else if let found = try await self.registry.repository.model(id: environment.modelID) {
            model = found
        } else {
            return
        }
        let loaded = try await self.loaded(deployment, label: Self.label(model, deployment))
        let key = RouteKey(owner: model.owner, name: model.name, environment: environment.name)
        let previous = self.state.withLock { $0.routes[key] }
        var entry = RouteEntry(model: model, environment: environment, active: deployment, prepared: nil)
        // Activating by hand clears the splits and stops the version shadowing itself (as the repository did).
        if let policy = previous?.policy?.afterActivating(deployment.id), !policy.isDefault {
            entry.policy = policy
            entry.policyDeployments = previous?.policyDeployments.filter { policy.deploymentIDs.contains($0.id) } ?? []
        }
        entry.prepared = self.state.withLock { state in
            Self.preparedActive(entry, deployment, loaded, dropMissing: false) { state.machine.session($0) }
        }
        let evicted = self.state.withLock { state in
            state.routes[key] = entry
            state.keysByEnvironment[environment.id] = key
            state.missing[key] = nil
            state.overrides[environment.id] = activation.event.id
            return state.machine.setActive(Set(state.routes.values.flatMap(\.servedIDs)))
        }
        self.logEvictions(evicted)
        self.logger.info(
            "switched route",
            metadata: [
                "model.name": "\(model.fullName)", "environment": "\(environment.name)",
                "model.version": "\(deployment.version)", "deployment.id": "\(deployment.id)",
            ]
        )
    }

    // MARK: Loading

    /// The deployment's loaded session: loads it once however many callers ask at the same time.
    func loaded(_ deployment: Deployment, label: @autoclosure () -> String) async throws -> LoadedSession {
        let id = deployment.id
        while true {
            switch self.state.withLock({ $0.machine.acquire(id) }) {
            case .ready(let loaded):
                return loaded
            case .failed(let error):
                throw error
            case .load:
                let outcome = await self.load(deployment, label: label())
                guard let (result, bytes) = outcome else {
                    let waiters = self.state.withLock { $0.machine.abandonLoad(id) }
                    for waiter in waiters { waiter.resume(returning: nil) }
                    throw CancellationError()
                }
                let (waiters, evicted) = self.state.withLock { $0.machine.finishLoad(id, result, bytes: bytes) }
                for waiter in waiters { waiter.resume(with: result.map { $0 }.mapError { $0 as any Error }) }
                self.logEvictions(evicted)
                return try result.get()
            case .wait:
                let value = try await withCheckedThrowingContinuation {
                    (continuation: CheckedContinuation<LoadedSession?, any Error>) in
                    switch self.state.withLock({ $0.machine.wait(for: id, continuation) }) {
                    case .queued: break
                    case .ready(let loaded): continuation.resume(returning: loaded)
                    case .failed(let error): continuation.resume(throwing: error)
                    case .retry: continuation.resume(returning: nil)
                    }
                }
                if let value { return value }
            }
        }
    }

    /// Reads, parses and prepares an artifact on the pool; `nil` when the calling task was cancelled first.
    func load(_ deployment: Deployment, label: String) async -> (Result<LoadedSession, RuntimeError>, Int)? {
        let artifacts = self.registry.artifacts
        let digest = deployment.artifactDigest
        let started = ContinuousClock.now
        self.state.withLock { $0.loads += 1 }
        do {
            let session = try await self.pool.runIfActive {
                let data = try artifacts.read(digest: digest)
                return InferenceSession(model: try ModelLoader.load(data: data))
            }
            let loaded = self.makeLoadedSession(session, deployment)
            self.configuration.observer?.didLoad(
                deployment,
                seconds: Self.seconds(ContinuousClock.now - started),
                succeeded: true
            )
            self.logger.info(
                "loaded model",
                metadata: [
                    "model": "\(label)", "deployment.id": "\(deployment.id)",
                    "duration_ms": "\((ContinuousClock.now - started).components.attoseconds / 1_000_000_000_000_000)",
                ]
            )
            return (.success(loaded), self.estimatedBytes(session))
        } catch is CancellationError {
            return nil
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            return (.failure(RuntimeError(.unavailable, "the server is shutting down")), 0)
        } catch let error as RuntimeError {
            self.configuration.observer?.didLoad(
                deployment,
                seconds: Self.seconds(ContinuousClock.now - started),
                succeeded: false
            )
            return (.failure(error), 0)
        } catch {
            self.configuration.observer?.didLoad(
                deployment,
                seconds: Self.seconds(ContinuousClock.now - started),
                succeeded: false
            )
            return (.failure(RuntimeError(.loadFailed, "\(label) cannot be loaded: \(error)")), 0)
        }
    }

    /// A duration in seconds.
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// How many deployments have a session loaded in this process now.
    public var loadedModelCount: Int {
        self.state.withLock { $0.machine.loadedCount }
    }

    /// Whether a deployment's session is loaded.
    func isLoaded(_ id: UUID) -> Bool {
        self.state.withLock { $0.machine.isLoaded(id) }
    }

    /// A session's estimated size in memory.
    func estimatedBytes(_ session: InferenceSession) -> Int {
        session.model.byteCount + self.configuration.sessionOverhead
    }

    /// Wraps a session with its deployment's parsed schema and classes and a fresh admission gate.
    func makeLoadedSession(_ session: InferenceSession, _ deployment: Deployment) -> LoadedSession {
        LoadedSession(
            session: session,
            schema: FeatureSchema.parse(deployment.schema),
            classes: PreparedModel.parseClasses(deployment.classes),
            gate: AdmissionGate(
                limit: self.configuration.concurrencyPerDeployment,
                queueLimit: self.configuration.queueLimit
            )
        )
    }

    func logEvictions(_ evicted: [UUID]) {
        for id in evicted {
            self.logger.info("evicted model session", metadata: ["deployment.id": "\(id)"])
        }
    }

    // MARK: Routes

    /// One lookup for a name the routing table does not know; remembers misses until the next reload.
    func fetchRoute(_ key: RouteKey) async throws -> RouteEntry {
        let repository = self.registry.repository
        func missing(_ message: String) -> RuntimeError {
            let error = RuntimeError(.notFound, message)
            self.state.withLock { state in
                if state.missing.count >= 10_000 { state.missing.removeAll() }
                state.missing[key] = error
            }
            return error
        }
        guard let model = try await repository.model(owner: key.owner, name: key.name) else {
            throw missing("model \(key.owner)/\(key.name) does not exist")
        }
        guard let environment = try await repository.environment(modelID: model.id, name: key.environment) else {
            throw missing("environment '\(key.environment)' does not exist in \(model.fullName)")
        }
        var active: Deployment?
        if let id = environment.activeDeploymentID { active = try await repository.deployment(id: id) }
        var entry = RouteEntry(model: model, environment: environment, active: active, prepared: nil)
        if let policy = try await repository.trafficPolicy(environmentID: environment.id)?.policy {
            entry.policy = policy
            for id in policy.deploymentIDs {
                if let deployment = try await repository.deployment(id: id) {
                    entry.policyDeployments.append(deployment)
                }
            }
        }
        let found = entry
        return self.state.withLock { state in
            if let current = state.routes[key] { return current }
            state.routes[key] = found
            state.keysByEnvironment[environment.id] = key
            for id in found.servedIDs { _ = state.machine.addActive(id) }
            return found
        }
    }

    /// A pinned version: must exist and be verified.
    func pinnedDeployment(_ entry: RouteEntry, version: Int) async throws -> Deployment {
        let pin = PinKey(environmentID: entry.environment.id, version: version)
        if let known = self.state.withLock({ $0.pinned[pin] }) { return known }
        guard
            let deployment = try await self.registry.repository.deployment(
                environmentID: entry.environment.id,
                version: version
            )
        else {
            throw RuntimeError(
                .notFound,
                "\(entry.model.fullName) has no version \(version) in environment '\(entry.environment.name)'"
            )
        }
        guard deployment.status == .verified else {
            throw RuntimeError(
                .notVerified,
                "version \(version) of \(entry.model.fullName) in '\(entry.environment.name)' is "
                    + "\(deployment.status.rawValue); only verified versions answer predictions"
                    + (deployment.statusReason.map { " (\($0))" } ?? "")
            )
        }
        self.state.withLock { $0.pinned[pin] = deployment }
        return deployment
    }

    /// Reloads the routing table when the registry's change marker moved (or the full-reload interval passed),
    /// warming every new active deployment before its route switches to it, and queues pending deployments for
    /// verification.
    ///
    /// - Parameter force: reload even when nothing seems to have changed.
    public func refresh(force: Bool = false) async throws {
        let repository = self.registry.repository
        let marker = try await Self.shielded { try await repository.latestActivityID() }
        let fullReloadInterval = self.configuration.fullReloadInterval
        let (previous, isDue) = self.state.withLock { state in
            (state.marker, state.lastFullReload.map { ContinuousClock.now - $0 >= fullReloadInterval } ?? true)
        }
        guard force || marker != previous || isDue else { return }
        let routes = try await Self.shielded { try await repository.servingRoutes() }
        self.state.withLock { $0.machine.clearFailures() }
        await withTaskGroup(of: Void.self) { group in
            for route in routes {
                for active in (route.active.map { [$0] } ?? []) + route.policyDeployments
                where !self.state.withLock({ $0.machine.isLoaded(active.id) }) {
                    group.addTask {
                        do {
                            _ = try await self.loaded(active, label: Self.label(route.model, active))
                        } catch {
                            self.logger.info(
                                "active deployment did not load",
                                metadata: ["deployment.id": "\(active.id)", "error": "\(error)"]
                            )
                        }
                    }
                }
            }
        }
        self.install(routes, marker: marker)
        if marker != previous, self.configuration.verifiesDeployments {
            for deployment in try await Self.shielded({ try await repository.pendingDeployments(limit: 64) }) {
                self.verifySoon(deployment)
            }
        }
    }

    /// Runs a database call in a task of its own, so that cancelling the poll (on shutdown) never cancels a query
    /// half-way: the SQL pool would drop that connection instead of closing it. The caller still waits for it.
    static func shielded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await Task { try await body() }.value
    }

    /// Replaces the routing table with the reloaded routes, keeping local activations newer than `marker`.
    func install(_ routes: [ServingRoute], marker: Int64) {
        let evicted = self.state.withLock { state in
            var table: [RouteKey: RouteEntry] = [:]
            var keys: [UUID: RouteKey] = [:]
            table.reserveCapacity(routes.count)
            for route in routes {
                let key = RouteKey(
                    owner: route.model.owner,
                    name: route.model.name,
                    environment: route.environment.name
                )
                keys[route.environment.id] = key
                if let local = state.overrides[route.environment.id], local > marker, let current = state.routes[key] {
                    table[key] = current
                    continue
                }
                var entry = RouteEntry(
                    model: route.model,
                    environment: route.environment,
                    active: route.active,
                    prepared: nil,
                    policy: route.policy,
                    policyDeployments: route.policyDeployments
                )
                if let active = route.active, let loaded = state.machine.session(active.id) {
                    let machine = state.machine
                    entry.prepared = Self.preparedActive(entry, active, loaded, dropMissing: false) {
                        machine.session($0)
                    }
                }
                table[key] = entry
            }
            state.overrides = state.overrides.filter { $0.value > marker }
            state.routes = table
            state.keysByEnvironment = keys
            state.missing.removeAll()
            state.pinned = state.pinned.filter { keys[$0.key.environmentID] != nil }
            state.marker = marker
            state.lastFullReload = .now
            return state.machine.setActive(Set(table.values.flatMap(\.servedIDs)))
        }
        self.logEvictions(evicted)
    }

    static func prepared(_ entry: RouteEntry, _ deployment: Deployment, _ loaded: LoadedSession) -> PreparedModel {
        PreparedModel(
            model: entry.model,
            environment: entry.environment.name,
            deployment: deployment,
            session: loaded.session,
            schema: loaded.schema,
            classes: loaded.classes,
            admission: loaded.gate
        )
    }

    /// The active deployment prepared with the environment's traffic route. `nil` when a deployment the policy
    /// names has no loaded session, unless `dropMissing` (its share then goes to the active deployment).
    static func preparedActive(
        _ entry: RouteEntry,
        _ active: Deployment,
        _ loaded: LoadedSession,
        dropMissing: Bool,
        session: (UUID) -> LoadedSession?
    ) -> PreparedModel? {
        guard let policy = entry.policy, !policy.isDefault else { return Self.prepared(entry, active, loaded) }
        let deployments = Dictionary(
            entry.policyDeployments.map { ($0.id, $0) },
            uniquingKeysWith: { first, _ in first }
        )
        var splits: [(weight: Int, model: PreparedModel)] = []
        for split in policy.splits {
            guard let deployment = deployments[split.deploymentID] else { continue }
            guard let loaded = session(split.deploymentID) else {
                if dropMissing { continue }
                return nil
            }
            splits.append((split.weight, Self.prepared(entry, deployment, loaded)))
        }
        var shadows: [TrafficRoute.Shadow] = []
        for shadow in policy.shadows {
            guard let deployment = deployments[shadow.deploymentID] else { continue }
            guard let loaded = session(shadow.deploymentID) else {
                if dropMissing { continue }
                return nil
            }
            shadows.append(.init(model: Self.prepared(entry, deployment, loaded), percent: shadow.percent))
        }
        let traffic = TrafficRoute(
            splits: splits,
            active: Self.prepared(entry, active, loaded),
            shadows: shadows,
            stickyFeature: policy.stickyFeature
        )
        return PreparedModel(
            model: entry.model,
            environment: entry.environment.name,
            deployment: active,
            session: loaded.session,
            schema: loaded.schema,
            classes: loaded.classes,
            admission: loaded.gate,
            traffic: traffic
        )
    }

    /// How a deployment is named in messages: `acme/iris version 3 in 'production'`.
    static func label(_ model: SlipwayRegistry.Model, _ deployment: Deployment) -> String {
        "\(model.fullName) version \(deployment.version) in '\(deployment.environmentName)'"
    }

    // MARK: Service

    /// Refreshes the routes every ``Configuration/refreshInterval`` and verifies pending deployments until a
    /// graceful shutdown, then stops the thread pool.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.pollRoutes() }
                group.addTask { await self.consumeVerifications() }
            }
        }
        await self.shutdown()
    }

    /// Stops accepting work and shuts the thread pool down. Safe to call more than once.
    public func shutdown() async {
        let first = self.state.withLock { state in
            defer { state.isShutDown = true }
            return !state.isShutDown
        }
        guard first else { return }
        self.verificationQueue.finish()
        try? await self.pool.shutdownGracefully()
    }

    func pollRoutes() async {
        var isFailing = false
        while !Task.isCancelled {
            do {
                try await self.refresh()
                if isFailing { self.logger.info("route refresh works again") }
                isFailing = false
            } catch is CancellationError {
                return
            } catch {
                if !isFailing { self.logger.info("route refresh failed", metadata: ["error": "\(error)"]) }
                isFailing = true
            }
            try? await Task.sleep(for: self.configuration.refreshInterval)
        }
    }
}
