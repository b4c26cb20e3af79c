import Foundation

/// The OpenAPI 3.1 description of every route the server answers, built from one table.
///
/// Tests check the table against the router in both directions, so a route cannot be added without documenting it.
public enum OpenAPIDocument {
    /// One documented operation.
    struct Operation {
        var method: String
        var path: String
        var summary: String
        var tag: String
        var query: [(String, String, [String: Any])] = []
        var body: [String: Any]? = nil
        var bodyType = "application/json"
        var status = 200
        var response: [String: Any]? = nil
        var responseType = "application/json"
        var isPublic = false
        var headers: [String] = []
    }

    static func ref(_ name: String) -> [String: Any] { ["$ref": "#/components/schemas/\(name)"] }
    static func array(_ item: [String: Any]) -> [String: Any] { ["type": "array", "items": item] }
    static var string: [String: Any] { ["type": "string"] }
    static var integer: [String: Any] { ["type": "integer"] }
    static var boolean: [String: Any] { ["type": "boolean"] }
    static var time: [String: Any] { ["type": "string", "format": "date-time"] }
    static func nullable(_ schema: [String: Any]) -> [String: Any] {
        ["oneOf": [schema, ["type": "null"]]]
    }
    static func object(_ properties: [String: [String: Any]], required: [String] = []) -> [String: Any] {
        var object: [String: Any] = ["type": "object", "properties": properties, "additionalProperties": false]
        if !required.isEmpty { object["required"] = required }
        return object
    }

    static var statisticsQuery: [(String, String, [String: Any])] {
        let time: [String: Any] = ["type": "string", "description": "RFC 3339 time or Unix seconds"]
        return [
            ("from", "range start (default: one hour before to)", time),
            ("to", "range end, exclusive (default: now); must be after from", time),
            (
                "bucket", "bucket size (default minute); at most 1,500 buckets per range",
                [
                    "type": "string", "enum": ["minute", "hour"],
                ]
            ),
        ]
    }

    static var pageQuery: [(String, String, [String: Any])] {
        [
            ("page", "1-based page number (default 1)", ["type": "integer", "minimum": 1]),
            ("per_page", "items per page, 1–200 (default 50)", ["type": "integer", "minimum": 1, "maximum": 200]),
        ]
    }

    /// Every operation, in the order the docs list them.
    static var operations: [Operation] {
        let model = "/api/v1/models/{owner}/{name}"
        let environment = "\(model)/environments/{env}"
        let deployment = "\(environment)/deployments/{version}"
        let teachable = "/v1/teachables/{owner}/{name}"
        return [
            Operation(
                method: "get",
                path: "/healthz",
                summary: "Liveness: 200 while the process runs",
                tag: "system",
                response: object(["status": string]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "/readyz",
                summary: "Readiness: 200 when the database answers, else 503",
                tag: "system",
                response: object(["status": string]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "/metrics",
                summary:
                    "Prometheus metrics (text format 0.0.4); needs 'Authorization: Bearer <metricsToken>' when the "
                    + "server has a metrics token (see docs/monitoring.md)",
                tag: "system",
                response: string,
                responseType: "text/plain",
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "/api/v1/openapi.json",
                summary: "This OpenAPI document",
                tag: "system",
                response: ["type": "object"],
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "/api/docs",
                summary: "Browsable API reference (HTML)",
                tag: "system",
                response: string,
                responseType: "text/html",
                isPublic: true
            ),

            Operation(
                method: "post",
                path: "/v1/{owner}/{name}/predict",
                summary:
                    "Predict with a deployment (TeachableHub's API; the trailing slash is optional; see docs/predictions.md)",
                tag: "predictions",
                query: [
                    ("environment", "the environment (default production)", string),
                    (
                        "version", "0 or absent: the active deployment; else that version",
                        ["type": "integer", "minimum": 0, "maximum": 2000]
                    ),
                    ("order", "sort class results by probability", ["type": "string", "enum": ["desc", "asc"]]),
                    ("limit", "classes per row (-1 = all)", ["type": "integer", "minimum": -1, "maximum": 2000]),
                    (
                        "threshold", "keep classes with at least this probability",
                        ["type": "number", "minimum": 0, "maximum": 1]
                    ),
                ],
                body: ref("PredictionRequest"),
                response: ref("PredictionResponse"),
                isPublic: true,
                headers: [
                    "X-Request-ID", "X-Slipway-Version", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
                ]
            ),
            Operation(
                method: "get",
                path: "/v1/users/me",
                summary: "The caller's user (TeachableHub's whoami; see docs/teachablehub.md)",
                tag: "teachablehub",
                response: ref("User")
            ),
            Operation(
                method: "get",
                path: "/v1/users/me/teachables",
                summary: "The models in the caller's own namespace (TeachableHub's get_user_teachables)",
                tag: "teachablehub",
                query: pageQuery,
                response: array(ref("Model")),
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "get",
                path: "/v1/teachables",
                summary: "Public models (TeachableHub's get_all_public_teachables)",
                tag: "teachablehub",
                query: pageQuery,
                response: array(ref("Model")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "get",
                path: "\(teachable)",
                summary: "A model as TeachableHub's SDK reads it (with default_environment and active_deployments)",
                tag: "teachablehub",
                response: ref("Model"),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(teachable)/environments",
                summary: "A model's environments; the SDK deploys to an environment by its id",
                tag: "teachablehub",
                response: array(ref("Environment")),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(teachable)/deployments",
                summary: "A model's deployments, newest first",
                tag: "teachablehub",
                query: [
                    ("environment", "only this environment (by name)", string),
                    ("environment_id", "only this environment (by id)", string),
                    ("version", "only this version", integer),
                    ("status", "pending, verified or failed", ref("DeploymentState")),
                    ("usable", "true: verified deployments only", ["type": "string", "enum": ["true", "false"]]),
                ] + pageQuery,
                response: array(ref("Deployment")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "post",
                path: "\(teachable)/deployments",
                summary:
                    "Deploy as TeachableHub's SDK does: a zip (th-sklearn-json's model.json, or one .onnx file) and JSON-string fields",
                tag: "teachablehub",
                body: ref("TeachableHubDeploymentUpload"),
                bodyType: "multipart/form-data",
                status: 201,
                response: ref("Deployment")
            ),
            Operation(
                method: "get",
                path: "\(teachable)/deployments/{id}",
                summary: "One deployment by its id (uuid)",
                tag: "teachablehub",
                response: ref("Deployment"),
                isPublic: true
            ),
            Operation(
                method: "post",
                path: "\(teachable)/deployments/{id}/activate",
                summary: "Activate a verified deployment in its environment; answers the now-active deployment",
                tag: "teachablehub",
                response: ref("Deployment")
            ),
            Operation(
                method: "post",
                path: "\(teachable)/deployments/{id}/rollback",
                summary: "Roll back to a deployment in its environment; answers the now-active deployment",
                tag: "teachablehub",
                response: ref("Deployment")
            ),
            Operation(
                method: "post",
                path: "\(teachable)/deployments/rollback-version",
                summary: "Roll an environment (by id) back to a version; answers the now-active deployment",
                tag: "teachablehub",
                body: object(["environment": string, "version": integer], required: ["environment", "version"]),
                response: ref("Deployment")
            ),
            Operation(
                method: "get",
                path: "/api/v1/users/me",
                summary: "The caller's user",
                tag: "users",
                response: ref("User")
            ),
            Operation(
                method: "get",
                path: "/api/v1/users",
                summary: "List users (administrators)",
                tag: "users",
                query: pageQuery,
                response: array(ref("User")),
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "post",
                path: "/api/v1/users",
                summary: "Create a user with a first API token (administrators)",
                tag: "users",
                body: object(
                    ["username": string, "display_name": string, "email": string, "is_admin": boolean],
                    required: ["username"]
                ),
                status: 201,
                response: object(["user": ref("User"), "token": ref("Token")])
            ),
            Operation(
                method: "get",
                path: "/api/v1/users/me/tokens",
                summary: "The caller's API tokens",
                tag: "users",
                response: array(ref("Token"))
            ),
            Operation(
                method: "post",
                path: "/api/v1/users/me/tokens",
                summary: "Create an API token (the secret is shown once)",
                tag: "users",
                body: object(["name": string, "expires_in_days": integer], required: ["name"]),
                status: 201,
                response: ref("Token")
            ),
            Operation(
                method: "delete",
                path: "/api/v1/users/me/tokens/{id}",
                summary: "Revoke an API token",
                tag: "users",
                status: 204
            ),

            Operation(
                method: "get",
                path: "/api/v1/orgs",
                summary: "Organisations the caller belongs to",
                tag: "organisations",
                response: array(ref("Organization"))
            ),
            Operation(
                method: "post",
                path: "/api/v1/orgs",
                summary: "Create an organisation; the caller becomes its owner",
                tag: "organisations",
                body: object(["name": string, "display_name": string], required: ["name"]),
                status: 201,
                response: ref("Organization")
            ),
            Operation(
                method: "get",
                path: "/api/v1/orgs/{org}",
                summary: "One organisation",
                tag: "organisations",
                response: ref("Organization")
            ),
            Operation(
                method: "get",
                path: "/api/v1/orgs/{org}/members",
                summary: "An organisation's members",
                tag: "organisations",
                response: array(ref("Member"))
            ),
            Operation(
                method: "put",
                path: "/api/v1/orgs/{org}/members/{username}",
                summary: "Add a member or change a role (organisation owners)",
                tag: "organisations",
                body: object(["role": ref("Role")], required: ["role"]),
                response: ref("Member")
            ),
            Operation(
                method: "delete",
                path: "/api/v1/orgs/{org}/members/{username}",
                summary: "Remove a member (not the last owner)",
                tag: "organisations",
                status: 204
            ),

            Operation(
                method: "get",
                path: "/api/v1/models",
                summary: "List the models the caller may read",
                tag: "models",
                query: [
                    ("owner", "only this owner's models", string),
                    ("visibility", "public or private", ["type": "string", "enum": ["public", "private"]]),
                    ("topic", "only models with this topic", string),
                    ("q", "substring of the name or description", string),
                ] + pageQuery,
                response: array(ref("Model")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "post",
                path: "/api/v1/models",
                summary: "Create a model (with production and staging environments)",
                tag: "models",
                body: ref("ModelCreate"),
                status: 201,
                response: ref("Model")
            ),
            Operation(
                method: "get",
                path: model,
                summary: "One model with its environments",
                tag: "models",
                response: ref("Model"),
                isPublic: true
            ),
            Operation(
                method: "patch",
                path: model,
                summary: "Update a model's fields (maintainers; visibility needs owners)",
                tag: "models",
                body: ref("ModelUpdate"),
                response: ref("Model")
            ),
            Operation(
                method: "delete",
                path: model,
                summary: "Delete a model and everything in it (owners)",
                tag: "models",
                status: 204
            ),

            Operation(
                method: "get",
                path: "\(model)/environments",
                summary: "A model's environments",
                tag: "environments",
                response: array(ref("Environment")),
                isPublic: true
            ),
            Operation(
                method: "post",
                path: "\(model)/environments",
                summary: "Create an environment",
                tag: "environments",
                body: object(["name": string], required: ["name"]),
                status: 201,
                response: ref("Environment")
            ),
            Operation(
                method: "get",
                path: environment,
                summary: "One environment",
                tag: "environments",
                response: ref("Environment"),
                isPublic: true
            ),
            Operation(
                method: "delete",
                path: environment,
                summary: "Delete an environment (refused while one of its deployments is active)",
                tag: "environments",
                status: 204
            ),

            Operation(
                method: "get",
                path: "\(model)/deployments",
                summary: "A model's deployments, newest first",
                tag: "deployments",
                query: [
                    ("environment", "only this environment", string), ("version", "only this version", integer),
                    ("status", "pending, verified or failed", ref("DeploymentState")),
                ] + pageQuery,
                response: array(ref("Deployment")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "get",
                path: "\(environment)/deployments",
                summary: "An environment's deployments, newest first",
                tag: "deployments",
                query: [("status", "pending, verified or failed", ref("DeploymentState"))] + pageQuery,
                response: array(ref("Deployment")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),
            Operation(
                method: "post",
                path: "\(environment)/deployments",
                summary: "Deploy: upload a model file with its metadata",
                tag: "deployments",
                body: ref("DeploymentUpload"),
                bodyType: "multipart/form-data",
                status: 201,
                response: ref("Deployment")
            ),
            Operation(
                method: "get",
                path: deployment,
                summary: "One deployment",
                tag: "deployments",
                response: ref("Deployment"),
                isPublic: true
            ),
            Operation(
                method: "patch",
                path: deployment,
                summary: "Edit a deployment's description",
                tag: "deployments",
                body: object(["description": string], required: ["description"]),
                response: ref("Deployment")
            ),
            Operation(
                method: "get",
                path: "\(deployment)/artifact",
                summary: "Download the artifact (hash-checked)",
                tag: "deployments",
                response: ["type": "string", "contentMediaType": "application/octet-stream"],
                responseType: "application/octet-stream"
            ),
            Operation(
                method: "post",
                path: "\(deployment)/status",
                summary: "Record a verification result (administrators; used by verifiers)",
                tag: "deployments",
                body: object(
                    ["state": ["type": "string", "enum": ["verified", "failed"]], "reason": string],
                    required: ["state"]
                ),
                response: ref("Deployment")
            ),
            Operation(
                method: "post",
                path: "\(deployment)/promote",
                summary: "Promote into another environment (a new deployment reusing the artifact)",
                tag: "deployments",
                body: object(["to_environment": string, "summary": string], required: ["to_environment"]),
                status: 201,
                response: ref("Deployment")
            ),
            Operation(
                method: "post",
                path: "\(environment)/activate",
                summary: "Activate a verified version",
                tag: "deployments",
                body: object(["version": integer], required: ["version"]),
                response: ref("Activation")
            ),
            Operation(
                method: "post",
                path: "\(environment)/rollback",
                summary: "Roll back to an earlier verified version",
                tag: "deployments",
                body: object(["version": integer], required: ["version"]),
                response: ref("Activation")
            ),
            Operation(
                method: "get",
                path: "\(environment)/live",
                summary: "Which version was live at a time",
                tag: "deployments",
                query: [("at", "RFC 3339 time (default: now)", time)],
                response: object([
                    "environment": string, "at": time, "version": nullable(integer),
                    "deployment": nullable(ref("Deployment")),
                ]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(deployment)/stats",
                summary:
                    "A deployment's statistics in minute or hour buckets, their total, and drift (docs/monitoring.md)",
                tag: "monitoring",
                query: statisticsQuery,
                response: ref("DeploymentStatistics"),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(environment)/stats",
                summary:
                    "Every deployment of an environment with data in the range (and the active one): totals and drift",
                tag: "monitoring",
                query: statisticsQuery,
                response: ref("EnvironmentStatistics"),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(model)/monitoring",
                summary: "The model's monitoring settings (drift threshold)",
                tag: "monitoring",
                response: ref("MonitoringSettings"),
                isPublic: true
            ),
            Operation(
                method: "put",
                path: "\(model)/monitoring",
                summary: "Change the model's drift threshold (owners and administrators)",
                tag: "monitoring",
                body: object(
                    ["drift_threshold": ["type": "number", "exclusiveMinimum": 0, "maximum": 10]],
                    required: ["drift_threshold"]
                ),
                response: ref("MonitoringSettings")
            ),

            Operation(
                method: "get",
                path: "\(model)/activity",
                summary: "The activity log, newest first",
                tag: "activity",
                query: [
                    ("environment", "only this environment", string),
                    ("action", "only these actions (repeatable)", ref("Action")),
                    ("since", "events at or after", time), ("until", "events at or before", time),
                ] + pageQuery,
                response: array(ref("ActivityEvent")),
                isPublic: true,
                headers: ["Link", "X-Total-Count"]
            ),

            Operation(
                method: "get",
                path: "\(model)/keys",
                summary: "A model's deploy and serving keys (no secrets)",
                tag: "keys",
                response: array(ref("Key"))
            ),
            Operation(
                method: "post",
                path: "\(model)/keys",
                summary: "Create a key (the secret is shown once)",
                tag: "keys",
                body: ref("KeyCreate"),
                status: 201,
                response: ref("Key")
            ),
            Operation(method: "delete", path: "\(model)/keys/{id}", summary: "Revoke a key", tag: "keys", status: 204),

            // Batch jobs: the prediction API's credentials (serving keys of the environment included).
            Operation(
                method: "post",
                path: "\(environment)/batch-jobs",
                summary: "Submit a CSV or JSONL file for batch scoring (streamed; at most maxBatchBytes)",
                tag: "batch",
                query: [
                    ("version", "a verified version (default: the active one)", integer),
                    ("format", "csv or jsonl (default: from Content-Type, else guessed)", string),
                    ("order", "asc or desc (JSONL results)", string),
                    ("limit", "classes per row, -1 = all (JSONL results)", integer),
                    ("threshold", "smallest probability kept (JSONL results)", ["type": "number"]),
                ],
                body: ["type": "string", "contentMediaType": "text/csv"],
                bodyType: "text/csv",
                status: 202,
                response: ref("BatchJob"),
                headers: ["Location"]
            ),
            Operation(
                method: "get",
                path: "\(environment)/batch-jobs",
                summary: "An environment's batch jobs, newest first",
                tag: "batch",
                response: array(ref("BatchJob"))
            ),
            Operation(
                method: "get",
                path: "\(environment)/batch-jobs/{id}",
                summary: "A batch job's state and progress",
                tag: "batch",
                response: ref("BatchJob")
            ),
            Operation(
                method: "post",
                path: "\(environment)/batch-jobs/{id}/cancel",
                summary: "Cancel a queued or running batch job",
                tag: "batch",
                response: ref("BatchJob")
            ),
            Operation(
                method: "get",
                path: "\(environment)/batch-jobs/{id}/result",
                summary: "Download a batch job's result (CSV or JSONL, streamed)",
                tag: "batch",
                response: ["type": "string", "contentMediaType": "text/csv"],
                responseType: "text/csv"
            ),
            Operation(
                method: "get",
                path: "\(environment)/batch-jobs/{id}/errors",
                summary: "Download a batch job's row-level error report (CSV row,field,problem)",
                tag: "batch",
                response: ["type": "string", "contentMediaType": "text/csv"],
                responseType: "text/csv"
            ),
            Operation(
                method: "delete",
                path: "\(environment)/batch-jobs/{id}",
                summary: "Delete a finished batch job and its files",
                tag: "batch",
                status: 204
            ),
        ] + Self.monitoringOperations(model: model, environment: environment)
            + Self.trafficOperations(environment: environment)
    }

    /// The schemas of the traffic routes: `Traffic`, `Rollout`, `ExperimentReadout` and `Experiment`.
    static var trafficSchemas: [String: Any] {
        let number: [String: Any] = ["type": "number"]
        let actor = object(["kind": string, "name": string])
        let percent: [String: Any] = ["type": "integer", "minimum": 0, "maximum": 100]
        let measurements = object([
            "requests": integer, "errors": integer, "error_rate": number, "p50_ms": number, "p95_ms": number,
            "p99_ms": number, "key_metric": number,
        ])
        let verdict = object([
            "guardrail": string, "verdict": ["type": "string", "enum": ["holds", "breached", "undetermined"]],
            "observed": number, "limit": number, "reason": string,
        ])
        let rollout = object([
            "id": string, "environment": string, "candidate_version": integer, "baseline_version": integer,
            "steps": array(integer), "step": ["type": "integer", "description": "1-based index into steps"],
            "weight": percent, "interval_seconds": number,
            "guardrails": ["type": "string", "description": "canonical guardrails, e.g. error_rate<1%,p99_ms<20"],
            "state": ["type": "string", "enum": ["running", "paused", "completed", "rolled_back", "aborted"]],
            "reason": string, "step_started_at": time, "started_by": actor, "created_at": time, "updated_at": time,
            "evaluation": object([
                "candidate": measurements, "baseline": measurements, "guardrails": array(verdict),
                "step_ends_at": time, "waiting": string,
            ]),
        ])
        let traffic = object([
            "environment": string, "active_version": nullable(integer),
            "arms": array(object(["version": integer, "weight": percent, "active": boolean])),
            "shadows": array(object(["version": integer, "percent": percent])),
            "sticky_feature": string, "rollout": ref("Rollout"), "updated_by": actor, "updated_at": time,
        ])
        let comparison = object([
            "test": ["type": "string", "enum": ["two_proportion_z", "welch_t"]], "difference": number,
            "ci_low": number, "ci_high": number, "statistic": number, "degrees_of_freedom": number,
            "p_value": number, "significant": boolean, "mde": number,
        ])
        let readout = object([
            "confidence": number, "alpha": number, "power": number, "baseline_version": string,
            "arms": array(
                object([
                    "version": string, "requests": integer, "is_baseline": boolean,
                    "metric": ["type": "string", "enum": ["proportion", "mean"]], "n": integer, "estimate": number,
                    "ci_low": number, "ci_high": number, "comparison": comparison, "insufficient_data": string,
                ])
            ),
        ])
        return [
            "Traffic": traffic, "Rollout": rollout, "ExperimentReadout": readout,
            "Experiment": object([
                "environment": string, "from": time, "to": time, "baseline_version": integer,
                "key_metric": object(["name": string, "direction": string, "tested": string, "note": string]),
                "readout": ref("ExperimentReadout"), "error_rate": ref("ExperimentReadout"), "note": string,
            ]),
        ]
    }

    /// Traffic policies, progressive rollouts and experiment readouts (docs/traffic.md).
    static func trafficOperations(environment: String) -> [Operation] {
        let percent: [String: Any] = ["type": "integer", "minimum": 0, "maximum": 100]
        let number: [String: Any] = ["type": "number"]
        let traffic = ref("Traffic")
        let rollout = ref("Rollout")
        let rolloutCommands: [(String, String)] = [
            ("pause", "Hold the live rollout at its current step (guardrails are not judged while paused)"),
            ("resume", "Resume a paused rollout (its current step's interval starts again)"),
            ("abort", "Stop the live rollout: all traffic goes back to the baseline"),
        ]
        return [
            Operation(
                method: "get",
                path: "\(environment)/traffic",
                summary: "The traffic policy: arms (the active version first), shadows, sticky feature, live rollout",
                tag: "traffic",
                response: traffic,
                isPublic: true
            ),
            Operation(
                method: "put",
                path: "\(environment)/traffic",
                summary: "Replace the traffic policy atomically (weights sum to 100; verified versions only)",
                tag: "traffic",
                body: object(
                    [
                        "arms": array(
                            object(["version": integer, "weight": percent], required: ["version", "weight"])
                        ),
                        "shadows": array(
                            object(
                                ["version": integer, "percent": ["type": "integer", "minimum": 1, "maximum": 100]],
                                required: ["version"]
                            )
                        ),
                        "sticky_feature": nullable(string),
                    ]
                ),
                response: traffic
            ),
            Operation(
                method: "delete",
                path: "\(environment)/traffic",
                summary: "Send all traffic to the active version and drop the shadows",
                tag: "traffic",
                response: traffic
            ),
            Operation(
                method: "get",
                path: "\(environment)/rollouts",
                summary: "The environment's rollouts, newest first (at most 50)",
                tag: "traffic",
                response: array(rollout),
                isPublic: true
            ),
            Operation(
                method: "post",
                path: "\(environment)/rollouts",
                summary: "Start a progressive rollout of a verified version from the active one",
                tag: "traffic",
                body: object(
                    [
                        "version": integer,
                        "steps": [
                            "oneOf": [array(integer), string],
                            "description": "increasing percents ending at 100, as a list or '5,25,50,100' (default)",
                        ],
                        "interval": [
                            "oneOf": [number, string], "description": "seconds, or a duration such as 90s, 10m, 1h",
                        ],
                        "guardrails": [
                            "type": "string",
                            "description":
                                "METRIC OP LIMIT, comma-separated, e.g. error_rate<1%,p99_ms<20,key_metric>=baseline-0.01",
                        ],
                    ],
                    required: ["version", "interval"]
                ),
                status: 201,
                response: rollout
            ),
            Operation(
                method: "get",
                path: "\(environment)/rollouts/current",
                summary: "The live (or last) rollout, with its guardrails judged now when it is live",
                tag: "traffic",
                response: rollout,
                isPublic: true
            ),
        ]
            + rolloutCommands.map { command, summary in
                Operation(
                    method: "post",
                    path: "\(environment)/rollouts/current/\(command)",
                    summary: summary,
                    tag: "traffic",
                    response: rollout
                )
            }
            + [
                Operation(
                    method: "get",
                    path: "\(environment)/experiment",
                    summary:
                        "Experiment readout per arm: the key metric with its CI, the test against the baseline, the MDE; "
                        + "and the error rate",
                    tag: "traffic",
                    query: [
                        ("from", "start (default: when the split or rollout began)", time),
                        ("to", "end, exclusive (default: now, or when the rollout ended)", time),
                        ("confidence", "confidence level between 0.5 and 1 (default 0.95)", number),
                    ],
                    response: ref("Experiment"),
                    isPublic: true
                )
            ]
    }

    /// The prediction log, feedback, metrics, key metric, alert and webhook routes (docs/monitoring.md).
    static func monitoringOperations(model: String, environment: String) -> [Operation] {
        let number: [String: Any] = ["type": "number"]
        let logSettings = object([
            "environment": string, "enabled": boolean, "sample_rate": number, "max_rows": integer,
            "max_age_days": integer,
        ])
        let logEntry = object([
            "id": integer, "request_id": string, "at": time, "version": integer, "key_name": nullable(string),
            "status": integer, "latency_ms": number, "inputs": [:], "outputs": [:],
        ])
        let range: [(String, String, [String: Any])] = [
            ("from", "predictions at or after", time), ("to", "predictions before", time),
            ("version", "only this deployment version", ["type": "integer", "minimum": 1]),
        ]
        let keyMetric = object(
            [
                "name": string, "direction": ["type": "string", "enum": ["maximize", "minimize"]],
                "value": nullable(number),
            ]
        )
        let alert = object([
            "name": string, "metric": ["type": "string", "enum": ["error_rate", "p99_ms", "drift", "key_metric"]],
            "op": ["type": "string", "enum": [">", ">=", "<", "<="]], "threshold": number, "window": string,
            "environment": string, "rule": string, "state": ["type": "string", "enum": ["ok", "firing"]],
            "changed_at": time, "created_at": time,
        ])
        let webhook = object(["id": string, "url": string, "secret": string, "created_at": time])
        let feedbackItem = object(
            ["request_id": string, "row": integer, "label": string, "value": number, "outcome": number],
            required: ["request_id"]
        )
        return [
            Operation(
                method: "post",
                path: "/v1/{owner}/{name}/feedback",
                summary: "Ground truth or outcomes for earlier predictions (serving key; see docs/monitoring.md)",
                tag: "feedback",
                query: [("environment", "the environment (default production)", string)],
                body: ["oneOf": [feedbackItem, object(["feedback": array(feedbackItem)], required: ["feedback"])]],
                response: object(["accepted": integer, "unchanged": integer]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(environment)/prediction-log",
                summary: "The environment's prediction log settings",
                tag: "monitoring",
                response: logSettings,
                isPublic: true
            ),
            Operation(
                method: "put",
                path: "\(environment)/prediction-log",
                summary: "Turn the prediction log on or off, with its sampling rate and bounds (owner/admin)",
                tag: "monitoring",
                body: object(
                    ["enabled": boolean, "sample_rate": number, "max_rows": integer, "max_age_days": integer],
                    required: ["enabled"]
                ),
                response: logSettings
            ),
            Operation(
                method: "get",
                path: "\(environment)/predictions",
                summary: "Logged predictions, newest first",
                tag: "monitoring",
                query: range + [
                    (
                        "limit", "entries per page, 1–1000 (default 100)",
                        ["type": "integer", "minimum": 1, "maximum": 1000]
                    ),
                    ("cursor", "the next_cursor of the previous page", string),
                ],
                response: object(["items": array(logEntry), "next_cursor": nullable(string)]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(environment)/predictions/export",
                summary: "Export logged predictions (JSON Lines or CSV, streamed)",
                tag: "monitoring",
                query: [("format", "jsonl (default) or csv", ["type": "string", "enum": ["jsonl", "csv"]])] + range,
                response: string,
                responseType: "application/x-ndjson",
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(environment)/metrics",
                summary: "Quality metrics from feedback (default window: the last 24 hours)",
                tag: "monitoring",
                query: range,
                response: object([
                    "environment": string, "version": nullable(integer), "from": time, "to": time,
                    "metrics": ["type": "object"], "key_metric": keyMetric,
                ]),
                isPublic: true
            ),
            Operation(
                method: "get",
                path: "\(model)/key-metric",
                summary: "The model's key metric",
                tag: "monitoring",
                response: keyMetric,
                isPublic: true
            ),
            Operation(
                method: "put",
                path: "\(model)/key-metric",
                summary: "Choose the model's key metric (owner/admin)",
                tag: "monitoring",
                body: object(
                    ["name": string, "direction": ["type": "string", "enum": ["maximize", "minimize"]]],
                    required: ["name"]
                ),
                response: keyMetric
            ),
            Operation(
                method: "get",
                path: "\(model)/alerts",
                summary: "Alert rules with their state",
                tag: "alerts",
                response: array(alert),
                isPublic: true
            ),
            Operation(
                method: "post",
                path: "\(model)/alerts",
                summary: "Create an alert rule (fields or the compact rule form; owner/admin)",
                tag: "alerts",
                body: object([
                    "name": string, "rule": string, "metric": string, "op": string, "threshold": number,
                    "window": string, "environment": string,
                ]),
                status: 201,
                response: alert
            ),
            Operation(
                method: "delete",
                path: "\(model)/alerts/{alert}",
                summary: "Delete an alert rule",
                tag: "alerts",
                status: 204
            ),
            Operation(
                method: "get",
                path: "\(model)/webhooks",
                summary: "The model's webhooks (no secrets; owner/admin)",
                tag: "alerts",
                response: array(webhook)
            ),
            Operation(
                method: "post",
                path: "\(model)/webhooks",
                summary: "Add a webhook for alert events (the secret is shown once)",
                tag: "alerts",
                body: object(["url": string, "secret": string], required: ["url"]),
                status: 201,
                response: webhook
            ),
            Operation(
                method: "delete",
                path: "\(model)/webhooks/{webhook}",
                summary: "Remove a webhook",
                tag: "alerts",
                status: 204
            ),
        ]
    }

    static var schemas: [String: Any] {
        let card = object([
            "intended_use": string, "factors": string, "metrics": string, "evaluation_data": string,
            "training_data": string, "quantitative_analyses": string, "ethical_considerations": string,
            "caveats_and_recommendations": string,
        ])
        let keyMetric = object(
            ["name": string, "direction": ["type": "string", "enum": ["maximize", "minimize"]]],
            required: ["name", "direction"]
        )
        let modelFields: [String: [String: Any]] = [
            "public": boolean, "public_predictions": boolean, "description": string, "topics": array(string),
            "homepage_url": nullable(string),
            "source_url": nullable(string), "dataset_url": nullable(string), "license_url": nullable(string),
            "card": ref("ModelCard"), "key_metric": nullable(ref("KeyMetric")),
        ]
        let actor = object([
            "kind": ["type": "string", "enum": ["user", "deploy_key", "serving_key", "system"]], "id": string,
            "name": string,
        ])
        let number: [String: Any] = ["type": "number"]
        let counts: [String: Any] = ["type": "object", "additionalProperties": integer]
        let values: [String: Any] = [
            "type": "object",
            "description":
                "numeric: count, missing, min, max, mean, histogram {edges, counts}; categorical: count, missing, "
                + "categories (classes for predictions), other",
            "properties": [
                "kind": nullable(["type": "string", "enum": ["numeric", "categorical"]]),
                "count": integer, "missing": integer, "min": nullable(number), "max": nullable(number),
                "mean": nullable(number), "histogram": object(["edges": array(number), "counts": array(integer)]),
                "categories": counts, "classes": counts, "other": integer, "name": string,
            ] as [String: Any],
            "additionalProperties": false,
        ]
        let statistics: [String: [String: Any]] = [
            "requests": integer, "errors": integer, "error_rate": nullable(number), "error_codes": counts,
            "rows": integer,
            "latency_ms": object([
                "count": integer, "p50": nullable(number), "p95": nullable(number), "p99": nullable(number),
                "min": nullable(number), "max": nullable(number), "mean": nullable(number),
            ]),
            "predictions": values, "features": array(values),
        ]
        let range: [String: [String: Any]] = [
            "model": string, "environment": string, "bucket": ["type": "string", "enum": ["minute", "hour"]],
            "from": time, "to": time, "total": ref("Statistics"),
        ]
        return [
            "Statistics": object(statistics),
            "Drift": object([
                "window": object(["from": time, "to": time]), "threshold": number, "rows": integer,
                "reference": object(["source": ["type": "string", "enum": ["samples", "reference"]], "rows": integer]),
                "features": ["type": "object", "additionalProperties": number], "predictions": nullable(number),
                "drifting": array(string), "predictions_drifting": boolean, "is_drifting": boolean,
                "problem": nullable(string),
            ]),
            "DeploymentStatistics": object(
                range.merging([
                    "version": integer, "is_active": boolean, "drift": ref("Drift"),
                    "buckets": array(
                        object(statistics.merging(["start": time, "end": time]) { $1 })
                    ),
                ]) { $1 }
            ),
            "EnvironmentStatistics": object(
                range.merging([
                    "deployments": array(
                        object([
                            "version": integer, "is_active": boolean, "status": ref("DeploymentState"),
                            "total": ref("Statistics"), "drift": ref("Drift"),
                        ])
                    )
                ]) { $1 }
            ),
            "MonitoringSettings": object([
                "drift_threshold": number, "drift_window_seconds": integer, "is_default": boolean,
                "updated_at": time,
            ]),
            "PredictionRequest": [
                "type": "object",
                "additionalProperties": false,
                "properties": [
                    "ndarray": array(["type": "array"]),
                    "features": ["oneOf": [array(["type": "object"]), ["type": "object"]]],
                    "context": [:] as [String: Any],
                ] as [String: Any],
            ],
            "PredictionResponse": object([
                "request_id": string, "environment": string, "version": integer,
                "predictions": [
                    "type": "array", "description": "one row: the row's predictions; several rows: one entry per row",
                ],
            ]),
            "Error": object(
                ["detail": string, "code": string, "field": string, "violations": array(["type": "object"])],
                required: ["detail", "code"]
            ),
            "Role": ["type": "string", "enum": ["owner", "maintainer", "viewer"]],
            "DeploymentState": ["type": "string", "enum": ["pending", "verified", "failed"]],
            "Action": [
                "type": "string",
                "enum": [
                    "model.created", "model.updated", "environment.created", "environment.deleted",
                    "deployment.created",
                    "deployment.updated", "deployment.verified", "deployment.failed", "deployment.activated",
                    "deployment.rolled_back", "deployment.promoted", "key.created", "key.revoked",
                    "monitoring.updated",
                ],
            ],
            "User": object([
                "id": string, "username": string, "display_name": string, "email": nullable(string),
                "is_admin": boolean, "created_at": time,
            ]),
            "Token": object([
                "id": string, "name": string, "created_at": time, "expires_at": nullable(time),
                "revoked_at": nullable(time),
                "secret": ["type": "string", "description": "only in the creation response"],
            ]),
            "Organization": object(["id": string, "name": string, "display_name": string, "created_at": time]),
            "Member": object(["username": string, "role": ref("Role")]),
            "ModelCard": card,
            "KeyMetric": keyMetric,
            "ModelCreate": object(
                modelFields.merging(["owner": string, "name": string]) { $1 },
                required: ["owner", "name"]
            ),
            "ModelUpdate": object(modelFields),
            "Model": object(
                modelFields.merging([
                    "id": string, "owner": string, "name": string, "full_name": string, "default_environment": string,
                    "environments": array(ref("Environment")),
                    "active_deployments": [
                        "type": "object", "additionalProperties": object(["id": string, "version": integer]),
                    ],
                    "created_at": time, "updated_at": time,
                ]) { $1 }
            ),
            "Environment": object([
                "id": string, "name": string, "active_version": nullable(integer),
                "active_deployment_id": nullable(string), "created_at": time,
            ]),
            "TeachableHubDeploymentUpload": [
                "type": "object", "required": ["model", "framework", "environment", "summary"],
                "properties": [
                    "model": [
                        "type": "string", "contentMediaType": "application/zip",
                        "description":
                            "a zip holding model.json (framework sklearn) or one .onnx file (framework onnx)",
                    ],
                    "framework": ["type": "string", "enum": ["sklearn", "onnx"]],
                    "environment": ["type": "string", "description": "the environment's id (or name)"],
                    "summary": string, "description": string,
                    "schema": ["type": "string", "description": "JSON: {features: {name: rules}, ndarray: [[names]]}"],
                    "samples": ["type": "string", "description": "JSON: {ndarray: [[…]], features: [{…}]}"],
                    "classes": ["type": "string", "description": "JSON: {\"0\": label} or [labels]"],
                    "context": ["type": "string", "description": "JSON object"],
                    "params": ["type": "string", "description": "JSON object"],
                    "activate": ["type": "string", "description": "True: activate once verified"],
                ] as [String: Any],
            ],
            "DeploymentUpload": [
                "type": "object", "required": ["model", "summary"],
                "properties": [
                    "model": [
                        "type": "string", "contentMediaType": "application/octet-stream",
                        "description": "the model file",
                    ],
                    "summary": string, "description": string, "format": ["type": "string", "enum": ["onnx"]],
                    "schema": ["type": "string", "description": "JSON: {features: {name: rules}, ndarray: [[names]]}"],
                    "samples": ["type": "string", "description": "JSON: {ndarray: [[…]], features: [{…}]}"],
                    "classes": ["type": "string", "description": "JSON: {\"0\": label} or [labels]"],
                    "context": ["type": "string", "description": "JSON object"],
                    "params": ["type": "string", "description": "JSON object"],
                    "reference": [
                        "type": "string",
                        "description":
                            "JSON: the reference (training) distribution, [[…]] or [{…}], at most 10,000 rows",
                    ],
                    "activate": ["type": "string", "enum": ["true", "false"]],
                ] as [String: Any],
            ],
            "BatchJob": object([
                "id": string, "model": string, "environment": string, "version": integer,
                "format": ["type": "string", "enum": ["csv", "jsonl"]],
                "state": ["type": "string", "enum": ["queued", "running", "succeeded", "failed", "cancelled"]],
                "reason": nullable(string), "cancel_requested": boolean,
                "order": ["type": "string", "enum": ["asc", "desc"]], "limit": integer, "threshold": ["type": "number"],
                "input_bytes": integer, "rows_done": integer, "rows_total": nullable(integer), "error_count": integer,
                "submitted_by": string, "created_at": time, "started_at": nullable(time), "finished_at": nullable(time),
                "links": object(["self": string, "result": string, "errors": string, "cancel": string]),
            ]),
            "Deployment": object([
                "id": string, "uuid": string, "model": string, "environment": string, "version": integer,
                "status": object([
                    "state": ref("DeploymentState"), "reason": nullable(string), "verified_at": nullable(time),
                ]),
                "is_active": boolean, "format": string, "summary": string, "description": string,
                "artifact": object(["sha256": string, "size": integer]),
                "schema": [:] as [String: Any], "samples": [:] as [String: Any], "classes": [:] as [String: Any],
                "context": [:] as [String: Any], "params": [:] as [String: Any],
                "reference_rows": nullable(integer),
                "activate_on_verify": boolean,
                "verification": ["description": "the verification report: per sample, the outputs and the latency"]
                    as [String: Any], "promoted_from_id": nullable(string), "created_by": actor,
                "created_at": time,
            ]),
            "Activation": object([
                "environment": string, "previous_version": nullable(integer), "active": ref("Deployment"),
            ]),
            "ActivityEvent": object([
                "id": integer, "at": time, "actor": actor, "action": ref("Action"), "environment": nullable(string),
                "from_version": nullable(integer), "to_version": nullable(integer), "detail": string,
            ]),
            "KeyCreate": object(
                [
                    "kind": ["type": "string", "enum": ["deploy", "serving"]], "name": string,
                    "environments": array(string),
                    "expires_at": time, "expires_in_days": integer, "rate_limit": ["type": "integer", "minimum": 1],
                ],
                required: ["kind", "name", "environments"]
            ),
            "Key": object([
                "id": string, "kind": ["type": "string", "enum": ["deploy", "serving"]], "name": string,
                "environments": array(string), "rate_limit": nullable(integer), "expires_at": nullable(time),
                "revoked_at": nullable(time), "created_by": actor, "created_at": time,
                "secret": ["type": "string", "description": "only in the creation response"],
            ]),
        ]
    }

    /// The method and OpenAPI path of every documented operation (`GET /api/v1/models/{owner}/{name}`).
    public static var routes: [String] {
        self.operations.map { "\($0.method.uppercased()) \($0.path)" }
    }

    /// The document as a JSON object.
    static func object(serverURL: String?) -> [String: Any] {
        var paths: [String: [String: Any]] = [:]
        for operation in self.operations {
            var entry: [String: Any] = [
                "summary": operation.summary,
                "tags": [operation.tag],
                "operationId": self.operationID(operation),
            ]
            var parameters: [[String: Any]] = []
            for match in operation.path.matches(of: /\{([a-z_]+)\}/) {
                let name = String(match.1)
                parameters.append([
                    "name": name, "in": "path", "required": true, "schema": name == "version" ? integer : string,
                ])
            }
            for (name, description, schema) in operation.query {
                parameters.append(["name": name, "in": "query", "description": description, "schema": schema])
            }
            if !parameters.isEmpty { entry["parameters"] = parameters }
            if let body = operation.body {
                entry["requestBody"] = ["required": true, "content": [operation.bodyType: ["schema": body]]]
            }
            var success: [String: Any] = ["description": operation.status == 204 ? "done" : "success"]
            if let response = operation.response {
                success["content"] = [operation.responseType: ["schema": response]]
            }
            if !operation.headers.isEmpty {
                success["headers"] = Dictionary(
                    uniqueKeysWithValues: operation.headers.map { ($0, ["schema": string]) }
                )
            }
            let error: [String: Any] = ["content": ["application/json": ["schema": ref("Error")]]]
            var responses: [String: Any] = [String(operation.status): success]
            for (status, description) in [
                ("400", "invalid input"), ("401", "missing, unknown, expired or revoked credential"),
                ("403", "not allowed"), ("404", "not found"), ("409", "conflict"),
            ] {
                if operation.tag == "system" { break }
                responses[status] = error.merging(["description": description]) { $1 }
            }
            if operation.bodyType == "multipart/form-data" || operation.tag == "batch" && operation.method == "post" {
                responses["413"] = error.merging(["description": "upload over the size limit"]) { $1 }
            }
            if operation.path == "/readyz" {
                responses["503"] = [
                    "description": "not ready", "content": ["application/json": ["schema": object(["status": string])]],
                ]
            }
            entry["responses"] = responses
            if operation.isPublic && operation.tag == "system" {
                entry["security"] = [[String: Any]]()
            } else if operation.isPublic {
                entry["security"] = [["bearer": [String]()], ["token": [String]()], [String: Any]()]
            }
            paths[operation.path, default: [:]][operation.method] = entry
        }
        var document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "Slipway management API",
                "version": "1",
                "description":
                    "Models, environments, deployments, keys and the activity log. Errors are {detail, code, field}.",
                "license": ["name": "Apache-2.0", "identifier": "Apache-2.0"],
            ],
            "paths": paths,
            "components": [
                "schemas": self.schemas.merging(self.trafficSchemas) { current, _ in current },
                "securitySchemes": [
                    "bearer": [
                        "type": "http", "scheme": "bearer",
                        "description": "an API token (slw_u_…) or a deploy key (slw_d_…)",
                    ],
                    "token": [
                        "type": "apiKey", "in": "header", "name": "Authorization",
                        "description": "TeachableHub style: 'Token <token>' or 'Deploy-Key <key>'",
                    ],
                ],
            ],
            "security": [["bearer": [String]()], ["token": [String]()]],
        ]
        if let serverURL { document["servers"] = [["url": serverURL]] }
        return document
    }

    static func operationID(_ operation: Operation) -> String {
        let words = operation.path.split(separator: "/").filter { !$0.hasPrefix("{") && $0 != "api" && $0 != "v1" }
        return
            ([operation.method] + (operation.tag == "teachablehub" ? ["teachablehub"] : [])
            + words.map { $0.replacingOccurrences(of: ".", with: "_").replacingOccurrences(of: "-", with: "_") })
            .joined(separator: "_") + (operation.path.hasSuffix("}") ? "_item" : "")
    }

    /// The document as JSON bytes (keys sorted, so the output is stable).
    public static func json(serverURL: String? = nil) -> Data {
        (try? JSONSerialization.data(
            withJSONObject: self.object(serverURL: serverURL),
            options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        )) ?? Data()
    }
}
