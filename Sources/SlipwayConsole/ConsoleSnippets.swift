import Foundation

/// Code that calls a model's prediction endpoint, in the languages the API docs page shows.
enum ConsoleSnippets {
    /// `(language, code)` pairs for one endpoint and request body (JSON text).
    static func all(
        endpoint: String,
        baseURL: String,
        model: String,
        environment: String,
        body: String
    ) -> [(String, String)] {
        let compact = Self.compact(body)
        let quoted = Self.quoted(compact)
        let rows = Self.rowsLiteral(body)
        return [
            (
                "curl",
                """
                curl -X POST '\(endpoint)' \\
                  -H "X-Serving-Key: $SLIPWAY_SERVING_KEY" \\
                  -H 'Content-Type: application/json' \\
                  -d '\(compact.replacingOccurrences(of: "'", with: "'\\''"))'
                """
            ),
            (
                "Python (Slipway SDK)",
                """
                import os
                from slipway import Client

                client = Client("\(model)", environment="\(environment)",
                                serving_key=os.environ["SLIPWAY_SERVING_KEY"], base_url="\(baseURL)")
                print(client.predict(\(rows)))
                """
            ),
            (
                "Python (requests)",
                """
                import json, os
                import requests

                response = requests.post(
                    "\(endpoint)",
                    headers={"X-Serving-Key": os.environ["SLIPWAY_SERVING_KEY"]},
                    json=json.loads(\(quoted)),
                    timeout=30,
                )
                response.raise_for_status()
                print(response.json()["predictions"])
                """
            ),
            (
                "JavaScript (fetch)",
                """
                const response = await fetch("\(endpoint)", {
                  method: "POST",
                  headers: { "X-Serving-Key": process.env.SLIPWAY_SERVING_KEY, "Content-Type": "application/json" },
                  body: \(quoted),
                });
                if (!response.ok) throw new Error(await response.text());
                console.log((await response.json()).predictions);
                """
            ),
            (
                "Swift (URLSession)",
                """
                import Foundation

                var request = URLRequest(url: URL(string: "\(endpoint)")!)
                request.httpMethod = "POST"
                request.setValue(ProcessInfo.processInfo.environment["SLIPWAY_SERVING_KEY"], forHTTPHeaderField: "X-Serving-Key")
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(\(quoted).utf8)
                let (data, _) = try await URLSession.shared.data(for: request)
                print(String(decoding: data, as: UTF8.self))
                """
            ),
            (
                "Go",
                """
                package main

                import (
                \t"fmt"
                \t"io"
                \t"net/http"
                \t"os"
                \t"strings"
                )

                func main() {
                \tbody := strings.NewReader(\(quoted))
                \treq, _ := http.NewRequest("POST", "\(endpoint)", body)
                \treq.Header.Set("X-Serving-Key", os.Getenv("SLIPWAY_SERVING_KEY"))
                \treq.Header.Set("Content-Type", "application/json")
                \tresp, err := http.DefaultClient.Do(req)
                \tif err != nil {
                \t\tpanic(err)
                \t}
                \tdefer resp.Body.Close()
                \tanswer, _ := io.ReadAll(resp.Body)
                \tfmt.Println(resp.Status, string(answer))
                }
                """
            ),
            (
                "Ruby",
                """
                require "net/http"
                require "uri"

                uri = URI("\(endpoint)")
                request = Net::HTTP::Post.new(uri, "Content-Type" => "application/json",
                                              "X-Serving-Key" => ENV.fetch("SLIPWAY_SERVING_KEY"))
                request.body = '\(compact.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'
                response = Net::HTTP.start(uri.host, uri.port, use_ssl: uri.scheme == "https") { |http| http.request(request) }
                puts response.body
                """
            ),
            (
                "Java",
                """
                import java.net.URI;
                import java.net.http.HttpClient;
                import java.net.http.HttpRequest;
                import java.net.http.HttpResponse;

                public class Predict {
                    public static void main(String[] args) throws Exception {
                        HttpRequest request = HttpRequest.newBuilder(URI.create("\(endpoint)"))
                            .header("X-Serving-Key", System.getenv("SLIPWAY_SERVING_KEY"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString(\(quoted)))
                            .build();
                        HttpResponse<String> response = HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
                        System.out.println(response.body());
                    }
                }
                """
            ),
        ]
    }

    /// JSON text on one line.
    static func compact(_ json: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)),
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else { return json }
        return String(decoding: data, as: UTF8.self)
    }

    /// A double-quoted string literal holding `text` (valid in Python, JavaScript, Swift, Go and Java).
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\t": result += "\\t"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    /// The rows of a request body as a Python literal for the SDK (`[[5.1, 3.5]]` or `[{"a": 1}]`).
    static func rowsLiteral(_ body: String) -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            return "[]"
        }
        let rows = object["ndarray"] ?? object["features"] ?? []
        let text = Self.compact(
            String(
                decoding: (try? JSONSerialization.data(withJSONObject: rows, options: [.sortedKeys]))
                    ?? Data("[]".utf8),
                as: UTF8.self
            )
        )
        return text.replacingOccurrences(of: "true", with: "True")
            .replacingOccurrences(of: "false", with: "False")
            .replacingOccurrences(of: "null", with: "None")
    }
}
