import Foundation
import SlipwayRegistry

/// An OpenAPI 3.1 document for one model's prediction endpoint in one environment, derived from the schema of
/// the deployment that describes it (the active one, else the newest).
enum ModelOpenAPI {
    /// The document as JSON bytes.
    static func document(model: Model, environment: String, deployment: Deployment?, serverURL: String) -> [UInt8] {
        let features = Console.features(deployment?.schema)
        var properties: [String: Any] = [:]
        var positional: [[String: Any]] = []
        for feature in features {
            let schema = Self.schema(for: feature["schema"] as? [String: Any] ?? [:])
            properties[feature["name"] as? String ?? ""] = schema
            positional.append(schema)
        }
        let row: [String: Any] =
            positional.isEmpty
            ? ["type": "array", "items": [:] as [String: Any]]
            : [
                "type": "array", "prefixItems": positional, "minItems": positional.count,
                "maxItems": positional.count,
            ]
        let featureRow: [String: Any] =
            properties.isEmpty
            ? ["type": "object"]
            : ["type": "object", "properties": properties, "additionalProperties": false]
        var example: Any = ["ndarray": [[] as [Any]]]
        if let text = deployment.map({ Console.sampleBody($0.samples, schema: $0.schema, form: nil) }),
            let parsed = try? JSONSerialization.jsonObject(with: Data(text.utf8))
        {
            example = parsed
        }
        let path = "/v1/\(model.owner)/\(model.name)/predict/"
        let error: [String: Any] = ["$ref": "#/components/schemas/Error"]
        let servingKey: [String: Any] = ["servingKey": [] as [String]]
        let security: [[String: Any]] =
            model.isPublic && model.allowsAnonymousPredictions ? [servingKey, [:]] : [servingKey]
        let parameters: [[String: Any]] = [
            Self.query("environment", ["type": "string", "default": environment]),
            Self.query("version", ["type": "integer", "minimum": 0, "maximum": 2000]),
            Self.query("order", ["type": "string", "enum": ["asc", "desc"]]),
            Self.query("limit", ["type": "integer", "minimum": -1, "maximum": 2000]),
            Self.query("threshold", ["type": "number", "minimum": 0, "maximum": 1]),
        ]
        let bodyProperties: [String: Any] = [
            "ndarray": ["type": "array", "items": row] as [String: Any],
            "features": ["oneOf": [featureRow, ["type": "array", "items": featureRow] as [String: Any]]],
            "context": ["type": "object"],
        ]
        let bodySchema: [String: Any] = [
            "type": "object", "properties": bodyProperties, "additionalProperties": false,
        ]
        let requestBody: [String: Any] = [
            "required": true,
            "content": ["application/json": ["schema": bodySchema, "example": example] as [String: Any]],
        ]
        let answerProperties: [String: Any] = [
            "request_id": ["type": "string"], "environment": ["type": "string"],
            "version": ["type": "integer"], "predictions": ["type": "array"],
        ]
        let answerSchema: [String: Any] = [
            "type": "object", "required": ["request_id", "environment", "version", "predictions"],
            "properties": answerProperties,
        ]
        let responses: [String: Any] = [
            "200": Self.response("The predictions: one entry per row (the row's own entry for one row)", answerSchema),
            "400": Self.response("Invalid input: the detail names the field", error),
            "401": Self.response("No or an unknown serving key", error),
            "403": Self.response("The key is not valid for this model or environment", error),
            "404": Self.response("No such model, environment or version", error),
            "429": Self.response("The serving key's rate limit was reached", error),
        ]
        let operation: [String: Any] = [
            "operationId": "predict", "summary": "Predict with \(model.fullName) in \(environment)",
            "security": security, "parameters": parameters, "requestBody": requestBody, "responses": responses,
        ]
        let errorFields: [String: Any] = [
            "code": ["type": "string"], "detail": ["type": "string"], "field": ["type": "string"],
        ]
        let errorSchema: [String: Any] = [
            "type": "object",
            "properties": ["error": ["type": "object", "properties": errorFields] as [String: Any]],
        ]
        let components: [String: Any] = [
            "securitySchemes": [
                "servingKey": ["type": "apiKey", "in": "header", "name": "X-Serving-Key"]
            ] as [String: Any],
            "schemas": ["Error": errorSchema],
        ]
        let info: [String: Any] = [
            "title": "\(model.fullName) predictions (\(environment))",
            "version": deployment.map { String($0.version) } ?? "0",
            "description": model.metadata.description,
        ]
        let document: [String: Any] = [
            "openapi": "3.1.0", "info": info, "servers": [["url": serverURL]],
            "paths": [path: ["post": operation]], "components": components,
        ]
        let data =
            (try? JSONSerialization.data(
                withJSONObject: document,
                options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            )) ?? Data("{}".utf8)
        return Array(data)
    }

    /// The JSON Schema of one feature from its Slipway rules.
    static func schema(for rules: [String: Any]) -> [String: Any] {
        var schema: [String: Any] = [:]
        switch rules["type"] as? String {
        case "float", "number": schema["type"] = "number"
        case "integer": schema["type"] = "integer"
        case "string": schema["type"] = "string"
        case "boolean": schema["type"] = "boolean"
        default: break
        }
        if let minimum = rules["min"] { schema["minimum"] = minimum }
        if let maximum = rules["max"] { schema["maximum"] = maximum }
        if let minimum = rules["minlength"] { schema["minLength"] = minimum }
        if let maximum = rules["maxlength"] { schema["maxLength"] = maximum }
        if let allowed = rules["allowed"] { schema["enum"] = allowed }
        if let help = rules["help"] { schema["description"] = help }
        return schema
    }

    static func query(_ name: String, _ schema: [String: Any]) -> [String: Any] {
        ["name": name, "in": "query", "required": false, "schema": schema]
    }

    static func response(_ description: String, _ schema: [String: Any]) -> [String: Any] {
        ["description": description, "content": ["application/json": ["schema": schema]]]
    }
}
