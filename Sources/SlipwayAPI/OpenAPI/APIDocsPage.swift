import Foundation

/// The HTML reference at `/api/docs`, rendered on the server from the OpenAPI table: no JavaScript, no CDN.
enum APIDocsPage {
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func html() -> String {
        var rows = ""
        var currentTag = ""
        for operation in OpenAPIDocument.operations {
            if operation.tag != currentTag {
                currentTag = operation.tag
                rows += "<tr><th colspan=\"4\" id=\"\(escape(currentTag))\">\(escape(currentTag.capitalized))</th></tr>\n"
            }
            let query = operation.query.map { "<code>\(escape($0.0))</code>" }.joined(separator: " ")
            let body: String
            if let schema = operation.body {
                if let reference = schema["$ref"] as? String {
                    body = escape(String(reference.split(separator: "/").last ?? ""))
                } else if let properties = schema["properties"] as? [String: Any] {
                    let required = Set(schema["required"] as? [String] ?? [])
                    body = properties.keys.sorted().map { required.contains($0) ? "<code><b>\(escape($0))</b></code>" : "<code>\(escape($0))</code>" }
                        .joined(separator: " ")
                } else {
                    body = ""
                }
            } else {
                body = query
            }
            rows += """
                <tr><td class="m \(operation.method)">\(operation.method.uppercased())</td><td><code>\(escape(operation.path))</code></td>\
                <td>\(escape(operation.summary))\(operation.status != 200 ? " → \(operation.status)" : "")</td><td>\(body)</td></tr>\n
                """
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Slipway API reference</title>
            <style>
            body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1b1f24}
            table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #d8dee4;padding:.4rem;text-align:left;vertical-align:top}
            th{background:#f3f5f7;font-size:1.05rem}code{font-size:.9em}.m{font-weight:600;font-family:monospace}
            .get{color:#0969da}.post{color:#1a7f37}.patch,.put{color:#9a6700}.delete{color:#cf222e}
            </style></head><body>
            <h1>Slipway API reference</h1>
            <p>The machine-readable description is <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI 3.1).
            Authenticate with <code>Authorization: Bearer &lt;token or deploy key&gt;</code>; TeachableHub's
            <code>Token</code> and <code>Deploy-Key</code> schemes also work. Errors are
            <code>{"detail", "code", "field"}</code>. Lists take <code>page</code> and <code>per_page</code> and answer
            with <code>Link</code> and <code>X-Total-Count</code> headers. Bold body fields are required.</p>
            <table><thead><tr><th>method</th><th>path</th><th>what</th><th>body or query</th></tr></thead><tbody>
            \(rows)</tbody></table></body></html>
            """
    }
}
