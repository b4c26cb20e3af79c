import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SlipwayRegistry

/// Reading requests and writing responses the same way on every route.
package enum Wire {
    /// The largest JSON body accepted on management routes.
    package static let maximumJSONBody = 1 << 20

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamp.format(date))
        }
        return encoder
    }()

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "expected an RFC 3339 time such as 2026-01-31T12:00:00Z"
                )
            }
            return date
        }
        return decoder
    }

    /// A JSON response.
    package static func json(
        _ value: some Encodable,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) throws
        -> Response
    {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        let data = try self.encoder.encode(value)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A JSON array response with `X-Total-Count` and an RFC 8288 `Link` header.
    static func page<Item: Sendable, DTO: Encodable>(
        _ page: Page<Item>,
        request: Request,
        map: (Item) throws -> DTO
    ) throws -> Response {
        var headers: HTTPFields = [:]
        headers[HTTPField.Name("X-Total-Count")!] = String(page.total)
        let last = page.lastPage
        let current = page.request.page
        var links: [String] = []
        func link(_ number: Int, _ relation: String) {
            var items = (request.uri.queryParameters.map { (String($0.key), String($0.value)) })
                .filter { $0.0 != "page" && $0.0 != "per_page" }
            items.append(("page", String(number)))
            items.append(("per_page", String(page.request.size)))
            let query = items.map { "\(self.escape($0.0))=\(self.escape($0.1))" }.joined(separator: "&")
            links.append("<\(request.uri.path)?\(query)>; rel=\"\(relation)\"")
        }
        link(1, "first")
        if current > 1 { link(min(current - 1, last), "prev") }
        if current < last { link(current + 1, "next") }
        link(last, "last")
        headers[HTTPField.Name("Link")!] = links.joined(separator: ", ")
        return try self.json(page.items.map(map), headers: headers)
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+;")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// The `page` and `per_page` query parameters.
    static func pageRequest(_ request: Request) throws -> PageRequest {
        let page = try self.integer(request, "page") ?? 1
        let size = try self.integer(request, "per_page") ?? 50
        return try PageRequest(page: page, size: size)
    }

    /// An integer query parameter.
    package static func integer(_ request: Request, _ name: String) throws -> Int? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Int(text) else { throw APIError.invalid(name, "\(name) must be an integer, got '\(text)'") }
        return value
    }

    /// A time query parameter.
    package static func time(_ request: Request, _ name: String) throws -> Date? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        guard let value = Timestamp.parse(text) else {
            throw APIError.invalid(name, "\(name) must be an RFC 3339 time such as 2026-01-31T12:00:00Z, got '\(text)'")
        }
        return value
    }

    /// A Boolean query parameter (`true`/`false`).
    static func boolean(_ request: Request, _ name: String) throws -> Bool? {
        guard let text = request.uri.queryParameters.get(name) else { return nil }
        switch text.lowercased() {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.invalid(name, "\(name) must be true or false, got '\(text)'")
        }
    }

    /// Decodes a JSON object body strictly: unknown fields, wrong types and malformed JSON are 400s naming the field.
    ///
    /// - Returns: the value and the set of top-level keys that were present (to tell `null` from absent).
    package static func decode<T: Decodable>(
        _ type: T.Type,
        from request: inout Request,
        allowed: Set<String>
    ) async throws
        -> (T, Set<String>)
    {
        let contentType = request.headers[.contentType] ?? ""
        if !contentType.isEmpty && !contentType.lowercased().hasPrefix("application/json") {
            throw APIError(
                .unsupportedMediaType,
                code: "unsupported_media_type",
                detail: "the body must be application/json, got \(contentType)"
            )
        }
        let buffer = try await request.collectBody(upTo: self.maximumJSONBody)
        let data = Data(buffer.readableBytesView)
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data.isEmpty ? Data("{}".utf8) : data)
        } catch {
            throw APIError.invalid("body", "the body is not valid JSON")
        }
        guard let dictionary = object as? [String: Any] else {
            throw APIError.invalid("body", "the body must be a JSON object")
        }
        if let unknown = dictionary.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError.invalid(
                unknown,
                "'\(unknown)' is not a field of this request; expected one of: \(allowed.sorted().joined(separator: ", "))"
            )
        }
        do {
            return (
                try self.decoder().decode(T.self, from: data.isEmpty ? Data("{}".utf8) : data), Set(dictionary.keys)
            )
        } catch let error as DecodingError {
            if case .dataCorrupted(let context) = error, context.codingPath.isEmpty,
                let key = dictionary.keys.sorted().first(where: { self.isFractional(dictionary[$0]) })
            {
                // Foundation reports a fractional number given for an integer field as invalid JSON without a path.
                throw APIError.invalid(key, "\(key) must be an integer")
            }
            throw self.describe(error)
        }
    }

    static func isFractional(_ value: Any?) -> Bool {
        guard let number = value as? NSNumber, !(value is Bool) else { return false }
        let double = number.doubleValue
        return double.isFinite && double != double.rounded()
    }

    static func path(_ codingPath: [any CodingKey]) -> String {
        var result = ""
        for key in codingPath {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                let name = self.snakeCase(key.stringValue)
                result += result.isEmpty ? name : ".\(name)"
            }
        }
        return result.isEmpty ? "body" : result
    }

    static func snakeCase(_ name: String) -> String {
        var result = ""
        for character in name {
            if character.isUppercase {
                result += "_" + character.lowercased()
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func describe(_ error: DecodingError) -> APIError {
        switch error {
        case .typeMismatch(let type, let context):
            let field = self.path(context.codingPath)
            return .invalid(field, "\(field) must be \(self.describe(type))")
        case .valueNotFound(let type, let context):
            let field = self.path(context.codingPath)
            return .invalid(field, "\(field) must be \(self.describe(type)), not null")
        case .keyNotFound(let key, let context):
            let field = self.path(context.codingPath + [key])
            return .invalid(field, "\(field) is required")
        case .dataCorrupted(let context):
            let field = self.path(context.codingPath)
            return .invalid(field, "\(field) is invalid: \(context.debugDescription)")
        @unknown default:
            return .invalid("body", "the body does not match this request's fields")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.contains("Bool") { return "true or false" }
        if name.contains("Int") { return "an integer" }
        if name.contains("Double") { return "a number" }
        if name.contains("String") { return "a string" }
        if name.contains("Array") { return "an array" }
        if name.contains("Dictionary") { return "an object" }
        return "a valid value"
    }
}
