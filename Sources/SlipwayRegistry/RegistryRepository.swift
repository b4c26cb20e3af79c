import Foundation

/// Filters for listing models.
public struct ModelFilter: Hashable, Sendable {
    /// Who is looking: only models this viewer may read are listed.
    public enum Viewer: Hashable, Sendable {
        /// Everything (administrators).
        case all
        /// Public models, plus models owned by this user or by organisations they belong to.
        case user(UUID, username: String)
        /// Public models only (anonymous callers).
        case publicOnly
        /// Only this one model (deploy keys).
        case model(UUID)
    }

    /// Who is looking.
    public var viewer: Viewer
    /// Only this owner's models.
    public var owner: String?
    /// Only public (`true`) or private (`false`) models.
    public var isPublic: Bool?
    /// Only models with this topic.
    public var topic: String?
    /// Case-insensitive substring of the name or description.
    public var search: String?

    /// Creates a filter.
    public init(
        viewer: Viewer,
        owner: String? = nil,
        isPublic: Bool? = nil,
        topic: String? = nil,
        search: String? = nil
    ) {
        self.viewer = viewer
        self.owner = owner
        self.isPublic = isPublic
        self.topic = topic
        self.search = search
    }
}

/// Filters for listing deployments of one model.
public struct DeploymentFilter: Hashable, Sendable {
    /// Only this environment.
    public var environmentID: UUID?
    /// Only this version (meaningful with an environment).
    public var version: Int?
    /// Only deployments in this state.
    public var status: DeploymentStatus?

    /// Creates a filter.
    public init(environmentID: UUID? = nil, version: Int? = nil, status: DeploymentStatus? = nil) {
        self.environmentID = environmentID
        self.version = version
        self.status = status
    }
}

/// Filters for a model's activity log.
public struct ActivityFilter: Hashable, Sendable {
    /// Only events about this environment.
    public var environment: String?
    /// Only these actions.
    public var actions: Set<ActivityEvent.Action>?
    /// Events at or after this time.
    public var since: Date?
    /// Events at or before this time.
    public var until: Date?

    /// Creates a filter.
    public init(
        environment: String? = nil,
        actions: Set<ActivityEvent.Action>? = nil,
        since: Date? = nil,
        until: Date? = nil
    ) {
        self.environment = environment
        self.actions = actions
        self.since = since
        self.until = until
    }
}

/// The result of an activation: what was active before and what is now.
public struct Activation: Hashable, Sendable {
    /// The environment after the change.
    public var environment: Environment
    /// The previously active deployment, if any.
    public var previous: Deployment?
    /// The now-active deployment.
    public var current: Deployment
    /// The event recorded.
    public var event: ActivityEvent

    /// Creates an activation result.
    public init(environment: Environment, previous: Deployment?, current: Deployment, event: ActivityEvent) {
        self.environment = environment
        self.previous = previous
        self.current = current
        self.event = event
    }
}

/// One environment as the runtime routes to it: its model, the environment and its active deployment.
public struct ServingRoute: Hashable, Sendable {
    /// The model project.
    public var model: Model
    /// The environment (with `activeDeploymentID` and `activeVersion`).
    public var environment: Environment
    /// The active deployment, if the environment has one.
    public var active: Deployment?
    /// The environment's traffic policy, `nil` when all traffic goes to the active deployment.
    public var policy: TrafficPolicy?
    /// The deployments the policy names (splits and shadows), found.
    public var policyDeployments: [Deployment]

    /// Creates a route.
    public init(
        model: Model,
        environment: Environment,
        active: Deployment?,
        policy: TrafficPolicy? = nil,
        policyDeployments: [Deployment] = []
    ) {
        self.model = model
        self.environment = environment
        self.active = active
        self.policy = policy
        self.policyDeployments = policyDeployments
    }
}

/// The registry's storage: every read and every change, each change in one transaction.
///
/// Implementations must behave identically (the contract tests in `SlipwayStorageTests` run against each).
/// Every method that takes an ``ActivityEvent`` writes it in the same transaction as the change, with the
/// event's `id` assigned by the store and its versions filled in where the store decides them. Lookups return
/// `nil` for a missing row; changes to a missing row throw ``RegistryError/Code/notFound``; a unique-name
/// collision throws ``RegistryError/Code/conflict``. Timestamps keep microsecond precision.
public protocol RegistryRepository: TrafficRepository, ConsoleSessionRepository, Sendable {
    /// Applies pending schema migrations. Safe when several processes start at once.
    func migrate() async throws

    /// Checks that the database answers (for `/readyz`).
    func ping() async throws

    // MARK: Users, tokens, organisations

    /// Inserts a user; the username must be free among users and organisations.
    func createUser(_ user: User) async throws
    /// A user by id.
    func user(id: UUID) async throws -> User?
    /// A user by username.
    func user(named username: String) async throws -> User?
    /// Users ordered by username.
    func listUsers(page: PageRequest) async throws -> Page<User>
    /// Whether any administrator exists (first start).
    func hasAdministrator() async throws -> Bool

    /// Inserts an API token.
    func createToken(_ token: APIToken) async throws
    /// A token by its public id.
    func token(id: String) async throws -> APIToken?
    /// A user's tokens, newest first, revoked ones included.
    func listTokens(userID: UUID) async throws -> [APIToken]
    /// Marks a token revoked; revoking twice keeps the first time.
    func revokeToken(id: String, at date: Date) async throws

    /// Inserts an organisation and its first member (the creator, as owner) together.
    func createOrganization(_ organization: Organization, owner: UUID) async throws
    /// An organisation by name.
    func organization(named name: String) async throws -> Organization?
    /// Organisations ordered by name; with `memberID`, only those the user belongs to.
    func listOrganizations(memberID: UUID?) async throws -> [Organization]
    /// Adds a member or changes their role.
    func setMembership(organizationID: UUID, userID: UUID, role: Role) async throws
    /// Removes a member; refuses (conflict) to remove the last owner.
    func removeMembership(organizationID: UUID, userID: UUID) async throws
    /// Members ordered by username.
    func memberships(organizationID: UUID) async throws -> [Membership]
    /// A user's role in the organisation called `organization`, if they are a member.
    func role(userID: UUID, inOrganization organization: String) async throws -> Role?
    /// Whether `name` is taken by a user or an organisation.
    func isOwnerNameTaken(_ name: String) async throws -> Bool

    // MARK: Models and environments

    /// Inserts a model with its first environments and the `model.created` event.
    func createModel(_ model: Model, environments: [Environment], event: ActivityEvent) async throws
    /// A model by id.
    func model(id: UUID) async throws -> Model?
    /// A model by `owner/name`.
    func model(owner: String, name: String) async throws -> Model?
    /// Models ordered by owner then name.
    func listModels(filter: ModelFilter, page: PageRequest) async throws -> Page<Model>
    /// Replaces the model's mutable fields (visibility, metadata, card, key metric, updatedAt) and records `event`.
    func updateModel(_ model: Model, event: ActivityEvent) async throws
    /// Deletes the model with its environments, deployments, keys and activity log.
    /// Returns the digests of the artifacts its deployments used.
    func deleteModel(id: UUID) async throws -> [String]

    /// Inserts an environment and records `event`.
    func createEnvironment(_ environment: Environment, event: ActivityEvent) async throws
    /// A model's environments ordered by creation, with `activeVersion` filled in.
    func environments(modelID: UUID) async throws -> [Environment]
    /// One environment by name.
    func environment(modelID: UUID, name: String) async throws -> Environment?
    /// Deletes an environment and its deployments and records `event`; refuses (conflict) if one is active.
    /// Returns the digests of the artifacts its deployments used.
    func deleteEnvironment(id: UUID, event: ActivityEvent) async throws -> [String]

    // MARK: Deployments

    /// Inserts a deployment with the next version of its environment (no gaps, no duplicates under
    /// concurrency) and records `event` with `toVersion` set to that version. Returns the stored deployment.
    ///
    /// `reference` is the JSON array of reference rows (already validated; `deployment.referenceRows` holds its
    /// row count), stored with the deployment; `nil` stores none.
    func createDeployment(_ deployment: Deployment, reference: String?, event: ActivityEvent) async throws -> Deployment
    /// The reference rows stored with a deployment (JSON text), or `nil` when it has none or does not exist.
    func deploymentReference(id: UUID) async throws -> String?
    /// A deployment by id.
    func deployment(id: UUID) async throws -> Deployment?
    /// A deployment by environment and version.
    func deployment(environmentID: UUID, version: Int) async throws -> Deployment?
    /// A model's deployments, newest first (by creation time, then version).
    func listDeployments(modelID: UUID, filter: DeploymentFilter, page: PageRequest) async throws -> Page<Deployment>
    /// Changes a deployment's description and records `event`.
    func updateDeploymentDescription(id: UUID, description: String, event: ActivityEvent) async throws -> Deployment
    /// Moves a pending deployment to `verified` or `failed`, stores its verification report (JSON text, or `nil`)
    /// and records `event`. Throws conflict when the deployment is not pending. When it becomes verified and
    /// `activateOnVerify` is set, it is activated in the same transaction (recording a `deployment.activated`
    /// event too) and the activation is returned.
    func setDeploymentStatus(
        id: UUID,
        status: DeploymentStatus,
        reason: String?,
        verification: String?,
        at date: Date,
        event: ActivityEvent
    ) async throws -> (Deployment, Activation?)
    /// Makes a verified deployment of the environment active and records `event` (action activated or
    /// rolled back) with `fromVersion`/`toVersion` filled in. Throws notVerified for an unverified deployment
    /// and leaves the previous one active. Re-activating the active deployment is allowed and recorded.
    func activate(environmentID: UUID, deploymentID: UUID, event: ActivityEvent) async throws -> Activation
    /// Whether any deployment still uses the artifact.
    func isArtifactReferenced(digest: String) async throws -> Bool
    /// Pending deployments (awaiting verification), oldest first, at most `limit`.
    func pendingDeployments(limit: Int) async throws -> [Deployment]

    // MARK: Serving

    /// Every environment of every model with its active deployment, for the runtime's routing table.
    func servingRoutes() async throws -> [ServingRoute]
    /// The id of the newest activity event, 0 when there is none. Every change writes an event, so a poller
    /// reloads its routes only when this moved (deleting a model removes its events: poll ``servingRoutes()``
    /// now and then as well).
    func latestActivityID() async throws -> Int64

    // MARK: Keys

    /// Inserts a key and records `event`.
    func createKey(_ key: AccessKey, event: ActivityEvent) async throws
    /// A key by its public id.
    func key(id: String) async throws -> AccessKey?
    /// A model's keys, newest first, revoked ones included.
    func listKeys(modelID: UUID) async throws -> [AccessKey]
    /// Marks a key revoked and records `event`; revoking twice keeps the first time.
    func revokeKey(id: String, at date: Date, event: ActivityEvent) async throws

    // MARK: Activity

    /// A model's events, newest first.
    func listActivity(modelID: UUID, filter: ActivityFilter, page: PageRequest) async throws -> Page<ActivityEvent>
    /// The version that was active in the environment at `date` (from activation events), if any.
    func liveVersion(modelID: UUID, environment: String, at date: Date) async throws -> Int?
}

extension RegistryRepository {
    /// Inserts a deployment without reference rows.
    public func createDeployment(_ deployment: Deployment, event: ActivityEvent) async throws -> Deployment {
        try await self.createDeployment(deployment, reference: nil, event: event)
    }
}
