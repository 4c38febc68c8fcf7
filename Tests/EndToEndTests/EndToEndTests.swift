import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

/// reshapr-ctrl + reshapr-sync + reshapr-gateway, as real processes on 127.0.0.1.
@Suite struct EndToEndTests {
    struct HTTP {
        let client: TestClient
        var token = ""
        var session = ""

        func call(_ method: HTTPRequest.Method, _ path: String, _ body: JSONValue? = nil, mcp: Bool = false) async throws -> (HTTPResponse.Status, JSONValue, HTTPFields) {
            var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
            if !token.isEmpty { headers[.authorization] = "Bearer \(token)" }
            if mcp, !session.isEmpty {
                headers[HTTPField.Name("Mcp-Session-Id")!] = session
                headers[HTTPField.Name("MCP-Protocol-Version")!] = "2025-06-18"
            }
            let response = try await client.execute(.init(path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0.serialized()) }))
            let text = String(buffer: response.body ?? ByteBuffer())
            return (response.status, text.isEmpty ? .null : ((try? JSONParser.parse(text)) ?? .string(text)), response.headers)
        }
    }

    static func port(_ line: String) -> Int? {
        line.split(whereSeparator: { $0 == ":" || $0 == "=" }).last.flatMap { Int($0.prefix { $0.isNumber }) }
    }

    func startControlPlane(database: String, grpcPort: Int = 0, extra: [String] = ["--insecure-plaintext-secrets"]) async throws -> (ChildProcess, grpc: Int, rest: Int) {
        let ctrl = try ChildProcess(
            Repository.builtProduct("reshapr-ctrl"),
            ["--host", "127.0.0.1", "--grpc-port", "\(grpcPort)", "--http-port", "0", "--database", database, "--organization", "acme"] + extra,
            environment: ["RESHAPR_ADMIN_PASSWORD": "correct horse"])
        let grpcLine = try await ctrl.waitForStderr(containing: "gRPC listening")
        let restLine = try await ctrl.waitForStderr(containing: "REST API listening")
        guard let grpc = Self.port(grpcLine), let rest = Self.port(restLine) else { throw CocoaError(.coderReadCorrupt) }
        return (ctrl, grpc, rest)
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<1000 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    @Test func aChangeOnTheControlPlaneIsServedByTheGateway() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let database = dir.path + "/ctrl.sqlite"
        try dir.mkdir("config")
        let configDir = dir.path + "/config"

        // The control plane, and its catalogue through the REST API.
        var (ctrl, grpcPort, restPort) = try await startControlPlane(database: database)
        defer { ctrl.terminate() }
        var rest = HTTP(client: TestClient(host: "127.0.0.1", port: restPort))
        rest.client.connect()
        rest.token = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"]).1["token"]?.stringValue ?? ""
        let apiToken = try await rest.call(.post, "/api/v1/api-tokens", ["name": "e2e", "validityDays": 7]).1["token"]?.stringValue ?? ""
        let spec = try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8)
        let service = try await rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "openapi.yaml", "content": .string(spec)]]]).1
        let plan = try await rest.call(.post, "/api/v1/configuration-plans", ["name": "petstore", "serviceId": service["id"] ?? .null, "backend": ["mock": true]]).1
        let group = try await rest.call(.get, "/api/v1/gateway-groups").1[0]?["id"] ?? .null
        let exposition = try await rest.call(.post, "/api/v1/expositions", ["configurationId": plan["id"] ?? .null, "gatewayGroupId": group]).1

        // The gateway on an empty directory, and the sync writing it.
        let gateway = try ChildProcess(Repository.builtProduct("reshapr-gateway"), ["--config-dir", configDir, "--host", "127.0.0.1", "--port", "0"])
        defer { gateway.terminate() }
        let gatewayPort = try #require(Self.port(try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")))
        let syncEnvironment = [
            "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
            "RESHAPR_GATEWAY_ID": "e2e-gateway", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr", "RESHAPR_GATEWAY_FQDNS": "127.0.0.1:\(gatewayPort)",
        ]
        let sync = try ChildProcess(Repository.builtProduct("reshapr-sync"), ["--config-dir", configDir, "--heartbeat-interval", "1"], environment: syncEnvironment)
        defer { sync.terminate() }

        var mcp = HTTP(client: TestClient(host: "127.0.0.1", port: gatewayPort))
        mcp.client.connect()
        let path = "/mcp/acme/swagger-petstore/1.0.0"
        /// The names of the endpoint's tools; nil while it is not served.
        func toolNames() async throws -> [String]? {
            var client = mcp
            if client.session.isEmpty {
                let (status, _, headers) = try await client.call(.post, path, ["jsonrpc": "2.0", "id": 0, "method": "initialize", "params": ["protocolVersion": "2025-06-18"]])
                guard status == .ok else { return nil }
                client.session = headers[HTTPField.Name("Mcp-Session-Id")!] ?? ""
                mcp.session = client.session
            }
            let (status, body, _) = try await client.call(.post, path, ["jsonrpc": "2.0", "id": 1, "method": "tools/list"], mcp: true)
            if status == .notFound { mcp.session = "" }
            return body["result"]?["tools"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        }
        func toolCount() async throws -> Int { try await toolNames()?.count ?? -1 }

        // The endpoint appears.
        #expect(try await eventually { try await toolCount() == 9 }, "\(sync.stderr)\n\(gateway.stderr)")
        let expositions = try await rest.call(.get, "/api/v1/expositions").1
        let expositionID = expositions[0]?["id"]?.stringValue ?? ""
        #expect(expositions[0]?["name"] == "swagger-petstore-1.0.0-petstore")
        let paths = [path, "/mcp/acme/swagger-petstore-1.0.0-petstore", "/mcp/\(expositionID)"]
        #expect(expositions[0]?["endpoints"] == .array(paths.map { .string("http://127.0.0.1:\(gatewayPort)\($0)") }))
        // Every path the control plane lists is one the gateway serves.
        for alias in paths.dropFirst() {
            let (status, _, _) = try await mcp.call(.post, alias, ["jsonrpc": "2.0", "id": 0, "method": "initialize", "params": ["protocolVersion": "2025-06-18"]])
            #expect(status == .ok, "\(alias)")
        }

        // A change of the plan changes the tool list.
        _ = try await rest.call(.put, "/api/v1/configuration-plans/\(plan["id"]?.stringValue ?? "")", ["backend": ["mock": true], "tools": ["exclude": ["uploadFile"]]])
        #expect(try await eventually { try await toolCount() == 8 })

        // An attached CustomTools file is pushed too: the custom tool replaces its original;
        // deleting the artifact brings the original back.
        let customTools = """
            apiVersion: reshapr.io/v1alpha1
            kind: CustomTools
            service: {name: swagger-petstore, version: 1.0.0}
            customTools:
              petById:
                tool: getPetById
                description: The pet with this id.
                input: {type: object, properties: {id: {type: integer}}, required: [id]}
                arguments: {petId: '${id}'}
            """
        let (attachStatus, attached, _) = try await rest.call(
            .post, "/api/v1/services/\(service["id"]?.stringValue ?? "")/artifacts", ["fileName": "custom-tools.yaml", "content": .string(customTools)])
        #expect(attachStatus == .ok, "\(attached)")
        #expect(try await eventually { try await toolNames().map { $0.contains("petById") && !$0.contains("getPetById") } ?? false }, "\(gateway.stderr)")
        _ = try await rest.call(.delete, "/api/v1/artifacts/\(attached["id"]?.stringValue ?? "")")
        #expect(try await eventually { try await toolNames().map { $0.contains("getPetById") && !$0.contains("petById") } ?? false })

        // So is a Prompts file: the endpoint starts serving prompts, and stops when it goes.
        let prompts = """
            apiVersion: reshapr.io/v1alpha1
            kind: Prompts
            service: {name: swagger-petstore, version: 1.0.0}
            prompts:
              summary: {result: 'Describe pet ${id}.', arguments: [{name: id, required: true}]}
            """
        let (promptsStatus, promptsArtifact, _) = try await rest.call(
            .post, "/api/v1/services/\(service["id"]?.stringValue ?? "")/artifacts", ["fileName": "prompts.yaml", "content": .string(prompts)])
        #expect(promptsStatus == .ok, "\(promptsArtifact)")
        #expect(promptsArtifact["type"] == "RESHAPR_PROMPTS")
        func prompt() async throws -> JSONValue? {
            _ = try await toolNames()
            let message: JSONValue = ["jsonrpc": "2.0", "id": 2, "method": "prompts/get", "params": ["name": "summary", "arguments": ["id": "3"]]]
            return try await mcp.call(.post, path, message, mcp: true).1["result"]?["messages"]?[0]?["content"]?["text"]
        }
        #expect(try await eventually { try await prompt() == "Describe pet 3." }, "\(gateway.stderr)")
        _ = try await rest.call(.delete, "/api/v1/artifacts/\(promptsArtifact["id"]?.stringValue ?? "")")
        #expect(try await eventually { try await prompt() == nil })

        // Deleting the exposition removes the endpoint.
        _ = try await rest.call(.delete, "/api/v1/expositions/\(exposition["id"]?.stringValue ?? "")")
        #expect(try await eventually { try await toolCount() == -1 })
        _ = try await rest.call(.post, "/api/v1/expositions", ["configurationId": plan["id"] ?? .null, "gatewayGroupId": group])
        #expect(try await eventually { try await toolCount() == 8 })

        // The control plane goes away: the gateway keeps serving, the sync says so.
        try await rest.client.shutdown()
        ctrl.terminate()
        #expect(try await ctrl.waitForExit() == 0)
        #expect(try await eventually {
            let status = try await mcp.call(.get, "/status").1
            return status["sync"]?["state"] == "unsynchronized"
        })
        #expect(try await toolCount() == 8)

        // It comes back on the same port and database: the sync registers again.
        (ctrl, grpcPort, restPort) = try await startControlPlane(database: database, grpcPort: grpcPort)
        #expect(try await eventually {
            let status = try await mcp.call(.get, "/status").1
            return status["sync"]?["state"] == "synchronized"
        }, "\(sync.stderr)")
        rest = HTTP(client: TestClient(host: "127.0.0.1", port: restPort))
        rest.client.connect()
        rest.token = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"]).1["token"]?.stringValue ?? ""
        #expect(try await rest.call(.get, "/api/v1/gateways").1[0]?["gatewayId"] == "e2e-gateway")

        // The sync stops: it sends its termination notice, the control plane drops the gateway at once.
        sync.terminate()
        #expect(try await sync.waitForExit() == 0)
        #expect(try await rest.call(.get, "/api/v1/gateways").1 == [])
        try await rest.client.shutdown()
        try await mcp.client.shutdown()
    }

    @Test func onceWritesTheSnapshotAndLeaves() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (ctrl, grpcPort, restPort) = try await startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        var rest = HTTP(client: TestClient(host: "127.0.0.1", port: restPort))
        rest.client.connect()
        rest.token = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"]).1["token"]?.stringValue ?? ""
        let apiToken = try await rest.call(.post, "/api/v1/api-tokens", ["name": "mirror", "validityDays": 1]).1["token"]?.stringValue ?? ""
        let spec = try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8)
        let service = try await rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "openapi.yaml", "content": .string(spec)]]]).1
        let plan = try await rest.call(.post, "/api/v1/configuration-plans", ["name": "petstore", "serviceId": service["id"] ?? .null, "backend": ["mock": true]]).1
        let group = try await rest.call(.get, "/api/v1/gateway-groups").1[0]?["id"] ?? .null
        _ = try await rest.call(.post, "/api/v1/expositions", ["configurationId": plan["id"] ?? .null, "gatewayGroupId": group])
        let environment = [
            "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
            "RESHAPR_GATEWAY_ID": "mirror", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
        ]
        let once = try await ChildProcess.run(Repository.builtProduct("reshapr-sync"), ["--config-dir", dir.path + "/mirror", "--once"], environment: environment)
        #expect(once.status == 0, "\(once.stderr)")
        let validate = try await ChildProcess.run(Repository.builtProduct("reshapr-gateway"), ["validate", dir.path + "/mirror"])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("/mcp/acme/swagger-petstore/1.0.0"))
        #expect(try await rest.call(.get, "/api/v1/gateways").1 == [], "the mirror said goodbye")
        try await rest.client.shutdown()
        ctrl.terminate()
        _ = try await ctrl.waitForExit()
    }

    @Test func aBadTokenOrSettingStopsTheSyncWithAClearMessage() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (ctrl, grpcPort, _) = try await startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        let binary = Repository.builtProduct("reshapr-sync")
        var environment = [
            "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true",
            "RESHAPR_CTRL_TOKEN": "rsh_0000000000000_" + String(repeating: "0", count: 64), "RESHAPR_GATEWAY_ID": "gw",
        ]
        let refused = try await ChildProcess.run(binary, ["--config-dir", dir.path + "/config"], environment: environment)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the control plane refused the registration: the API token is not valid"))
        environment["RESHAPR_GATEWAY_LABELS"] = "env"
        let malformed = try await ChildProcess.run(binary, ["--config-dir", dir.path + "/config"], environment: environment)
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("RESHAPR_GATEWAY_LABELS: expected key=value pairs"))
        ctrl.terminate()
        _ = try await ctrl.waitForExit()
    }
}
