import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprSyncProtocol
import TestSupport
import Testing

@testable import ReshaprControlPlane

/// A REST client logged in as the administrator of `acme`.
struct RESTClient {
    let client: TestClient
    var token = ""

    func call(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil) async throws -> (HTTPResponse.Status, JSONValue) {
        var headers: HTTPFields = [.contentType: "application/json"]
        if !token.isEmpty { headers[.authorization] = "Bearer \(token)" }
        let response = try await client.execute(.init(path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0.serialized()) }))
        let text = String(buffer: response.body ?? ByteBuffer())
        return (response.status, text.isEmpty ? .null : try JSONParser.parse(text))
    }
}

func withREST(_ body: @Sendable (ControlPlane, SyncClient, RESTClient) async throws -> Void) async throws {
    try await withControlPlane { plane, sync, httpPort in
        try await plane.bootstrap(organization: "acme", username: "admin", password: "correct horse")
        let client = TestClient(host: "127.0.0.1", port: httpPort)
        client.connect()
        var rest = RESTClient(client: client)
        let (status, login) = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"])
        #expect(status == .ok)
        rest.token = login["token"]?.stringValue ?? ""
        do {
            try await body(plane, sync, rest)
        } catch {
            try? await client.shutdown()
            throw error
        }
        try await client.shutdown()
    }
}

@Suite struct RESTAPITests {
    @Test func loginIsRequired() async throws {
        try await withREST { _, _, rest in
            var anonymous = rest
            anonymous.token = ""
            let (status, body) = try await anonymous.call(.get, "/api/v1/gateway-groups")
            #expect(status == .unauthorized)
            #expect(body["error"] == "not logged in or session expired: run reshapr login")
            let (bad, badBody) = try await anonymous.call(.post, "/api/v1/login", ["username": "admin", "password": "wrong"])
            #expect(bad == .unauthorized)
            #expect(badBody["error"] == "wrong user name or password")
            #expect(try await rest.call(.post, "/api/v1/logout").0 == .noContent)
            #expect(try await rest.call(.get, "/api/v1/api-tokens").0 == .unauthorized)
        }
    }

    @Test func tokensAndGroups() async throws {
        try await withREST { _, _, rest in
            let (created, token) = try await rest.call(.post, "/api/v1/api-tokens", ["name": "gateways", "validityDays": 30])
            #expect(created == .ok)
            #expect(token["token"]?.stringValue?.hasPrefix("rsh_") == true)
            let (_, list) = try await rest.call(.get, "/api/v1/api-tokens")
            #expect(list[0]?["token"] == nil, "the token is shown once, at creation")
            #expect(try await rest.call(.post, "/api/v1/api-tokens", ["name": "long", "validityDays": 120]).1["error"] == "validity must be between 1 and 90 days, got 120")
            let id = token["id"]?.stringValue ?? ""
            #expect(try await rest.call(.post, "/api/v1/api-tokens/\(id)/renew", ["validityDays": 60]).0 == .ok)
            #expect(try await rest.call(.delete, "/api/v1/api-tokens/\(id)").1["revokedAt"] != nil)

            let (_, groups) = try await rest.call(.get, "/api/v1/gateway-groups")
            #expect(groups[0]?["name"] == "Default Gateway Group")
            #expect(groups[0]?["labels"] == ["env": "dev", "team": "reshapr"])
            let (status, group) = try await rest.call(.post, "/api/v1/gateway-groups", ["name": "qa", "labels": ["env": "qa"]])
            #expect(status == .ok)
            #expect(try await rest.call(.post, "/api/v1/gateway-groups", ["name": "qa", "labels": [:]]).0 == .conflict)
            #expect(try await rest.call(.delete, "/api/v1/gateway-groups/\(group["id"]?.stringValue ?? "")").0 == .noContent)
            #expect(try await rest.call(.delete, "/api/v1/gateway-groups/0000000000000").0 == .notFound)
        }
    }

    @Test func importConfigureExposeAndPushToTheGateway() async throws {
        try await withREST { plane, sync, rest in
            let spec = try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8)
            let (imported, service) = try await rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "openapi.yaml", "content": .string(spec)]]])
            #expect(imported == .ok)
            #expect(service["name"] == "swagger-petstore")
            #expect(service["version"] == "1.0.0")
            #expect(service["type"] == "REST")
            let (bad, badBody) = try await rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "x.yaml", "content": "hello: world"]]])
            #expect(bad == .badRequest)
            #expect(badBody["error"] == "artifacts[0]: x.yaml is not an OpenAPI, Swagger or GraphQL introspection document")

            let serviceID = service["id"] ?? .null
            let (invalid, invalidBody) = try await rest.call(.post, "/api/v1/configuration-plans", ["name": "p", "serviceId": serviceID, "backend": ["endpoint": "ftp://x"]])
            #expect(invalid == .badRequest)
            #expect(invalidBody["error"]?.stringValue?.hasPrefix("backend.endpoint: string \"ftp://x\" does not match the pattern") == true)
            let (_, plan) = try await rest.call(.post, "/api/v1/configuration-plans", ["name": "petstore", "serviceId": serviceID, "backend": ["mock": true]])

            // A gateway of the default group is watching.
            let org = try await plane.store.organization(named: "acme")
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let session = try await sync.register(registration("gw-1"), metadata: bearer(token)).sessionID
            let log = EventLog()
            let stream = watch(sync, session: session, token: token, into: log)
            _ = try await log.waitFor(1)

            let (_, groups) = try await rest.call(.get, "/api/v1/gateway-groups")
            let (created, exposition) = try await rest.call(.post, "/api/v1/expositions", ["configurationId": plan["id"] ?? .null, "gatewayGroupId": groups[0]?["id"] ?? .null])
            #expect(created == .ok)
            let events = try await log.waitFor(2)
            let files = Dictionary(uniqueKeysWithValues: (events.last?.change.upserts ?? []).map { ($0.path, $0) })
            #expect(files["plans/petstore.json"] != nil)
            #expect(files["services/swagger-petstore-1.0.0/openapi.yaml"]?.content == Data(spec.utf8))

            let (_, expositions) = try await rest.call(.get, "/api/v1/expositions")
            #expect(expositions[0]?["id"] == exposition["id"])
            #expect(expositions[0]?["endpoints"] == [
                "http://gw-1.example.internal/mcp/acme/swagger-petstore/1.0.0", "http://gw-1.example.internal/mcp/acme/swagger-petstore-1.0.0-petstore",
                .string("http://gw-1.example.internal/mcp/\(exposition["id"]?.stringValue ?? "")"),
            ])
            let (_, gateways) = try await rest.call(.get, "/api/v1/gateways")
            #expect(gateways[0]?["gatewayId"] == "gw-1")
            #expect(gateways[0]?["groups"] == ["Default Gateway Group"])
            #expect(gateways[0]?["watching"] == true)
            stream.cancel()
        }
    }
}

/// The reshapr-ctrl binary, restarted on the same database.
@Suite struct ControlPlaneBinaryTests {
    @Test func aSplitDescriptionIsCheckedAtImport() async throws {
        try await withREST { _, _, rest in
            let root = SplitSpec.files[0]
            let files: [JSONValue] = SplitSpec.files.dropFirst().map { ["path": .string(String($0.0.dropFirst(4))), "content": .string($0.1)] }
            func importing(_ files: [JSONValue]) async throws -> (HTTPResponse.Status, JSONValue) {
                try await rest.call(.post, "/api/v1/services", ["name": "split", "version": "1", "artifacts": [["fileName": "openapi.yaml", "content": .string(root.1)]], "files": .array(files)])
            }
            let missing = try await importing(files.filter { $0["path"] != "schemas/limits.yaml" })
            #expect(missing.0 == .badRequest)
            #expect(missing.1["error"]?.stringValue?.contains("parameters/common.yaml refers to schemas/limits.yaml, which cannot be read: it is not among the files sent") == true, "\(missing.1)")
            for path in ["../etc/passwd", "/abs.yaml", ".hidden/x.yaml", "a//b.yaml"] {
                let (status, body) = try await importing(files + [["path": .string(path), "content": "x: 1"]])
                #expect(status == .badRequest)
                #expect(body["error"]?.stringValue?.contains("files[7].path \(path) must be a relative path") == true, "\(body)")
            }
            let twice = try await importing(files + [files[0]])
            #expect(twice.1["error"]?.stringValue?.contains("is sent twice") == true, "\(twice.1)")
            let url = try await rest.call(.post, "/api/v1/services", ["url": "file:///etc/passwd"])
            #expect(url.1["error"] == "url must be an http or https URL, got file:///etc/passwd")
            let (status, service) = try await importing(files)
            #expect(status == .ok, "\(service)")
            let artifacts = try await rest.call(.get, "/api/v1/services/\(service["id"]?.stringValue ?? "")/artifacts").1
            #expect(artifacts.arrayValue?.filter { $0["type"] == "FILE" }.count == 7)
        }
    }

    @Test func dataAndLoginSurviveARestart() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let binary = Repository.builtProduct("reshapr-ctrl")
        let environment = ["RESHAPR_ADMIN_PASSWORD": "correct horse"]
        var sessionToken = ""
        for round in 0..<2 {
            let ctrl = try ChildProcess(binary, ["--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--database", dir.path + "/ctrl.sqlite", "--organization", "acme"], environment: environment)
            defer { ctrl.terminate() }
            let line = try await ctrl.waitForStderr(containing: "REST API listening")
            let port = try #require(line.split(separator: "=").last.flatMap { Int($0.prefix { $0.isNumber }) })
            let client = TestClient(host: "127.0.0.1", port: port)
            client.connect()
            var rest = RESTClient(client: client)
            if round == 0 {
                let (_, login) = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"])
                sessionToken = login["token"]?.stringValue ?? ""
                rest.token = sessionToken
                #expect(try await rest.call(.post, "/api/v1/gateway-groups", ["name": "qa", "labels": ["env": "qa"]]).0 == .ok)
            } else {
                rest.token = sessionToken
                let (status, groups) = try await rest.call(.get, "/api/v1/gateway-groups")
                #expect(status == .ok, "the CLI session survives the restart")
                #expect(groups.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Default Gateway Group", "qa"])
            }
            try await client.shutdown()
            ctrl.terminate()
            let status = try await ctrl.waitForExit()
            #expect(status == 0, "round \(round): exit \(status)\n\(ctrl.stderr)")
        }
    }
}
