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
        // Per-deployment statistics in minute and hour buckets (counters summed by the database, the rest a JSON
        // payload merged by the monitoring layer under a row lock), each deployment's reference profile for drift,
        // and per-model monitoring settings. Timestamps are microseconds like everywhere else.
        Migration(version: 5, name: "deployment statistics") { _ in
            [
                """
                CREATE TABLE deployment_statistics (
                    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
                    bucket_size TEXT NOT NULL,
                    bucket_start BIGINT NOT NULL,
                    model_id TEXT NOT NULL,
                    environment_id TEXT NOT NULL,
                    requests BIGINT NOT NULL,
                    errors BIGINT NOT NULL,
                    payload TEXT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (deployment_id, bucket_size, bucket_start)
                )
                """,
                """
                CREATE INDEX deployment_statistics_environment
                ON deployment_statistics (environment_id, bucket_size, bucket_start)
                """,
                "CREATE INDEX deployment_statistics_age ON deployment_statistics (bucket_size, bucket_start)",
                """
                CREATE TABLE deployment_reference_profiles (
                    deployment_id TEXT PRIMARY KEY REFERENCES deployments (id) ON DELETE CASCADE,
                    profile TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE monitoring_settings (
                    model_id TEXT PRIMARY KEY REFERENCES models (id) ON DELETE CASCADE,
                    drift_threshold DOUBLE PRECISION NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
            ]
        },
        // Monitoring (issue 6, feedback part): per-request outcomes joined with ground truth, the opt-in
        // prediction log and its settings, alert rules with their state, and webhooks.
        Migration(version: 6, name: "prediction log, feedback and alerts") { dialect in
            [
                """
                CREATE TABLE prediction_outcomes (
                    request_id TEXT NOT NULL,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    at BIGINT NOT NULL,
                    status BIGINT NOT NULL,
                    latency_us BIGINT NOT NULL,
                    classes TEXT,
                    predictions TEXT,
                    PRIMARY KEY (model_id, request_id)
                )
                """,
                "CREATE INDEX prediction_outcomes_time ON prediction_outcomes (model_id, environment, at)",
                "CREATE INDEX prediction_outcomes_age ON prediction_outcomes (at)",
                """
                CREATE TABLE prediction_feedback (
                    model_id TEXT NOT NULL,
                    request_id TEXT NOT NULL,
                    row_index BIGINT NOT NULL,
                    at BIGINT NOT NULL,
                    label TEXT,
                    value DOUBLE PRECISION,
                    outcome DOUBLE PRECISION,
                    PRIMARY KEY (model_id, request_id, row_index),
                    FOREIGN KEY (model_id, request_id) REFERENCES prediction_outcomes (model_id, request_id)
                        ON DELETE CASCADE
                )
                """,
                """
                CREATE TABLE prediction_log_settings (
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment TEXT NOT NULL,
                    enabled BIGINT NOT NULL,
                    sample_rate DOUBLE PRECISION NOT NULL,
                    max_rows BIGINT NOT NULL,
                    max_age_days BIGINT NOT NULL,
                    PRIMARY KEY (model_id, environment)
                )
                """,
                """
                CREATE TABLE prediction_log (
                    id \(dialect.autoIncrementPrimaryKey),
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment TEXT NOT NULL,
                    version BIGINT NOT NULL,
                    request_id TEXT NOT NULL,
                    at BIGINT NOT NULL,
                    key_name TEXT,
                    inputs TEXT NOT NULL,
                    outputs TEXT NOT NULL,
                    latency_us BIGINT NOT NULL,
                    status BIGINT NOT NULL
                )
                """,
                "CREATE INDEX prediction_log_environment ON prediction_log (model_id, environment, id)",
                "CREATE INDEX prediction_log_time ON prediction_log (model_id, environment, at)",
                """
                CREATE TABLE alert_rules (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    metric TEXT NOT NULL,
                    comparison TEXT NOT NULL,
                    threshold DOUBLE PRECISION NOT NULL,
                    window_seconds BIGINT NOT NULL,
                    environment TEXT NOT NULL,
                    firing BIGINT NOT NULL,
                    changed_at BIGINT NOT NULL,
                    created_at BIGINT NOT NULL,
                    UNIQUE (model_id, name)
                )
                """,
                """
                CREATE TABLE webhooks (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    url TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    created_at BIGINT NOT NULL
                )
                """,
                "CREATE INDEX webhooks_model ON webhooks (model_id, created_at)",
            ]
        },
        // Batch scoring jobs (migration 7). Files live in the data folder's
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
        // Traffic policies and progressive rollouts (migration 8). A policy row exists only while an
        // environment's traffic is not all on its active deployment; `policy` is the TrafficPolicy as JSON.
        Migration(version: 8, name: "traffic policies and rollouts") { _ in
            [
                """
                CREATE TABLE traffic_policies (
                    environment_id TEXT PRIMARY KEY REFERENCES environments (id) ON DELETE CASCADE,
                    policy TEXT NOT NULL,
                    updated_by_kind TEXT NOT NULL,
                    updated_by_id TEXT NOT NULL,
                    updated_by_name TEXT NOT NULL,
                    updated_at BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE rollouts (
                    id TEXT PRIMARY KEY,
                    model_id TEXT NOT NULL REFERENCES models (id) ON DELETE CASCADE,
                    environment_id TEXT NOT NULL REFERENCES environments (id) ON DELETE CASCADE,
                    candidate_id TEXT NOT NULL,
                    candidate_version BIGINT NOT NULL,
                    baseline_id TEXT NOT NULL,
                    baseline_version BIGINT NOT NULL,
                    steps TEXT NOT NULL,
                    step_index BIGINT NOT NULL,
                    interval_seconds DOUBLE PRECISION NOT NULL,
                    guardrails TEXT NOT NULL,
                    state TEXT NOT NULL,
                    reason TEXT,
                    step_started_at BIGINT NOT NULL,
                    started_by_kind TEXT NOT NULL,
                    started_by_id TEXT NOT NULL,
                    started_by_name TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    revision BIGINT NOT NULL
                )
                """,
                "CREATE INDEX rollouts_environment ON rollouts (environment_id, created_at)",
                "CREATE INDEX rollouts_state ON rollouts (state)",
            ]
        },
        // Web console sessions in the database, so that every server of a cluster knows them.
        Migration(version: 9, name: "console sessions") { _ in
            [
                """
                CREATE TABLE console_sessions (
                    id_hash TEXT PRIMARY KEY,
                    token_id TEXT NOT NULL,
                    csrf_token TEXT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    flash TEXT
                )
                """,
                "CREATE INDEX console_sessions_expiry ON console_sessions (expires_at)",
            ]
        },
    ]
}
