import Foundation
import SQLKit
import SlipwayRegistry

extension SQLRegistryRepository {
    static func decodeModel(_ row: any SQLRow) throws -> Model {
        Model(
            id: try row.uuid("id"),
            owner: try row.string("owner"),
            name: try row.string("name"),
            isPublic: try row.bool("is_public"),
            allowsAnonymousPredictions: try row.bool("public_predictions"),
            metadata: ModelMetadata(
                description: try row.string("description"),
                topics: try row.json("topics", as: [String].self),
                homepageURL: try row.optionalString("homepage_url"),
                sourceURL: try row.optionalString("source_url"),
                datasetURL: try row.optionalString("dataset_url"),
                licenseURL: try row.optionalString("license_url")
            ),
            card: try row.json("card", as: ModelCard.self),
            keyMetric: try row.optionalJSON("key_metric", as: KeyMetric.self),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at")
        )
    }

    static let environmentColumns: SQLQueryString =
        "e.id, e.model_id, e.name, e.active_deployment_id, e.created_at, d.version AS active_version"

    static let environmentJoin: SQLQueryString =
        "environments e LEFT JOIN deployments d ON d.id = e.active_deployment_id"

    static func decodeEnvironment(_ row: any SQLRow) throws -> Environment {
        Environment(
            id: try row.uuid("id"),
            modelID: try row.uuid("model_id"),
            name: try row.string("name"),
            activeDeploymentID: try row.optionalUUID("active_deployment_id"),
            activeVersion: try row.optionalInt("active_version"),
            createdAt: try row.date("created_at")
        )
    }

    /// Replaces a model's rows in `model_topics`.
    private static func writeTopics(of model: Model, in database: any SQLDatabase) async throws {
        let id = SQLValues.text(model.id)
        try await database.change("DELETE FROM model_topics WHERE model_id = \(bind: id)")
        for topic in Set(model.metadata.topics) {
            try await database.change("INSERT INTO model_topics (model_id, topic) VALUES (\(bind: id), \(bind: topic))")
        }
    }

    /// Inserts an environment at the end of its model's creation order.
    private static func insertEnvironment(_ environment: Environment, in database: any SQLDatabase) async throws {
        let modelID = SQLValues.text(environment.modelID)
        try await database.change(
            """
            INSERT INTO environments (id, model_id, name, ordinal, active_deployment_id, next_version, created_at)
            SELECT \(bind: SQLValues.text(environment.id)), \(bind: modelID), \(bind: environment.name),
                COALESCE(MAX(ordinal), 0) + 1, NULL, 1, \(bind: SQLValues.microseconds(environment.createdAt))
            FROM environments WHERE model_id = \(bind: modelID)
            """,
            unique: .conflict("environment '\(environment.name)' already exists in this model", field: "name"),
            missing: .notFound("model \(environment.modelID) does not exist")
        )
    }

    // MARK: Models

    public func createModel(_ model: Model, environments: [Environment], event: ActivityEvent) async throws {
        try await self.write("creating model \(model.fullName)") { database in
            try await database.change(
                """
                INSERT INTO models (
                    id, owner, name, is_public, public_predictions, description, topics, homepage_url, source_url,
                    dataset_url, license_url, card, key_metric, created_at, updated_at
                ) VALUES (
                    \(bind: SQLValues.text(model.id)), \(bind: model.owner), \(bind: model.name),
                    \(bind: SQLValues.flag(model.isPublic)), \(bind: SQLValues.flag(model.allowsAnonymousPredictions)),
                    \(bind: model.metadata.description),
                    \(bind: try SQLValues.json(model.metadata.topics)), \(bind: model.metadata.homepageURL),
                    \(bind: model.metadata.sourceURL), \(bind: model.metadata.datasetURL),
                    \(bind: model.metadata.licenseURL), \(bind: try SQLValues.json(model.card)),
                    \(bind: try model.keyMetric.map { try SQLValues.json($0) }),
                    \(bind: SQLValues.microseconds(model.createdAt)), \(bind: SQLValues.microseconds(model.updatedAt))
                )
                """,
                unique: .conflict("model \(model.fullName) already exists", field: "name"),
                missing: .notFound("owner '\(model.owner)' does not exist")
            )
            try await Self.writeTopics(of: model, in: database)
            for environment in environments {
                try await Self.insertEnvironment(environment, in: database)
            }
            _ = try await database.insertEvent(event)
        }
    }

    public func model(id: UUID) async throws -> Model? {
        try await self.read("reading model \(id)") { database in
            try await database.row("SELECT * FROM models WHERE id = \(bind: SQLValues.text(id))").map(Self.decodeModel)
        }
    }

    public func model(owner: String, name: String) async throws -> Model? {
        try await self.read("reading model \(owner)/\(name)") { database in
            try await database.row("SELECT * FROM models WHERE owner = \(bind: owner) AND name = \(bind: name)")
                .map(Self.decodeModel)
        }
    }

    public func listModels(filter: ModelFilter, page: PageRequest) async throws -> Page<Model> {
        var conditions: [SQLQueryString] = []
        switch filter.viewer {
        case .all:
            break
        case .publicOnly:
            conditions.append("m.is_public = 1")
        case .model(let id):
            conditions.append("m.id = \(bind: SQLValues.text(id))")
        case .user(let id, let username):
            conditions.append(
                """
                (m.is_public = 1 OR m.owner = \(bind: username) OR m.owner IN (
                    SELECT o.name FROM organizations o JOIN memberships ms ON ms.organization_id = o.id
                    WHERE ms.user_id = \(bind: SQLValues.text(id))
                ))
                """
            )
        }
        if let owner = filter.owner { conditions.append("m.owner = \(bind: owner)") }
        if let isPublic = filter.isPublic { conditions.append("m.is_public = \(bind: SQLValues.flag(isPublic))") }
        if let topic = filter.topic {
            conditions.append(
                "EXISTS (SELECT 1 FROM model_topics t WHERE t.model_id = m.id AND t.topic = \(bind: topic))"
            )
        }
        if let search = filter.search, !search.isEmpty {
            let pattern = "%\(SQLValues.likeEscaped(search))%"
            conditions.append(
                """
                (LOWER(m.name) LIKE LOWER(\(bind: pattern)) ESCAPE '!'
                    OR LOWER(m.description) LIKE LOWER(\(bind: pattern)) ESCAPE '!')
                """
            )
        }
        let whereClause = SQLQueryString.whereClause(conditions)
        return try await self.read("listing models") { database in
            let total = try await database.count("SELECT COUNT(*) AS total FROM models m\(whereClause)")
            let models = try await database.rows(
                "SELECT m.* FROM models m\(whereClause) ORDER BY m.owner, m.name\(SQLQueryString.limit(page))"
            ).map(Self.decodeModel)
            return Page(items: models, total: total, request: page)
        }
    }

    public func updateModel(_ model: Model, event: ActivityEvent) async throws {
        try await self.write("updating model \(model.fullName)") { database in
            let row = try await database.row(
                """
                UPDATE models SET
                    is_public = \(bind: SQLValues.flag(model.isPublic)),
                    public_predictions = \(bind: SQLValues.flag(model.allowsAnonymousPredictions)),
                    description = \(bind: model.metadata.description),
                    topics = \(bind: try SQLValues.json(model.metadata.topics)),
                    homepage_url = \(bind: model.metadata.homepageURL),
                    source_url = \(bind: model.metadata.sourceURL),
                    dataset_url = \(bind: model.metadata.datasetURL),
                    license_url = \(bind: model.metadata.licenseURL),
                    card = \(bind: try SQLValues.json(model.card)),
                    key_metric = \(bind: try model.keyMetric.map { try SQLValues.json($0) }),
                    updated_at = \(bind: SQLValues.microseconds(model.updatedAt))
                WHERE id = \(bind: SQLValues.text(model.id)) RETURNING id
                """
            )
            guard row != nil else { throw RegistryError.notFound("model \(model.fullName) does not exist") }
            try await Self.writeTopics(of: model, in: database)
            _ = try await database.insertEvent(event)
        }
    }

    public func deleteModel(id: UUID) async throws -> [String] {
        try await self.write("deleting model \(id)") { database in
            let modelID = SQLValues.text(id)
            let digests = try await database.rows(
                """
                SELECT DISTINCT artifact_digest FROM deployments WHERE model_id = \(bind: modelID)
                ORDER BY artifact_digest
                """
            ).map { try $0.string("artifact_digest") }
            // Foreign keys cascade to environments, deployments, keys, topics and the activity log.
            let row = try await database.row("DELETE FROM models WHERE id = \(bind: modelID) RETURNING id")
            guard row != nil else { throw RegistryError.notFound("model \(id) does not exist") }
            return digests
        }
    }

    // MARK: Environments

    public func createEnvironment(_ environment: Environment, event: ActivityEvent) async throws {
        try await self.write("creating environment \(environment.name)") { database in
            try await Self.insertEnvironment(environment, in: database)
            _ = try await database.insertEvent(event)
        }
    }

    public func environments(modelID: UUID) async throws -> [Environment] {
        try await self.read("listing environments") { database in
            try await database.rows(
                """
                SELECT \(Self.environmentColumns) FROM \(Self.environmentJoin)
                WHERE e.model_id = \(bind: SQLValues.text(modelID)) ORDER BY e.ordinal
                """
            ).map(Self.decodeEnvironment)
        }
    }

    public func environment(modelID: UUID, name: String) async throws -> Environment? {
        try await self.read("reading environment \(name)") { database in
            try await database.row(
                """
                SELECT \(Self.environmentColumns) FROM \(Self.environmentJoin)
                WHERE e.model_id = \(bind: SQLValues.text(modelID)) AND e.name = \(bind: name)
                """
            ).map(Self.decodeEnvironment)
        }
    }

    /// An environment with its active version, read inside a transaction.
    static func environment(id: UUID, in database: any SQLDatabase) async throws -> Environment? {
        try await database.row(
            """
            SELECT \(Self.environmentColumns) FROM \(Self.environmentJoin)
            WHERE e.id = \(bind: SQLValues.text(id))
            """
        ).map(Self.decodeEnvironment)
    }

    /// Locks an environment's row until the transaction ends (PostgreSQL; SQLite's write lock covers everything)
    /// and returns its name and active deployment.
    static func lockEnvironment(
        id: UUID,
        dialect: SQLDialect,
        in database: any SQLDatabase
    ) async throws -> (name: String, activeDeploymentID: UUID?)? {
        try await database.row(
            """
            SELECT name, active_deployment_id FROM environments
            WHERE id = \(bind: SQLValues.text(id))\(unsafeRaw: dialect.forUpdate)
            """
        ).map { (try $0.string("name"), try $0.optionalUUID("active_deployment_id")) }
    }

    public func deleteEnvironment(id: UUID, event: ActivityEvent) async throws -> [String] {
        let dialect = self.dialect
        return try await self.write("deleting environment \(id)") { database in
            guard let environment = try await Self.lockEnvironment(id: id, dialect: dialect, in: database) else {
                throw RegistryError.notFound("environment \(id) does not exist")
            }
            if environment.activeDeploymentID != nil {
                throw RegistryError.conflict(
                    "environment '\(environment.name)' has an active deployment; it cannot be deleted"
                )
            }
            let environmentID = SQLValues.text(id)
            let digests = try await database.rows(
                """
                SELECT DISTINCT artifact_digest FROM deployments WHERE environment_id = \(bind: environmentID)
                ORDER BY artifact_digest
                """
            ).map { try $0.string("artifact_digest") }
            try await database.change("DELETE FROM environments WHERE id = \(bind: environmentID)")
            _ = try await database.insertEvent(event)
            return digests
        }
    }
}
