import Foundation
import HTTPTypes
import Hummingbird
import SlipwayAPI
import SlipwayRegistry

extension Console {
    // MARK: Models

    func modelsPage(_ request: Request, _ visitor: Visitor) async throws -> Response {
        let parameters = request.uri.queryParameters
        let query = (parameters.get("q") ?? "").trimmingCharacters(in: .whitespaces)
        let visibility = parameters.get("visibility") ?? ""
        let isPublic: Bool? =
            switch visibility {
            case "public": true
            case "private": false
            case "": nil
            default: throw APIError.invalid("visibility", "visibility must be public or private, got '\(visibility)'")
            }
        let number = try Self.pageNumber(parameters.get("page"))
        let page = try await self.registry.listModels(
            isPublic: isPublic,
            search: query.isEmpty ? nil : query,
            page: PageRequest(page: number, size: 25),
            by: visitor.principal
        )
        let models: [[String: Any]] = page.items.map { model -> [String: Any] in
            [
                "path": Self.path(model), "fullName": model.fullName,
                "visibility": model.isPublic ? "public" : "private",
                "description": model.metadata.description, "updated": Self.date(model.updatedAt),
            ]
        }
        let base = "/models?q=\(ConsoleHTTP.escape(query))&visibility=\(ConsoleHTTP.escape(visibility))&page="
        var data: [String: Any] = [
            "models": models, "hasModels": !models.isEmpty, "total": page.total, "query": query,
            "anyVisibility": isPublic == nil, "onlyPublic": isPublic == true, "onlyPrivate": isPublic == false,
        ]
        if number > 1 { data["previous"] = base + String(number - 1) }
        if number < page.lastPage { data["next"] = base + String(number + 1) }
        return self.respond("models", data, title: "Models", visitor: visitor)
    }

    func createModel(_ visitor: Visitor, _ form: [String: [String]]) async throws -> Response {
        let owner = Self.field(form, "owner")
        let name = Self.field(form, "name")
        let description = form["description"]?.first ?? ""
        let model = try await self.registry.createModel(
            ModelInput(
                owner: owner,
                name: name,
                isPublic: form["public"]?.first == "yes",
                metadata: ModelMetadata(description: description)
            ),
            by: visitor.principal
        )
        try await self.sessions.setFlash(id: visitor.sessionID, "Created \(model.fullName).")
        return ConsoleHTTP.redirect(to: Self.path(model))
    }

    // MARK: One model

    func model(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Model {
        try await self.registry.model(
            owner: context.parameters.require("owner"),
            name: context.parameters.require("name"),
            by: visitor.principal
        )
    }

    func modelPage(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.model(context, visitor)
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        let metadata = model.metadata
        let links: [[String: Any]] = [
            ("Homepage", metadata.homepageURL), ("Source", metadata.sourceURL), ("Dataset", metadata.datasetURL),
            ("Licence", metadata.licenseURL),
        ].compactMap { label, url -> [String: Any]? in
            guard let url, !url.isEmpty else { return nil }
            return ["label": label, "url": url, "safe": Self.isWebLink(url)]
        }
        let card = model.card
        let sections: [[String: Any]] = [
            ("Intended use", card.intendedUse), ("Factors", card.factors), ("Metrics", card.metrics),
            ("Evaluation data", card.evaluationData), ("Training data", card.trainingData),
            ("Quantitative analyses", card.quantitativeAnalyses),
            ("Ethical considerations", card.ethicalConsiderations),
            ("Caveats and recommendations", card.caveatsAndRecommendations),
        ].filter { !$0.1.isEmpty }.map { ["title": $0.0, "text": $0.1] }
        var data: [String: Any] = [
            "fullName": model.fullName, "owner": model.owner, "visibility": model.isPublic ? "public" : "private",
            "description": metadata.description, "topics": metadata.topics, "links": links,
            "anonymous": model.allowsAnonymousPredictions ? "allowed" : "not allowed",
            "created": Self.date(model.createdAt), "updated": Self.date(model.updatedAt), "card": sections,
            "environments": environments.map { environment -> [String: Any] in
                var row: [String: Any] = [
                    "name": environment.name, "path": Self.path(model, environment: environment.name),
                    "created": Self.date(environment.createdAt),
                    "monitoringPath": Self.path(model)
                        + "/monitoring?environment=\(ConsoleHTTP.escape(environment.name))",
                ]
                if let version = environment.activeVersion {
                    row["active"] = version
                    row["activePath"] = Self.path(model, environment: environment.name) + "/deployments/\(version)"
                }
                return row
            },
        ]
        if let metric = model.keyMetric { data["keyMetric"] = "\(metric.name) (\(metric.direction.rawValue))" }
        data["trends"] = try await self.keyMetricTrends(model, environments: environments)
        return self.respond("model", data, title: model.fullName, visitor: visitor, model: model, tab: "Overview")
    }

    /// Whether a link is safe to make clickable (http or https only: never `javascript:`).
    static func isWebLink(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    // MARK: Deployments

    func environmentPage(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let name = try context.parameters.require("environment")
        let environment = try await self.registry.environment(
            owner: model.owner,
            name: model.name,
            environment: name,
            by: visitor.principal
        )
        let number = try Self.pageNumber(request.uri.queryParameters.get("page"))
        let page = try await self.registry.listDeployments(
            owner: model.owner,
            name: model.name,
            environment: name,
            page: PageRequest(page: number, size: 25),
            by: visitor.principal
        )
        let access = try await self.registry.access(to: model, for: visitor.principal)
        let base = Self.path(model, environment: name)
        let rows: [[String: Any]] = page.items.map { deployment -> [String: Any] in
            let isActive = deployment.version == environment.activeVersion
            let isOlder = environment.activeVersion.map { deployment.version < $0 } ?? false
            let verb: ConsoleRelease = isOlder ? .rollback : .activate
            return [
                "version": deployment.version, "path": "\(base)/deployments/\(deployment.version)",
                "isActive": isActive, "status": deployment.status.rawValue,
                "verification": Self.verificationText(deployment), "summary": deployment.summary,
                "deployedBy": deployment.createdBy.name, "created": Self.date(deployment.createdAt),
                "canDeploy": access.canDeploy(to: name),
                "canActivate": deployment.status == .verified && !isActive,
                "activateLabel": isOlder ? "Roll back" : "Activate",
                "activatePath": "\(base)/\(verb.rawValue)?version=\(deployment.version)",
                "promotePath": "\(base)/promote?version=\(deployment.version)",
            ]
        }
        var data: [String: Any] = [
            "fullName": model.fullName, "environment": name, "deployments": rows, "trafficPath": "\(base)/traffic",
        ]
        if let active = environment.activeVersion { data["active"] = active }
        if number > 1 { data["previous"] = "\(base)?page=\(number - 1)" }
        if number < page.lastPage { data["next"] = "\(base)?page=\(number + 1)" }
        return self.respond(
            "environment",
            data,
            title: "\(model.fullName) · \(name)",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    static func verificationText(_ deployment: Deployment) -> String {
        switch deployment.status {
        case .pending: "waiting for verification"
        case .verified: "verified " + Self.date(deployment.verifiedAt)
        case .failed: "failed: " + (deployment.statusReason ?? "no reason given")
        }
    }

    func confirmPage(
        _ verb: ConsoleRelease,
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let name = try context.parameters.require("environment")
        let version = try Self.version(request.uri.queryParameters.get("version"))
        let (deployment, environment) = try await self.registry.deployment(
            owner: model.owner,
            name: model.name,
            environment: name,
            version: version,
            by: visitor.principal
        )
        let base = Self.path(model, environment: name)
        var data: [String: Any] = [
            "version": version, "action": "\(base)/\(verb.rawValue)", "back": base,
        ]
        let current = environment.activeVersion.map { "version \($0)" } ?? "no version"
        switch verb {
        case .activate:
            data["heading"] = "Activate version \(version)?"
            data["question"] =
                "Version \(version) (\(deployment.summary)) will serve every prediction in \(name) instead of \(current)."
            data["button"] = "Activate version \(version)"
        case .rollback:
            data["heading"] = "Roll back to version \(version)?"
            data["question"] =
                "Version \(version) (\(deployment.summary)) will serve every prediction in \(name) again, instead of \(current)."
            data["button"] = "Roll back to version \(version)"
        case .promote:
            let environments = try await self.registry.environments(
                owner: model.owner,
                name: model.name,
                by: visitor.principal
            )
            let targets = environments.map(\.name).filter { $0 != name }
            data["heading"] = "Promote version \(version) of \(name)?"
            data["question"] =
                "A copy of version \(version) (\(deployment.summary)) becomes the next version of the environment you choose; it is not activated there."
            data["button"] = "Promote"
            data["promote"] = true
            data["targets"] = targets
        }
        return self.respond(
            "confirm",
            data,
            title: data["heading"] as? String ?? "Confirm",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    func release(
        _ verb: ConsoleRelease,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let environment = try context.parameters.require("environment")
        let version = try Self.version(form["version"]?.first)
        let message: String
        let destination: String
        switch verb {
        case .activate, .rollback:
            let activation = try await self.registry.activate(
                owner: owner,
                name: name,
                environment: environment,
                version: version,
                isRollback: verb == .rollback,
                by: visitor.principal
            )
            message =
                verb == .rollback
                ? "Rolled back \(environment) to version \(version)."
                : "Version \(version) is now active in \(environment)."
            destination = environment
            _ = activation
        case .promote:
            let target = Self.field(form, "to")
            let summary = form["summary"]?.first.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
            let copy = try await self.registry.promote(
                owner: owner,
                name: name,
                from: environment,
                version: version,
                to: target,
                summary: summary,
                by: visitor.principal
            )
            message = "Promoted version \(version) of \(environment) to \(target) as version \(copy.version)."
            destination = target
        }
        try await self.sessions.setFlash(id: visitor.sessionID, message)
        return ConsoleHTTP.redirect(
            to:
                "/models/\(ConsoleHTTP.escape(owner))/\(ConsoleHTTP.escape(name))/environments/\(ConsoleHTTP.escape(destination))"
        )
    }

    func deploymentPage(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.model(context, visitor)
        let name = try context.parameters.require("environment")
        let version = try Self.version(context.parameters.get("version"))
        let (deployment, _) = try await self.registry.deployment(
            owner: model.owner,
            name: model.name,
            environment: name,
            version: version,
            by: visitor.principal
        )
        let origin = try await self.registry.promotedFrom(deployment)
        var latency = "not measured"
        if let report = deployment.verification,
            let object = try? JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any],
            let total = object["total_latency_us"] as? Int
        {
            latency = "\(total) µs for all samples"
        }
        let sections: [[String: Any]] = [
            ("Schema", deployment.schema), ("Samples", deployment.samples), ("Classes", deployment.classes),
            ("Context", deployment.context), ("Parameters", deployment.params),
            ("Verification outputs", deployment.verification),
        ].map { ["title": $0.0, "json": Self.pretty($0.1) ?? ""] }
        var data: [String: Any] = [
            "fullName": model.fullName, "environment": name, "version": version,
            "status": deployment.status.rawValue, "reason": deployment.statusReason ?? "",
            "summary": deployment.summary, "description": deployment.description,
            "deployedBy": "\(deployment.createdBy.name) (\(deployment.createdBy.kind.rawValue))",
            "created": Self.date(deployment.createdAt), "verified": Self.date(deployment.verifiedAt),
            "latency": latency, "digest": deployment.artifactDigest, "size": deployment.artifactSize,
            "format": deployment.format, "sections": sections,
        ]
        if let origin { data["promotedFrom"] = "\(origin.environmentName) version \(origin.version)" }
        return self.respond(
            "deployment",
            data,
            title: "\(model.fullName) · \(name) · \(version)",
            visitor: visitor,
            model: model,
            tab: "Overview"
        )
    }

    // MARK: Keys

    func keysPage(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        issued: IssuedSecret<AccessKey>?
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let keys = try await self.registry.listKeys(owner: model.owner, name: model.name, by: visitor.principal)
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        let now = Date()
        let rows: [[String: Any]] = keys.map { key -> [String: Any] in
            let state =
                key.revokedAt != nil
                ? "revoked \(Self.date(key.revokedAt))"
                : (key.isUsable(at: now) ? "active" : "expired")
            return [
                "name": key.name, "kind": key.kind.rawValue, "environments": key.environments.joined(separator: ", "),
                "rateLimit": key.rateLimit.map { "\($0)/s" } ?? "none", "expires": Self.date(key.expiresAt),
                "created": Self.date(key.createdAt), "createdBy": key.createdBy.name, "state": state,
                "revoked": key.revokedAt != nil,
                "revokePath": "\(Self.path(model))/keys/\(ConsoleHTTP.escape(key.id))/revoke",
                "csrf": visitor.session.csrfToken,
            ]
        }
        var data: [String: Any] = [
            "fullName": model.fullName, "path": Self.path(model), "keys": rows,
            "environments": environments.map(\.name),
        ]
        if let issued {
            data["issued"] = ["kind": issued.value.kind.rawValue, "name": issued.value.name, "secret": issued.secret]
        }
        return self.respond(
            "keys",
            data,
            title: "Keys of \(model.fullName)",
            visitor: visitor,
            model: model,
            tab: "Keys",
            status: issued == nil ? .ok : .created
        )
    }

    func createKey(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let kindText = Self.field(form, "kind")
        guard let kind = AccessKey.Kind(rawValue: kindText) else {
            throw APIError.invalid("kind", "kind must be serving or deploy, got '\(kindText)'")
        }
        var rateLimit: Int?
        let rateText = Self.field(form, "rate_limit")
        if !rateText.isEmpty {
            guard let rate = Int(rateText) else {
                throw APIError.invalid("rate_limit", "rate_limit must be a whole number of predictions per second")
            }
            rateLimit = rate
        }
        var expiresAt: Date?
        let expiresText = Self.field(form, "expires")
        if !expiresText.isEmpty {
            guard let day = Self.day(expiresText) else {
                throw APIError.invalid("expires", "expires must be a date like 2027-01-31, got '\(expiresText)'")
            }
            expiresAt = day
        }
        let issued = try await self.registry.createKey(
            owner: context.parameters.require("owner"),
            name: context.parameters.require("name"),
            kind: kind,
            keyName: Self.field(form, "name"),
            environments: form["environments"] ?? [],
            expiresAt: expiresAt,
            rateLimit: rateLimit,
            by: visitor.principal
        )
        return try await self.keysPage(context, visitor, issued: issued)
    }

    func revokeKey(_ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        let id = try context.parameters.require("key")
        try await self.registry.revokeKey(owner: owner, name: name, id: id, by: visitor.principal)
        try await self.sessions.setFlash(id: visitor.sessionID, "The key \(id) is revoked.")
        return ConsoleHTTP.redirect(to: "/models/\(ConsoleHTTP.escape(owner))/\(ConsoleHTTP.escape(name))/keys")
    }

    // MARK: Activity

    func activityPage(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let parameters = request.uri.queryParameters
        let environment = parameters.get("environment") ?? ""
        let actionText = parameters.get("action") ?? ""
        let sinceText = parameters.get("since") ?? ""
        let untilText = parameters.get("until") ?? ""
        var filter = ActivityFilter(environment: environment.isEmpty ? nil : environment)
        if !actionText.isEmpty {
            guard let action = ActivityEvent.Action(rawValue: actionText) else {
                throw APIError.invalid("action", "action '\(actionText)' is not an activity action")
            }
            filter.actions = [action]
        }
        if !sinceText.isEmpty {
            guard let since = Self.day(sinceText) else {
                throw APIError.invalid("since", "since must be a date like 2026-11-01, got '\(sinceText)'")
            }
            filter.since = since
        }
        if !untilText.isEmpty {
            guard let until = Self.day(untilText) else {
                throw APIError.invalid("until", "until must be a date like 2026-11-30, got '\(untilText)'")
            }
            filter.until = until.addingTimeInterval(86_400 - 0.000_001)
        }
        let number = try Self.pageNumber(parameters.get("page"))
        let page = try await self.registry.activity(
            owner: model.owner,
            name: model.name,
            filter: filter,
            page: PageRequest(page: number, size: 50),
            by: visitor.principal
        )
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        let events: [[String: Any]] = page.items.map { event -> [String: Any] in
            let versions: String =
                switch (event.fromVersion, event.toVersion) {
                case (let from?, let to?): "\(from) → \(to)"
                case (nil, let to?): "→ \(to)"
                case (let from?, nil): "\(from)"
                case (nil, nil): ""
                }
            return [
                "at": Self.date(event.at), "actor": "\(event.actor.name) (\(event.actor.kind.rawValue))",
                "action": event.action.rawValue, "environment": event.environment ?? "", "versions": versions,
                "detail": event.detail,
            ]
        }
        let base =
            "\(Self.path(model))/activity?environment=\(ConsoleHTTP.escape(environment))&action=\(ConsoleHTTP.escape(actionText))&since=\(ConsoleHTTP.escape(sinceText))&until=\(ConsoleHTTP.escape(untilText))&page="
        var data: [String: Any] = [
            "fullName": model.fullName, "path": Self.path(model), "events": events, "total": page.total,
            "since": sinceText, "until": untilText,
            "environments": environments.map { item -> [String: Any] in
                ["name": item.name, "selected": item.name == environment]
            },
            "actions": ActivityEvent.Action.allCases.map { item -> [String: Any] in
                ["name": item.rawValue, "selected": item.rawValue == actionText]
            },
        ]
        if number > 1 { data["previous"] = base + String(number - 1) }
        if number < page.lastPage { data["next"] = base + String(number + 1) }
        return self.respond(
            "activity",
            data,
            title: "Activity of \(model.fullName)",
            visitor: visitor,
            model: model,
            tab: "Activity"
        )
    }

    // MARK: Helpers

    static func field(_ form: [String: [String]], _ name: String) -> String {
        (form[name]?.first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func pageNumber(_ text: String?) throws -> Int {
        guard let text, !text.isEmpty else { return 1 }
        guard let number = Int(text), number >= 1, number <= 100_000 else {
            throw APIError.invalid("page", "page must be a whole number from 1, got '\(text)'")
        }
        return number
    }

    static func version(_ text: String?) throws -> Int {
        guard let text, let version = Int(text), version >= 1 else {
            throw APIError.invalid("version", "version must be a whole number from 1, got '\(text ?? "")'")
        }
        return version
    }

    /// A `YYYY-MM-DD` day at midnight UTC.
    static func day(_ text: String) -> Date? {
        let parts = text.split(separator: "-")
        guard parts.count == 3, let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1970...9999).contains(year), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let components = DateComponents(year: year, month: month, day: day)
        guard let date = calendar.date(from: components),
            calendar.component(.day, from: date) == day
        else { return nil }
        return date
    }

    /// JSON text pretty-printed with sorted keys, or the text as it is if it does not parse.
    static func pretty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]
            )
        else { return text }
        return String(decoding: data, as: UTF8.self)
    }
}
