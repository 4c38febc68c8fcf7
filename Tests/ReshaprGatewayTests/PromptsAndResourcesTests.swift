import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import Synchronization
import TestSupport
import Testing

@testable import ReshaprGateway

/// Prompts and resources (Prompts and Resources artifacts) in both protocol eras, with
/// templated resources read from a real HTTP backend that checks the plan's bearer token.
@Suite struct PromptsAndResourcesTests {
    static let prompts = """
        apiVersion: reshapr.io/v1alpha1
        kind: Prompts
        service: {name: pets, version: '1'}
        prompts:
          review:
            title: Review a pet
            description: Asks for a review of one pet.
            arguments:
              - {name: petId, description: The pet, required: true}
              - {name: tone, description: How to say it}
            result: 'Review pet ${petId} in a ${tone} tone. ${unknown} stays.'
          hello:
            result: Say hello.
        """

    static let resources = """
        apiVersion: reshapr.io/v1alpha1
        kind: Resources
        service: {name: pets, version: '1'}
        resources:
          file:///docs/guide.md:
            name: guide.md
            title: The guide
            mimeType: text/markdown
            annotations: {audience: [user], priority: 0.5}
            text: '# Guide'
          file:///docs/logo.png:
            name: logo
            mimeType: image/png
            blob: iVBORw0K
        resourceTemplates:
          file:///project/src/{path}?mode=raw:
            name: source
            description: A source file
            mimeType: text/plain
          file:///images/{name}.png:
            name: image
        """

    /// `/api/project/src/<path>` answers text, `/api/images/<name>.png` bytes; both only with
    /// the plan's bearer token, and both record what they were asked.
    final class Backend: Sendable {
        /// What the backend was asked, in order.
        final class Log: Sendable {
            let uris = Mutex<[String]>([])
        }
        let log = Log()

        func router() -> Router<BasicRequestContext> {
            let router = Router()
            router.get("/api/project/src/:path") { [log] request, context -> Response in
                log.uris.withLock { $0.append(request.uri.description) }
                guard request.headers[.authorization] == "Bearer static-bearer-token" else { return Response(status: .unauthorized) }
                let path = context.parameters.get("path") ?? ""
                if path == "gone.md" { return Response(status: .notFound) }
                if path == "broken.md" {
                    return Response(status: .internalServerError, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "disk on fire")))
                }
                let text = "contents of \(path), mode \(request.uri.queryParameters.get("mode") ?? "-")"
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8", .cacheControl: "public, max-age=30"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
            }
            router.get("/api/images/:file") { [log] request, _ -> Response in
                log.uris.withLock { $0.append(request.uri.description) }
                guard request.headers[.authorization] == "Bearer static-bearer-token" else { return Response(status: .unauthorized) }
                return Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: ByteBuffer(bytes: [0x89, 0x50, 0x4E, 0x47, 0xFF])))
            }
            return router
        }
    }

    static let plans = """
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: full}
        spec:
          service: {name: pets, version: '1'}
          backend: {endpoint: 'http://127.0.0.1:PORT/api', timeout: 10s}
          backendSecurity: {type: bearer, secretRef: {name: creds, key: token}}
        ---
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: some}
        spec:
          service: {name: pets, version: '1'}
          backend: {endpoint: 'http://127.0.0.1:PORT/api', timeout: 10s}
          prompts: {include: [hello]}
          resources: {exclude: ['file:///docs/logo.png', source]}
        ---
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: none}
        spec:
          service: {name: pets, version: '1'}
          backend: {endpoint: 'http://127.0.0.1:PORT/api', timeout: 10s}
          prompts: {include: [nothing]}
          resources: {include: [nothing]}
        """

    static func configuration(backendPort: Int) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("spec.yaml", ToolCallTests.spec)
        try dir.write("prompts.yaml", prompts)
        try dir.write("resources.yaml", resources)
        var documents = [
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: pets}
            spec:
              version: '1'
              type: REST
              artifacts:
                - {type: OPENAPI, path: spec.yaml}
                - {type: RESHAPR_PROMPTS, path: prompts.yaml}
                - {type: RESHAPR_RESOURCES, path: resources.yaml}
            """,
            "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: creds}\nspec: {data: {token: static-bearer-token}}",
            plans.replacingOccurrences(of: "PORT", with: "\(backendPort)"),
        ]
        for name in ["full", "some", "none"] {
            documents.append("apiVersion: reshapr.io/v1\nkind: Exposition\nmetadata: {name: \(name)}\nspec: {plan: \(name), path: /mcp/\(name)}")
        }
        try dir.write("all.yaml", documents.joined(separator: "\n---\n"))
        return dir
    }

    func withGateway(_ body: @Sendable (TestClient, Backend, Gateway, TemporaryDirectory) async throws -> Void) async throws {
        let backend = Backend()
        try await withServer(backend.router()) { port in
            let dir = try Self.configuration(backendPort: port)
            defer { dir.remove() }
            try await withRunningGateway(configDirectory: dir.path) { client, gateway in
                let problems = gateway.store.current.issues.filter { !$0.message.contains("\"nothing\"") }
                #expect(problems.isEmpty, "\(problems)")
                try await body(client, backend, gateway, dir)
            }
        }
    }

    /// A modern request's result (or error) on `path`.
    static func modern(_ client: TestClient, _ path: String, _ method: String, _ params: JSONObject = [:], name: String? = nil) async throws -> JSONValue {
        try json(try await ModernProtocolTests.post(client, path, ModernProtocolTests.message(method, params: params), ModernProtocolTests.headers(method, name: name)))
    }

    @Test func capabilitiesAppearOnlyWhereThereIsSomethingToServe() async throws {
        try await withGateway { client, _, _, _ in
            let full = try await Self.modern(client, "/mcp/full", "server/discover")["result"]?["capabilities"]
            #expect(full == ["tools": ["listChanged": true], "prompts": ["listChanged": true], "resources": ["listChanged": true]])
            var legacy = MCPTestClient(client, path: "/mcp/none")
            let initialized = try await legacy.initialize(version: "2025-11-25")
            #expect(initialized["result"]?["capabilities"] == ["tools": ["listChanged": true]])
            // Without the capability, the methods are not there (as before this feature).
            let missing = try await legacy.request("prompts/list")
            #expect(missing["error"]?["code"] == -32601)
            let none = try await Self.modern(client, "/mcp/none", "resources/list")
            #expect(none["error"]?["code"] == -32601)
        }
    }

    @Test func promptsAreListedAndRenderedWithTheirArguments() async throws {
        try await withGateway { client, _, _, _ in
            let list = try await Self.modern(client, "/mcp/full", "prompts/list")["result"]
            #expect(list?["prompts"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["hello", "review"])
            #expect(list?["ttlMs"] == 60_000)
            #expect(list?["cacheScope"] == "public")
            let review = list?["prompts"]?[1]
            #expect(review?["arguments"] == [["name": "petId", "description": "The pet", "required": true], ["name": "tone", "description": "How to say it", "required": false]])

            let got = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "review", "arguments": ["petId": "7", "tone": "warm"]], name: "review")
            #expect(got["result"]?["messages"] == [["role": "user", "content": ["type": "text", "text": "Review pet 7 in a warm tone. ${unknown} stays."]]])
            #expect(got["result"]?["description"] == "Asks for a review of one pet.")
            #expect(got["result"]?["resultType"] == "complete")

            let optionalLeftOut = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "review", "arguments": ["petId": "8"]], name: "review")
            #expect(optionalLeftOut["result"]?["messages"]?[0]?["content"]?["text"] == "Review pet 8 in a  tone. ${unknown} stays.")

            let missing = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "review", "arguments": ["tone": "dry"]], name: "review")
            #expect(missing["error"]?["code"] == -32602)
            #expect(missing["error"]?["message"] == "prompt review: missing required argument petId")

            let unknown = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "nope"], name: "nope")
            #expect(unknown["error"]?["code"] == -32602)
            #expect(unknown["error"]?["message"] == "Unknown prompt: nope")

            let notStrings = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "review", "arguments": ["petId": 7]], name: "review")
            #expect(notStrings["error"]?["code"] == -32602)

            // A plan selects its prompts.
            let some = try await Self.modern(client, "/mcp/some", "prompts/list")["result"]?["prompts"]
            #expect(some?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["hello"])
        }
    }

    @Test func staticResourcesAreListedAndReadAsTextOrBlob() async throws {
        try await withGateway { client, _, _, _ in
            let list = try await Self.modern(client, "/mcp/full", "resources/list")["result"]
            #expect(
                list?["resources"] == [
                    ["uri": "file:///docs/guide.md", "name": "guide.md", "title": "The guide", "mimeType": "text/markdown", "annotations": ["audience": ["user"], "priority": 0.5]],
                    ["uri": "file:///docs/logo.png", "name": "logo", "mimeType": "image/png"],
                ])
            let text = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///docs/guide.md"], name: "file:///docs/guide.md")["result"]
            #expect(text?["contents"] == [["uri": "file:///docs/guide.md", "mimeType": "text/markdown", "text": "# Guide"]])
            #expect(text?["ttlMs"] == 60_000)
            let blob = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///docs/logo.png"], name: "file:///docs/logo.png")["result"]
            #expect(blob?["contents"] == [["uri": "file:///docs/logo.png", "mimeType": "image/png", "blob": "iVBORw0K"]])

            // Unknown URIs: -32602 with the URI in 2026-07-28, -32002 in a legacy session.
            let unknown = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///nope"], name: "file:///nope")
            #expect(unknown["error"]?["code"] == -32602)
            #expect(unknown["error"]?["data"] == ["uri": "file:///nope"])
            var legacy = MCPTestClient(client, path: "/mcp/full")
            _ = try await legacy.initialize(version: "2025-11-25")
            let old = try await legacy.request("resources/read", ["uri": "file:///nope"])
            #expect(old["error"]?["code"] == -32002)
            #expect(old["error"]?["message"] == "Resource not found")
            #expect(try await legacy.request("resources/read", ["uri": "file:///docs/guide.md"])["result"]?["contents"]?[0]?["text"] == "# Guide")

            // The plan's selection, by URI and by name.
            let some = try await Self.modern(client, "/mcp/some", "resources/list")["result"]?["resources"]
            #expect(some?.arrayValue?.compactMap { $0["uri"]?.stringValue } == ["file:///docs/guide.md"])
            let templates = try await Self.modern(client, "/mcp/some", "resources/templates/list")["result"]?["resourceTemplates"]
            #expect(templates?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["image"])
        }
    }

    @Test func templatedResourcesAreReadFromTheBackendWithThePlansSecurity() async throws {
        try await withGateway { client, backend, _, _ in
            let templates = try await Self.modern(client, "/mcp/full", "resources/templates/list")["result"]
            #expect(
                templates?["resourceTemplates"] == [
                    ["uriTemplate": "file:///images/{name}.png", "name": "image"],
                    ["uriTemplate": "file:///project/src/{path}?mode=raw", "name": "source", "description": "A source file", "mimeType": "text/plain"],
                ])

            let uri = "file:///project/src/doc.md?mode=raw"
            let text = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": .string(uri)], name: uri)["result"]
            #expect(text?["contents"] == [["uri": .string(uri), "mimeType": "text/plain; charset=utf-8", "text": "contents of doc.md, mode raw"]])
            // The backend's max-age is the freshness hint.
            #expect(text?["ttlMs"] == 30_000)
            #expect(backend.log.uris.withLock { $0 } == ["/api/project/src/doc.md?mode=raw"])

            let image = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///images/cat.png"], name: "file:///images/cat.png")["result"]
            #expect(image?["contents"] == [["uri": "file:///images/cat.png", "mimeType": "image/png", "blob": .string(Data([0x89, 0x50, 0x4E, 0x47, 0xFF]).base64EncodedString())]])
            #expect(image?["ttlMs"] == 0)

            // Legacy sessions read them too.
            var legacy = MCPTestClient(client, path: "/mcp/full")
            _ = try await legacy.initialize(version: "2025-06-18")
            let encoded = try await legacy.request("resources/read", ["uri": "file:///project/src/a%20b.md?mode=raw"])
            #expect(encoded["result"]?["contents"]?[0]?["uri"] == "file:///project/src/a%20b.md?mode=raw", "\(encoded)")
            // The value goes to the backend as the URI carries it, percent-encoded.
            #expect(backend.log.uris.withLock { $0.last } == "/api/project/src/a%20b.md?mode=raw")

            // The backend's 404 is "not found"; other failures are internal errors that say why.
            let gone = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///project/src/gone.md?mode=raw"], name: "file:///project/src/gone.md?mode=raw")
            #expect(gone["error"]?["code"] == -32602)
            let broken = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": "file:///project/src/broken.md?mode=raw"], name: "file:///project/src/broken.md?mode=raw")
            #expect(broken["error"]?["code"] == -32603)
            #expect(broken["error"]?["message"]?.stringValue?.contains("500 Internal Server Error: disk on fire") == true, "\(broken)")
            // The endpoint without the bearer token is refused by the backend.
            let noToken = try await Self.modern(client, "/mcp/some", "resources/read", ["uri": "file:///images/cat.png"], name: "file:///images/cat.png")
            #expect(noToken["error"]?["message"]?.stringValue?.contains("401") == true, "\(noToken)")

            let metrics = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
            #expect(metrics.contains(#"reshapr_resource_reads_total{endpoint="/mcp/full",outcome="ok"} 3"#), "\(metrics)")
        }
    }

    @Test(arguments: [
        "file:///project/src/..?mode=raw", "file:///project/src/%2e%2E?mode=raw", "file:///project/src/a%2Fb?mode=raw",
        "file:///project/src/a%5Cb?mode=raw", "file:///project/src/.?mode=raw",
    ])
    func aVariableThatWouldLeaveItsSegmentIsRefused(uri: String) async throws {
        try await withGateway { client, backend, _, _ in
            let refused = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": .string(uri)], name: uri)
            #expect(refused["error"]?["code"] == -32602, "\(refused)")
            #expect(refused["error"]?["message"]?.stringValue?.contains("path") == true || refused["error"]?["message"]?.stringValue?.contains("slash") == true, "\(refused)")
            #expect(backend.log.uris.withLock { $0 }.isEmpty)
        }
    }

    @Test func urisThatMatchNoTemplateAreNotFound() async throws {
        try await withGateway { client, backend, _, _ in
            for uri in ["file:///project/src/a/b.md?mode=raw", "file:///project/src/doc.md", "file:///project/src/?mode=raw", "file:///images/cat.gif"] {
                let answer = try await Self.modern(client, "/mcp/full", "resources/read", ["uri": .string(uri)], name: uri)
                #expect(answer["error"]?["message"] == "Resource not found", "\(uri): \(answer)")
            }
            #expect(backend.log.uris.withLock { $0 }.isEmpty)
        }
    }

    @Test func statusAndTheStartupTableCountThem() async throws {
        try await withGateway { client, _, gateway, _ in
            let status = try json(try await client.get("/status"))
            let full = status["endpoints"]?.arrayValue?.first { $0["path"] == "/mcp/full" }
            #expect(full?["prompts"] == 2)
            #expect(full?["resources"] == 2)
            #expect(full?["resourceTemplates"] == 2)
            let table = SummaryTable.render(gateway.store.current.configuration, routing: gateway.store.current.routing)
            #expect(table.contains("PROMPTS  RESOURCES  TEMPLATES"), "\(table)")
            // The selectors that name nothing are warned about, naming the plan's field.
            let warnings = gateway.store.current.issues.filter { $0.message.contains("\"nothing\"") }
            #expect(warnings.count == 2)
            #expect(Set(warnings.map(\.path.description)) == ["spec.prompts", "spec.resources"], "\(warnings)")
        }
    }

    @Test func editsSendListChangedToSessionsAndSubscriptions() async throws {
        try await withGateway { client, _, _, dir in
            let port = try await client.getChannel().remoteAddress?.port ?? 0
            let listen = ModernProtocolTests.message(
                "subscriptions/listen", id: "s", params: ["notifications": ["toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true]])
            try await RawHTTPConnection.with(port: port) { connection in
                try await connection.post("/mcp/full", headers: ModernProtocolTests.rawHeaders("subscriptions/listen"), body: listen)
                try await connection.read { RawHTTPConnection.events(in: $0).count >= 1 }
                #expect(connection.events.first?["params"]?["notifications"] == ["toolsListChanged": true, "promptsListChanged": true, "resourcesListChanged": true])
                try dir.write("prompts.yaml", Self.prompts.replacingOccurrences(of: "Say hello.", with: "Say hi."))
                try await connection.read { RawHTTPConnection.events(in: $0).count >= 2 }
                #expect(connection.events.last?["method"] == "notifications/prompts/list_changed", "\(connection.events)")
            }
            let prompts = try await Self.modern(client, "/mcp/full", "prompts/get", ["name": "hello"], name: "hello")
            #expect(prompts["result"]?["messages"]?[0]?["content"]?["text"] == "Say hi.")
        }
    }
}
