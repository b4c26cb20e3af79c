import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

/// The web console behind a load balancer: a session started on one server works on the other (both read the
/// sessions from the shared PostgreSQL), and signing out on either ends it on both.
@Suite("Console sessions across servers", .serialized)
struct ConsoleClusterTests {
    /// A browser without redirects: the test reads each `Location` and `Set-Cookie` itself.
    struct Browser {
        let http: HTTPClient
        var session: String?

        struct Page {
            var status: Int
            var headers: HTTPHeaders
            var text: String
        }

        func send(
            _ method: HTTPMethod,
            _ url: String,
            form: [(String, String)]? = nil,
            cookie: String? = nil
        )
            async throws -> Page
        {
            var request = HTTPClientRequest(url: url)
            request.method = method
            let cookies = [cookie, self.session.map { "slipway_session=\($0)" }].compactMap { $0 }
            if !cookies.isEmpty { request.headers.add(name: "Cookie", value: cookies.joined(separator: "; ")) }
            if let form {
                let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
                let body = form.map { name, value in
                    "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
                }.joined(separator: "&")
                request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await self.http.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 8 << 20)
            return Page(status: Int(response.status.code), headers: response.headers, text: String(buffer: bytes))
        }

        static func csrf(in page: String) -> String? {
            guard let range = page.range(of: #"name="csrf" value=""#) else { return nil }
            let rest = page[range.upperBound...]
            return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
        }

        static func cookie(_ name: String, in page: Page) -> String? {
            for header in page.headers["Set-Cookie"] where header.hasPrefix("\(name)=") {
                return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
            }
            return nil
        }
    }

    @Test(.enabled(if: ZeroDowntimeTests.postgresURL != nil, "SLIPWAY_TEST_POSTGRES_URL is not set"))
    func aSessionStartedOnOneServerWorksOnTheOtherUntilSignedOut() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { _ = http.shutdown() }
        try await ZeroDowntimeTests.withTwoServers { _, nodes in
            var browser = Browser(http: http)
            let form = try await browser.send(.GET, "\(nodes[0].base)/signin")
            let csrf = try #require(Browser.csrf(in: form.text), "\(form.text)")
            let signIn = try #require(Browser.cookie("slipway_signin", in: form))
            let signedIn = try await browser.send(
                .POST,
                "\(nodes[0].base)/signin",
                form: [("csrf", csrf), ("token", ServerCluster.adminToken), ("next", "/models")],
                cookie: "slipway_signin=\(signIn)"
            )
            #expect(signedIn.status == 303, "\(signedIn.text)")
            let session = try #require(Browser.cookie("slipway_session", in: signedIn))
            browser.session = session

            // The other server knows the session: its pages and forms work.
            let other = try await browser.send(.GET, "\(nodes[1].base)/models")
            #expect(other.status == 200, "\(other.text)")
            #expect(other.text.contains("admin"))
            let otherCSRF = try #require(Browser.csrf(in: other.text))
            let created = try await browser.send(
                .POST,
                "\(nodes[1].base)/models",
                form: [("csrf", otherCSRF), ("owner", "admin"), ("name", "console-cluster")]
            )
            #expect(created.status == 303, "\(created.text)")
            // The message the action left is shown on the next page, whichever server renders it.
            let model = try await browser.send(.GET, "\(nodes[0].base)/models/admin/console-cluster")
            #expect(model.status == 200)
            #expect(model.text.contains("Created admin/console-cluster."), "\(model.text)")

            // Signing out on the second server ends the session on the first too.
            let signedOut = try await browser.send(.POST, "\(nodes[1].base)/signout", form: [("csrf", otherCSRF)])
            #expect(signedOut.status == 303)
            let after = try await browser.send(.GET, "\(nodes[0].base)/models")
            #expect(after.status == 303)
            #expect(after.headers.first(name: "Location")?.hasPrefix("/signin") == true)
        }
    }
}
