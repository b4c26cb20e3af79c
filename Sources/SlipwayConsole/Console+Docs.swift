import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayAPI
import SlipwayRegistry

extension Console {
    // MARK: Generated API docs

    /// The environment a page is about: the query's, else `production`, else the first one.
    func chosenEnvironment(
        _ request: Request,
        _ model: Model,
        _ visitor: Visitor
    ) async throws -> (SlipwayRegistry.Environment?, [SlipwayRegistry.Environment]) {
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        if let wanted = request.uri.queryParameters.get("environment"), !wanted.isEmpty {
            guard let found = environments.first(where: { $0.name == wanted }) else {
                throw RegistryError.notFound("environment '\(wanted)' does not exist in \(model.fullName)")
            }
            return (found, environments)
        }
        return (environments.first { $0.name == "production" } ?? environments.first, environments)
    }

    /// The deployment whose schema and samples describe an environment: the active one, else the newest.
    func describingDeployment(
        _ model: Model,
        _ environment: SlipwayRegistry.Environment,
        _ visitor: Visitor
    ) async throws
        -> Deployment?
    {
        if let active = environment.activeVersion {
            return try await self.registry.deployment(
                owner: model.owner,
                name: model.name,
                environment: environment.name,
                version: active,
                by: visitor.principal
            ).0
        }
        return try await self.registry.listDeployments(
            owner: model.owner,
            name: model.name,
            environment: environment.name,
            page: PageRequest(page: 1, size: 1),
            by: visitor.principal
        ).items.first
    }

    /// The base URL clients reach this server at, as the browser did.
    static func baseURL(_ request: Request) -> String {
        let scheme = ConsoleHTTP.isHTTPS(request) ? "https" : "http"
        let host = request.head.authority ?? "localhost:8080"
        return "\(scheme)://\(host)"
    }

    func docsPage(_ request: Request, _ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.model(context, visitor)
        let (chosen, environments) = try await self.chosenEnvironment(request, model, visitor)
        guard let environment = chosen else {
            throw ConsoleFailure(.notFound, "\(model.fullName) has no environment yet.")
        }
        let deployment = try await self.describingDeployment(model, environment, visitor)
        let sample = Self.sampleBody(deployment?.samples, schema: deployment?.schema, form: nil)
        var response = "No active version answers in \(environment.name) yet."
        if let active = environment.activeVersion {
            do {
                let bytes = try await self.predict(
                    context,
                    visitor,
                    environment: environment.name,
                    version: active,
                    body: sample
                )
                response = Self.pretty(String(decoding: bytes, as: UTF8.self)) ?? ""
            } catch {
                let translated = ErrorMiddleware.translate(error, request: request, context: context)
                response = "\(translated.status.code) \(translated.code): \(translated.detail)"
            }
        }
        let base = Self.baseURL(request)
        let endpoint =
            "\(base)/v1/\(ConsoleHTTP.escape(model.owner))/\(ConsoleHTTP.escape(model.name))/predict/?environment=\(ConsoleHTTP.escape(environment.name))"
        let snippets = ConsoleSnippets.all(
            endpoint: endpoint,
            baseURL: base,
            model: model.fullName,
            environment: environment.name,
            body: Self.pretty(sample) ?? sample
        )
        var data: [String: Any] = [
            "fullName": model.fullName, "path": Self.path(model), "environment": environment.name,
            "environments": environments.map { item -> [String: Any] in
                ["name": item.name, "selected": item.id == environment.id]
            },
            "openAPIPath": "\(Self.path(model))/openapi.json?environment=\(ConsoleHTTP.escape(environment.name))",
            "endpoint": endpoint, "anonymous": model.isPublic && model.allowsAnonymousPredictions,
            "request": Self.pretty(sample) ?? sample, "response": response,
            "snippets": snippets.map { ["language": $0.0, "code": $0.1] },
        ]
        let features = Self.features(deployment?.schema)
        data["features"] = features
        data["hasFeatures"] = !features.isEmpty
        if let active = environment.activeVersion { data["active"] = active }
        return self.respond(
            "docs",
            data,
            title: "API docs for \(model.fullName)",
            visitor: visitor,
            model: model,
            tab: "Docs"
        )
    }

    /// Predicts with the signed-in person's rights through the prediction API's own code path.
    func predict(
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        environment: String,
        version: Int?,
        body: String
    ) async throws -> [UInt8] {
        let owner = try context.parameters.require("owner")
        let name = try context.parameters.require("name")
        var path =
            "/v1/\(ConsoleHTTP.escape(owner))/\(ConsoleHTTP.escape(name))/predict/?environment=\(ConsoleHTTP.escape(environment))"
        if let version { path += "&version=\(version)" }
        let head = HTTPRequest(
            method: .post,
            scheme: nil,
            authority: nil,
            path: path,
            headerFields: [.contentType: "application/json"]
        )
        let request = Request(head: head, body: RequestBody(buffer: ByteBuffer(string: body)))
        return try await self.predictions.predict(request, context: context, as: visitor.principal)
    }

    /// A one-row request body from a deployment's samples (`ndarray` unless `form` asks for `features`), or one
    /// built from the schema's features when there are no samples.
    static func sampleBody(_ samples: String?, schema: String?, form: String?) -> String {
        let parsed = samples.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let wantsFeatures = form == "features"
        if let parsed {
            if !wantsFeatures, let rows = parsed["ndarray"] as? [Any], let first = rows.first {
                return Self.json(["ndarray": [first]])
            }
            if let rows = parsed["features"] as? [Any], let first = rows.first {
                return Self.json(["features": [first]])
            }
            if let rows = parsed["ndarray"] as? [Any], let first = rows.first {
                return Self.json(["ndarray": [first]])
            }
        }
        let features = Self.features(schema)
        if !features.isEmpty {
            if wantsFeatures {
                var row: [String: Any] = [:]
                for feature in features { row[feature["name"] as? String ?? ""] = 0 }
                return Self.json(["features": [row]])
            }
            return Self.json(["ndarray": [features.map { _ in 0 }]])
        }
        return #"{"ndarray": [[]]}"#
    }

    static func json(_ object: Any) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The schema's features in positional order (the `ndarray` map), with their type, rules and help.
    static func features(_ schema: String?) -> [[String: Any]] {
        guard let schema,
            let object = try? JSONSerialization.jsonObject(with: Data(schema.utf8)) as? [String: Any],
            let features = object["features"] as? [String: Any]
        else { return [] }
        var order: [String] = []
        if let map = object["ndarray"] as? [Any], let first = map.first as? [Any] {
            order = first.compactMap { $0 as? String }
        }
        for name in features.keys.sorted() where !order.contains(name) { order.append(name) }
        return order.enumerated().compactMap { index, name in
            guard let rules = features[name] as? [String: Any] else { return nil }
            var text: [String] = []
            if let minimum = rules["min"] { text.append("min \(minimum)") }
            if let maximum = rules["max"] { text.append("max \(maximum)") }
            if let minimum = rules["minlength"] { text.append("min length \(minimum)") }
            if let maximum = rules["maxlength"] { text.append("max length \(maximum)") }
            if let allowed = rules["allowed"] as? [Any] {
                text.append("one of " + allowed.map { "\($0)" }.joined(separator: ", "))
            }
            return [
                "position": index, "name": name, "type": rules["type"] as? String ?? "any",
                "rules": text.joined(separator: "; "), "help": rules["help"] as? String ?? "",
                "schema": rules,
            ]
        }
    }

    // MARK: OpenAPI

    func openAPI(_ request: Request, _ context: SlipwayRequestContext, _ visitor: Visitor) async throws -> Response {
        let model = try await self.model(context, visitor)
        let (chosen, _) = try await self.chosenEnvironment(request, model, visitor)
        guard let environment = chosen else {
            throw ConsoleFailure(.notFound, "\(model.fullName) has no environment yet.")
        }
        let deployment = try await self.describingDeployment(model, environment, visitor)
        let document = ModelOpenAPI.document(
            model: model,
            environment: environment.name,
            deployment: deployment,
            serverURL: Self.baseURL(request)
        )
        var headers = ConsoleHTTP.pageHeaders(contentType: "application/json; charset=utf-8")
        headers[.contentDisposition] = "inline"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: document)))
    }

    // MARK: Playground

    /// What the last playground send answered.
    struct PlaygroundResult {
        var status: Int
        var body: String
        var latency: String
        var request: String
    }

    func playgroundPage(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        result: PlaygroundResult?,
        chosenEnvironment: String? = nil,
        chosenVersion: Int? = nil,
        form chosenForm: String? = nil
    ) async throws -> Response {
        let model = try await self.model(context, visitor)
        let environments = try await self.registry.environments(
            owner: model.owner,
            name: model.name,
            by: visitor.principal
        )
        let wanted = chosenEnvironment ?? request.uri.queryParameters.get("environment")
        var environment = environments.first { $0.name == "production" } ?? environments.first
        if let wanted, !wanted.isEmpty {
            guard let found = environments.first(where: { $0.name == wanted }) else {
                throw RegistryError.notFound("environment '\(wanted)' does not exist in \(model.fullName)")
            }
            environment = found
        }
        guard let environment else {
            throw ConsoleFailure(.notFound, "\(model.fullName) has no environment yet.")
        }
        let form = chosenForm ?? (request.uri.queryParameters.get("form") == "features" ? "features" : "ndarray")
        let verified = try await self.registry.listDeployments(
            owner: model.owner,
            name: model.name,
            environment: environment.name,
            status: .verified,
            page: PageRequest(page: 1, size: 100),
            by: visitor.principal
        ).items
        let selected = chosenVersion ?? environment.activeVersion ?? verified.first?.version
        let describing = verified.first { $0.version == selected } ?? verified.first
        let versions: [[String: Any]] = verified.map { deployment -> [String: Any] in
            let active = deployment.version == environment.activeVersion ? " (active)" : ""
            return [
                "version": deployment.version, "selected": deployment.version == selected,
                "label": "version \(deployment.version)\(active): \(deployment.summary)",
            ]
        }
        var data: [String: Any] = [
            "fullName": model.fullName, "path": Self.path(model), "environment": environment.name,
            "environments": environments.map { item -> [String: Any] in
                ["name": item.name, "selected": item.id == environment.id]
            },
            "form": form, "isNdarray": form == "ndarray", "versions": versions,
            "body": result?.request
                ?? (Self.pretty(Self.sampleBody(describing?.samples, schema: describing?.schema, form: form)) ?? ""),
            "response": result?.body ?? "Send a request to see the answer.",
        ]
        if let result {
            data["latency"] = result.latency
            data["status"] = result.status
        }
        return self.respond(
            "playground",
            data,
            title: "Playground for \(model.fullName)",
            visitor: visitor,
            model: model,
            tab: "Playground",
            status: result.map { HTTPResponse.Status(code: $0.status) } ?? .ok
        )
    }

    func playgroundSend(
        _ request: Request,
        _ context: SlipwayRequestContext,
        _ visitor: Visitor,
        _ form: [String: [String]]
    ) async throws -> Response {
        let environment = Self.field(form, "environment")
        let versionText = Self.field(form, "version")
        let version: Int? = try versionText.isEmpty ? nil : Self.version(versionText)
        let body = form["body"]?.first ?? ""
        let wantsJSON = request.headers[.accept]?.contains("application/json") ?? false
        let started = ContinuousClock.now
        var status = 200
        var answer: String
        do {
            let bytes = try await self.predict(context, visitor, environment: environment, version: version, body: body)
            answer = String(decoding: bytes, as: UTF8.self)
        } catch {
            let translated = ErrorMiddleware.translate(error, request: request, context: context)
            status = Int(translated.status.code)
            var object: [String: Any] = ["code": translated.code, "detail": translated.detail]
            if let field = translated.field { object["field"] = field }
            answer = Self.json(["error": object])
        }
        let elapsed = ContinuousClock.now - started
        let milliseconds =
            Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        if wantsJSON {
            var headers = ConsoleHTTP.pageHeaders(contentType: "application/json; charset=utf-8")
            headers[HTTPField.Name("Server-Timing")!] = "predict;dur=\(String(format: "%.2f", milliseconds))"
            return Response(
                status: HTTPResponse.Status(code: status),
                headers: headers,
                body: ResponseBody(byteBuffer: ByteBuffer(string: answer))
            )
        }
        return try await self.playgroundPage(
            request,
            context,
            visitor,
            result: PlaygroundResult(
                status: status,
                body: Self.pretty(answer) ?? answer,
                latency: String(format: "%.1f ms on the server", milliseconds),
                request: body
            ),
            chosenEnvironment: environment,
            chosenVersion: version,
            form: Self.field(form, "form") == "features" ? "features" : "ndarray"
        )
    }
}
