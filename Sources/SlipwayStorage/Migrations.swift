/// The database schema as an ordered list of migrations; ``SQLRegistryRepository/migrate()`` applies the ones a
/// database has not recorded in `schema_migrations`.
///
/// Never edit a released migration: append a new one. Each migration is a list of single statements (SQLite
/// prepares one statement at a time); the few dialect differences come from ``SQLDialect``.
struct Migration: Sendable {
    /// Applied in increasing order; recorded in `schema_migrations.version`.
    var version: Int64
    /// A short description, recorded too.
    var name: String
    /// The statements, in order.
    var statements: @Sendable (SQLDialect) -> [String]

    /// Every migration, oldest first.
    static let all: [Migration] = [
        Migration(version: 1, name: "registry schema") { dialect in
            [
                // Users and organisations share one namespace.
                """
                CREATE TABLE owners (
                    name TEXT PRIMARY KEY,
                    kind TEXT NOT NULL
                )
                """,
                """
                CREATE TABLE users (
                    id TEXT PRIMARY KEY,
                    username TEXT NOT NULL UNIQUE REFERENCES owners (name),
                    display_name TEXT NOT NULL,
                    email TEXT,
                    is_admin BIGINT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE api_tokens (
                    id TEXT PRIMARY KEY,
                    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    expires_at BIGINT,
                    revoked_at BIGINT
                )
                """,
                "CREATE INDEX api_tokens_user ON api_tokens (user_id, created_at)",
                """
                CREATE TABLE organizations (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL UNIQUE REFERENCES owners (name),
                    display_name TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE memberships (
                    organization_id TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
                    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
                    role TEXT NOT NULL,
                    PRIMARY KEY (organization_id, user_id)
                )
                """,
                "CREATE INDEX memberships_user ON memberships (user_id)",
                """
                CREATE TABLE models (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL REFERENCES owners (name),
                    name TEXT NOT NULL,
                    is_public BIGINT NOT NULL,
                    description TEXT NOT NULL,
                    topics TEXT NOT NULL,
                    homepage_url TEXT,
                    source_url TEXT,
                    dataset_url TEXT,
                    license_url TEXT,
                    card TEXT NOT NULL,
                    key_metric TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    UNIQUE (owner, name)
                )
                """,
                "CREATE INDEX models_public ON models (is_public, owner, name)",
                """
                CREATE TABLE model_topics (
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    topic TEXT NOT NULL,
                    PRIMARY KEY (model_id, topic)
                )
                """,
                "CREATE INDEX model_topics_topic ON model_topics (topic)",
                // `next_version` hands out deployment versions; `ordinal` keeps creation order stable.
                // `active_deployment_id` has no foreign key (the two tables would reference each other); the
                // repository keeps it pointing at a deployment of the same environment.
                """
                CREATE TABLE environments (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    ordinal BIGINT NOT NULL,
                    active_deployment_id TEXT,
                    next_version BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (model_id, name)
                )
                """,
                """
                CREATE TABLE deployments (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
                    version BIGINT NOT NULL,
                    artifact_digest TEXT NOT NULL,
                    artifact_size BIGINT NOT NULL,
                    format TEXT NOT NULL,
                    summary TEXT NOT NULL,
                    description TEXT NOT NULL,
                    feature_schema TEXT,
                    samples TEXT,
                    classes TEXT,
                    context TEXT,
                    params TEXT,
                    status TEXT NOT NULL,
                    status_reason TEXT,
                    verified_at BIGINT,
                    activate_on_verify BIGINT NOT NULL,
                    promoted_from_id TEXT,
                    created_by_kind TEXT NOT NULL,
                    created_by_id TEXT NOT NULL,
                    created_by_name TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (environment_id, version)
                )
                """,
                "CREATE INDEX deployments_model ON deployments (model_id, created_at)",
                "CREATE INDEX deployments_artifact ON deployments (artifact_digest)",
                """
                CREATE TABLE access_keys (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    name TEXT NOT NULL,
                    environments TEXT NOT NULL,
                    secret_hash TEXT NOT NULL,
                    rate_limit BIGINT,
                    expires_at BIGINT,
                    revoked_at BIGINT,
                    created_by_kind TEXT NOT NULL,
                    created_by_id TEXT NOT NULL,
                    created_by_name TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX access_keys_model ON access_keys (model_id, created_at)",
                """
                CREATE UNIQUE INDEX access_keys_live_name ON access_keys (model_id, kind, name)
                WHERE revoked_at IS NULL
                """,
                """
                CREATE TABLE activity (
                    id \(dialect.autoIncrementPrimaryKey),
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    at BIGINT NOT NULL,
                    actor_kind TEXT NOT NULL,
                    actor_id TEXT NOT NULL,
                    actor_name TEXT NOT NULL,
                    action TEXT NOT NULL,
                    environment TEXT,
                    from_version BIGINT,
                    to_version BIGINT,
                    detail TEXT NOT NULL
                )
                """,
                "CREATE INDEX activity_model ON activity (model_id, at)",
                "CREATE INDEX activity_environment ON activity (model_id, environment, at)",
            ]
        },
        Migration(version: 2, name: "public predictions") { _ in
            // Whether anyone may call a public model's prediction API without a key.
            ["ALTER TABLE models ADD COLUMN public_predictions INTEGER NOT NULL DEFAULT 0"]
        },
        // The runtime's verification report (JSON text) next to the status it explains; pending deployments are
        // found by status.
        Migration(version: 3, name: "verification reports") { _ in
            [
                "ALTER TABLE deployments ADD COLUMN verification TEXT",
                "CREATE INDEX deployments_status ON deployments (status, created_at)",
            ]
        },
        // The reference (training) distribution sent with a deployment: a JSON array of rows, and its row count so
        // listing deployments never reads the rows.
        Migration(version: 4, name: "deployment reference rows") { _ in
            [
                "ALTER TABLE deployments ADD COLUMN reference TEXT",
                "ALTER TABLE deployments ADD COLUMN reference_rows BIGINT",
            ]
        },
        // Batch scoring jobs (migration 7; 5 and 6 belong to other features). Files live in the data folder's
        // `jobs/` area under names made from the id; the row holds state, options and progress.
        Migration(version: 7, name: "batch jobs") { _ in
            [
                """
                CREATE TABLE batch_jobs (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    format TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT,
                    descending BIGINT NOT NULL,
                    class_limit BIGINT NOT NULL,
                    threshold DOUBLE PRECISION NOT NULL,
                    input_bytes BIGINT NOT NULL,
                    rows_done BIGINT NOT NULL,
                    rows_total BIGINT,
                    error_count BIGINT NOT NULL,
                    submitted_by TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    started_at BIGINT,
                    finished_at BIGINT
                )
                """,
                "CREATE INDEX batch_jobs_model ON batch_jobs (model_id, environment, created_at)",
                "CREATE INDEX batch_jobs_state ON batch_jobs (state, created_at)",
            ]
        },
    ]
}
