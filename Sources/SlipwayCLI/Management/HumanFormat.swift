import SlipwayInference

/// The human-readable forms of the API's objects (see `docs/api.md` for their fields).
enum HumanFormat {
    // MARK: Models

    /// `acme/churn` from a Model's `full_name` (or `owner` and `name`).
    static func modelName(_ model: JSONValue) -> String {
        model.string("full_name") ?? "\(model.text("owner"))/\(model.text("name"))"
    }

    /// The active versions of a Model as `production:3 staging:1`, or `-`.
    static func activeVersions(_ model: JSONValue) -> String {
        let active = (model["active_deployments"]?.members ?? []).compactMap { environment, deployment in
            deployment.int("version").map { "\(environment):\($0)" }
        }
        return active.isEmpty ? "-" : active.joined(separator: " ")
    }

    /// A Model as a block, followed by its environments.
    static func model(_ model: JSONValue) -> String {
        var pairs: [(String, String)] = [
            ("model", Self.modelName(model)),
            ("visibility", Self.visibility(model)),
            ("description", model.text("description")),
        ]
        let topics = (model["topics"]?.items ?? []).map(\.displayText)
        if !topics.isEmpty { pairs.append(("topics", topics.joined(separator: ", "))) }
        for (label, key) in [
            ("homepage", "homepage_url"), ("source", "source_url"), ("dataset", "dataset_url"),
            ("licence", "license_url"),
        ] {
            if let url = model.string(key), !url.isEmpty { pairs.append((label, url)) }
        }
        if let metric = model["key_metric"], metric != .null {
            pairs.append(("key metric", "\(metric.text("name")) (\(metric.text("direction")))"))
        }
        pairs.append(("default environment", model.text("default_environment")))
        pairs.append(("active", Self.activeVersions(model)))
        pairs.append(("id", model.text("id")))
        pairs.append(("created", TextLayout.time(model.string("created_at"))))
        pairs.append(("updated", TextLayout.time(model.string("updated_at"))))
        var text = TextLayout.block(pairs)
        if let environments = model["environments"]?.items, !environments.isEmpty {
            text += "\n\n" + Self.environments(.array(environments))
        }
        return text
    }

    /// `public` or `private`.
    static func visibility(_ model: JSONValue) -> String {
        model["public"] == .bool(true) ? "public" : "private"
    }

    /// A list of Models as a table.
    static func models(_ list: JSONValue) -> String {
        guard !list.items.isEmpty else { return "No models." }
        return TextLayout.table(
            ["MODEL", "VISIBILITY", "ACTIVE", "CREATED", "DESCRIPTION"],
            list.items.map { model in
                [
                    Self.modelName(model), Self.visibility(model), Self.activeVersions(model),
                    TextLayout.time(model.string("created_at")), model.text("description"),
                ]
            }
        )
    }

    // MARK: Environments

    /// A list of Environments as a table.
    static func environments(_ list: JSONValue) -> String {
        guard !list.items.isEmpty else { return "No environments." }
        return TextLayout.table(
            ["ENVIRONMENT", "ACTIVE", "CREATED"],
            list.items.map { environment in
                [
                    environment.text("name"), environment.text("active_version"),
                    TextLayout.time(environment.string("created_at")),
                ]
            }
        )
    }

    /// An Environment as a block.
    static func environment(_ environment: JSONValue) -> String {
        TextLayout.block([
            ("environment", environment.text("name")),
            ("active version", environment.text("active_version")),
            ("id", environment.text("id")),
            ("created", TextLayout.time(environment.string("created_at"))),
        ])
    }

    // MARK: Keys

    /// A Key's environments as `production, staging`.
    static func keyEnvironments(_ key: JSONValue) -> String {
        let names = (key["environments"]?.items ?? []).map(\.displayText)
        return names.isEmpty ? "-" : names.joined(separator: ",")
    }

    /// A Key as a block (without its secret).
    static func key(_ key: JSONValue) -> String {
        TextLayout.block([
            ("key", key.text("name")),
            ("id", key.text("id")),
            ("kind", key.text("kind")),
            ("environments", Self.keyEnvironments(key)),
            ("rate limit", key.text("rate_limit")),
            ("expires", TextLayout.time(key.string("expires_at"))),
            ("revoked", TextLayout.time(key.string("revoked_at"))),
            ("created", TextLayout.time(key.string("created_at"))),
        ])
    }

    /// A list of Keys as a table.
    static func keys(_ list: JSONValue) -> String {
        guard !list.items.isEmpty else { return "No keys." }
        return TextLayout.table(
            ["ID", "KIND", "NAME", "ENVIRONMENTS", "RATE LIMIT", "EXPIRES", "REVOKED", "CREATED"],
            list.items.map { key in
                [
                    key.text("id"), key.text("kind"), key.text("name"), Self.keyEnvironments(key),
                    key.text("rate_limit"), TextLayout.time(key.string("expires_at")),
                    TextLayout.time(key.string("revoked_at")), TextLayout.time(key.string("created_at")),
                ]
            }
        )
    }

    // MARK: Deployments

    /// A deployment's status as `verified`, `pending` or `failed: <reason>`.
    static func status(_ deployment: JSONValue) -> String {
        guard let status = deployment["status"] else { return "-" }
        if case .string(let state) = status { return state }
        let state = status.text("state")
        if let reason = status.string("reason"), !reason.isEmpty { return "\(state): \(reason)" }
        return state
    }

    /// Who created something, from an actor object `{kind, id, name}`.
    static func actor(_ actor: JSONValue?) -> String {
        guard let actor, actor != .null else { return "-" }
        let name = actor.string("name") ?? actor.string("id") ?? "-"
        switch actor.string("kind") {
        case "deploy_key": return "deploy key \(name)"
        case "serving_key": return "serving key \(name)"
        case "system": return "system"
        default: return name
        }
    }

    /// A Deployment as a block.
    static func deployment(_ deployment: JSONValue) -> String {
        var pairs: [(String, String)] = [
            (
                "deployment",
                "\(deployment.text("model")) \(deployment.text("environment")) version \(deployment.text("version"))"
            ),
            ("status", Self.status(deployment)),
            ("active", deployment.text("is_active")),
            ("summary", deployment.text("summary")),
            ("description", deployment.text("description")),
            ("format", deployment.text("format")),
        ]
        if let artifact = deployment["artifact"], artifact != .null {
            let size = artifact.int("size").map(TextLayout.bytes) ?? "-"
            pairs.append(("artifact", "sha256:\(artifact.text("sha256")) (\(size))"))
        }
        if let from = deployment["promoted_from"], from != .null {
            pairs.append(("promoted from", "\(from.text("environment")) version \(from.text("version"))"))
        } else if let id = deployment.string("promoted_from_id") {
            pairs.append(("promoted from", "deployment \(id)"))
        }
        pairs.append(("id", deployment.text("id")))
        pairs.append(("created", TextLayout.time(deployment.string("created_at"))))
        pairs.append(("created by", Self.actor(deployment["created_by"])))
        return TextLayout.block(pairs)
    }

    /// A list of Deployments as a table; the environment column is left out when all share one environment.
    static func deployments(_ list: JSONValue, showEnvironment: Bool) -> String {
        guard !list.items.isEmpty else { return "No deployments." }
        let headers = ["VERSION", "STATUS", "ACTIVE", "SUMMARY", "CREATED"]
        return TextLayout.table(
            showEnvironment ? ["ENVIRONMENT"] + headers : headers,
            list.items.map { deployment in
                let cells = [
                    deployment.text("version"), Self.status(deployment), deployment.text("is_active"),
                    deployment.text("summary"), TextLayout.time(deployment.string("created_at")),
                ]
                return showEnvironment ? [deployment.text("environment")] + cells : cells
            }
        )
    }

    /// The answer of activate and rollback: `{environment, previous_version, active}`.
    static func activation(_ answer: JSONValue, model: ModelReference, verb: String) -> String {
        let active = answer["active"] ?? .null
        let environment = answer.string("environment") ?? active.text("environment")
        let previous =
            answer.int("previous_version").map { "was version \($0)" } ?? "no version was active before"
        return "\(verb) \(model) \(environment) version \(active.text("version")) (\(previous))."
    }

    // MARK: Activity

    /// `2 → 3`, `→ 3`, or `-`.
    static func change(_ event: JSONValue) -> String {
        let from = event.int("from_version")
        let to = event.int("to_version")
        switch (from, to) {
        case (let from?, let to?): return "\(from) → \(to)"
        case (nil, let to?): return "→ \(to)"
        case (let from?, nil): return "\(from) →"
        case (nil, nil): return "-"
        }
    }

    /// A list of ActivityEvents as a table, newest first as the server sends them.
    static func activity(_ list: JSONValue) -> String {
        guard !list.items.isEmpty else { return "No activity." }
        return TextLayout.table(
            ["AT", "ACTOR", "ACTION", "ENVIRONMENT", "VERSIONS", "DETAIL"],
            list.items.map { event in
                [
                    TextLayout.time(event.string("at")), Self.actor(event["actor"]), event.text("action"),
                    event.text("environment"), Self.change(event), event.text("detail"),
                ]
            }
        )
    }

    /// The answer of the `live` route: `{environment, at, version, deployment}`.
    static func live(_ answer: JSONValue, model: ModelReference) -> String {
        let environment = answer.text("environment")
        let at = TextLayout.time(answer.string("at"))
        guard let version = answer.int("version") else {
            return "No version of \(model) was live in \(environment) at \(at) UTC."
        }
        var line = "\(model) \(environment) at \(at) UTC: version \(version)"
        if let summary = answer["deployment"]?.string("summary"), !summary.isEmpty { line += " (\(summary))" }
        return line
    }

    // MARK: Users

    /// A User as a block.
    static func user(_ user: JSONValue) -> String {
        TextLayout.block([
            ("username", user.text("username")),
            ("display name", user.text("display_name")),
            ("email", user.text("email")),
            ("admin", user.text("is_admin")),
            ("id", user.text("id")),
            ("created", TextLayout.time(user.string("created_at"))),
        ])
    }
}
