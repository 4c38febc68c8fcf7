import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

/// `reshapr config create --api-key`: the control plane generates the key, shows it once and
/// ships only its hash; the gateway behind its sync checks it; `renew-api-key` replaces it
/// everywhere. With `--audit-arguments`, the gateway writes an audit line per call, and the
/// control plane one per change and login.
@Suite struct GeneratedAPIKeyTests {
    @Test func aGeneratedKeyGuardsTheEndpointCallsAreAuditedAndRenewalRetiresTheOldKey() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.mkdir("config")
        let (ctrl, grpcPort, restPort) = try await EndToEndTests().startControlPlane(
            database: dir.path + "/ctrl.sqlite", extra: ["--insecure-plaintext-secrets", "--audit-log", dir.path + "/ctrl-audit.log"])
        defer { ctrl.terminate() }
        func reshapr(_ arguments: String..., input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(Repository.builtProduct("reshapr"), arguments, environment: ["RESHAPR_CLI_CONFIG": dir.path + "/cli.json"], input: input)
        }
        func id(_ output: String) -> String { String(output.split(separator: "\n").first?.split(separator: " ").last ?? "") }
        func key(_ output: String) -> String { String(output.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("rsk_") } ?? "") }
        #expect(try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "--password-stdin", input: "correct horse\n").status == 0)
        let service = try await reshapr("import", "-f", Repository.samples + "/petstore/openapi.yaml")
        let plan = try await reshapr("config", "create", id(service.stdout), "--name", "keyed", "--mock", "--api-key", "--audit-arguments")
        #expect(plan.status == 0, "\(plan.stderr)")
        let firstKey = key(plan.stdout)
        #expect(firstKey.count == 47, "rsk_ and 43 base64url characters: \(plan.stdout)")
        let group = try JSONParser.parse(try await reshapr("gateway-group", "list", "-o", "json").stdout)[0]?["id"]?.stringValue ?? ""
        #expect(try await reshapr("expo", "create", "--configuration", id(plan.stdout), "--gateway-group", group, "--name", "keyed").status == 0)
        let token = try await reshapr("api-token", "create", "gateways", "-v", "1")
        let apiToken = String(token.stdout.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("rsh_") } ?? "")

        let gateway = try ChildProcess(Repository.builtProduct("reshapr-gateway"), ["--config-dir", dir.path + "/config", "--host", "127.0.0.1", "--port", "0", "--audit-log", dir.path + "/gateway-audit.log"])
        defer { gateway.terminate() }
        let gatewayPort = try #require(EndToEndTests.port(try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")))
        let sync = try ChildProcess(
            Repository.builtProduct("reshapr-sync"), ["--config-dir", dir.path + "/config", "--heartbeat-interval", "1"],
            environment: [
                "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
                "RESHAPR_GATEWAY_ID": "gw", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
            ])
        defer { sync.terminate() }

        let client = TestClient(host: "127.0.0.1", port: gatewayPort)
        client.connect()
        /// The status of an `initialize` at the endpoint, with `key` in x-reshapr-key.
        func initialize(_ key: String?) async throws -> HTTPResponse.Status {
            var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
            if let key { headers[HTTPField.Name("x-reshapr-key")!] = key }
            let message = ["jsonrpc": "2.0", "id": 0, "method": "initialize", "params": ["protocolVersion": "2025-06-18"]] as JSONValue
            return try await client.execute(.init("/mcp/acme/keyed", method: .post, headers: headers, body: ByteBuffer(string: message.serialized()))).status
        }
        #expect(try await EndToEndTests().eventually { try await initialize(firstKey) == .ok }, "\(sync.stderr)\n\(gateway.stderr)")
        #expect(try await initialize(nil) == .unauthorized)
        #expect(try await initialize(firstKey + "x") == .unauthorized)

        // A tool call is audited: the client by a digest of its key, never the key.
        var headers: HTTPFields = [.contentType: "application/json", .accept: "application/json, text/event-stream"]
        headers[HTTPField.Name("x-reshapr-key")!] = firstKey
        let hello = ["jsonrpc": "2.0", "id": 0, "method": "initialize", "params": ["protocolVersion": "2025-06-18"]] as JSONValue
        let opened = try await client.execute(.init("/mcp/acme/keyed", method: .post, headers: headers, body: ByteBuffer(string: hello.serialized())))
        headers[HTTPField.Name("Mcp-Session-Id")!] = opened.headers[HTTPField.Name("Mcp-Session-Id")!] ?? ""
        headers[HTTPField.Name("MCP-Protocol-Version")!] = "2025-06-18"
        let call: JSONValue = ["jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": ["name": "getPetById", "arguments": ["petId": 7]]]
        let called = try await client.execute(.init("/mcp/acme/keyed", method: .post, headers: headers, body: ByteBuffer(string: call.serialized())))
        #expect(called.status == .ok, "\(String(buffer: called.body ?? ByteBuffer()))")
        let audited = try String(contentsOfFile: dir.path + "/gateway-audit.log", encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        let line = try #require(audited.last, "\(gateway.stderr)")
        #expect(line["tool"] == "getPetById" && line["endpoint"] == "/mcp/acme/swagger-petstore/1.0.0" && line["exposition"] == "acme/keyed", "\(line)")
        #expect(line["arguments"] == ["petId": 7])
        #expect(line["argumentsSha256"]?.stringValue?.count == 64)
        #expect(line["client"]?.stringValue?.hasPrefix("key:") == true)
        #expect(line["outcome"] == "ok")
        #expect(line["requestId"]?.stringValue == called.headers[HTTPField.Name("X-Request-Id")!])
        #expect(!(try String(contentsOfFile: dir.path + "/gateway-audit.log", encoding: .utf8)).contains(firstKey))

        // What the sync wrote holds the hash, never the key.
        let planFile = try String(contentsOfFile: dir.path + "/config/plans/keyed.json", encoding: .utf8)
        #expect(planFile.contains("\"keyHash\": \"sha256:"), "\(planFile)")
        let written = try FileManager.default.subpathsOfDirectory(atPath: dir.path + "/config").compactMap { try? String(contentsOfFile: dir.path + "/config/" + $0, encoding: .utf8) }
        #expect(!written.contains { $0.contains(firstKey) })

        // A new key: the old one stops working on the gateway, the new one works.
        let renewed = try await reshapr("config", "renew-api-key", id(plan.stdout))
        #expect(renewed.status == 0, "\(renewed.stderr)")
        let secondKey = key(renewed.stdout)
        #expect(!secondKey.isEmpty && secondKey != firstKey)
        #expect(try await EndToEndTests().eventually { try await initialize(firstKey) == .unauthorized })
        #expect(try await initialize(secondKey) == .ok)
        try await client.shutdown()

        // The control plane's audit: who changed what, and logins; never a key or a password.
        let changes = try String(contentsOfFile: dir.path + "/ctrl-audit.log", encoding: .utf8)
        let actions = try changes.split(separator: "\n").map { try JSONParser.parse(String($0)) }
        #expect(actions.first?["action"] == "login" && actions.first?["user"] == "admin" && actions.first?["status"] == 200, "\(changes)")
        #expect(actions.contains { $0["action"] == "POST /api/v1/services" && $0["user"] == "admin" && $0["organization"] == "acme" })
        #expect(actions.contains { $0["action"] == .string("POST /api/v1/configuration-plans/\(id(plan.stdout))/renew-api-key") && $0["status"] == 200 })
        #expect(!changes.contains(firstKey) && !changes.contains(secondKey) && !changes.contains("correct horse"))
    }
}
