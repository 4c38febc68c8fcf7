import Foundation
import ReshaprJSON
import TestSupport
import Testing

/// A new user's path, as issue 19 tells it: `reshapr login`, then `reshapr import -f spec.yaml
/// --be URL`, and a gateway with its sync serves the tool, which the official Python MCP client
/// calls against a real backend.
@Suite(.enabled(if: Python.canImport("mcp.client.streamable_http") || ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_PYTHON_MCP"] == "1"))
struct FromSpecToToolTests {
    /// A Petstore backend on an ephemeral port: `GET /api/v3/pet/{id}` answers a pet and says
    /// which path it was asked.
    static let backend = """
        import http.server, json, sys
        class Pets(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = self.path.split("/")
                if self.path.startswith("/api/v3/pet/") and parts[-1].isdigit():
                    body = json.dumps({"id": int(parts[-1]), "name": "rex", "status": "available", "photoUrls": [], "seen": self.path}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                else:
                    body = b"not found"
                    self.send_response(404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pets)
        print(f"listening on 127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
        server.serve_forever()
        """

    @Test func loginImportWithABackendAndCallTheToolThroughTheOfficialClient() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.mkdir("config")
        try dir.write("backend.py", Self.backend)
        let backend = try ChildProcess("/usr/bin/env", ["python3", dir.path + "/backend.py"])
        defer { backend.terminate() }
        let backendPort = try #require(EndToEndTests.port(try await backend.waitForStderr(containing: "listening on 127.0.0.1:")))

        let (ctrl, grpcPort, restPort) = try await EndToEndTests().startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        let binary = Repository.builtProduct("reshapr")
        func reshapr(_ arguments: String..., input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(binary, arguments, environment: ["RESHAPR_CLI_CONFIG": dir.path + "/cli.json"], input: input)
        }
        let login = try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "-u", "admin", "--password-stdin", input: "correct horse\n")
        #expect(login.status == 0, "\(login.stderr)")
        let token = try await reshapr("api-token", "create", "gateways", "-v", "7")
        let apiToken = String(token.stdout.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("rsh_") } ?? "")

        // The gateway and its sync, with the labels of the organization's default gateway group.
        let gateway = try ChildProcess(Repository.builtProduct("reshapr-gateway"), ["--config-dir", dir.path + "/config", "--host", "127.0.0.1", "--port", "0"])
        defer { gateway.terminate() }
        let gatewayPort = try #require(EndToEndTests.port(try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")))
        let sync = try ChildProcess(
            Repository.builtProduct("reshapr-sync"), ["--config-dir", dir.path + "/config", "--heartbeat-interval", "1"],
            environment: [
                "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
                "RESHAPR_GATEWAY_ID": "first-gateway", "RESHAPR_GATEWAY_FQDNS": "127.0.0.1:\(gatewayPort)", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
            ])
        defer { sync.terminate() }
        #expect(try await EndToEndTests().eventually { try await reshapr("gateway", "list").stdout.contains("first-gateway") }, "\(sync.stderr)")

        // One command from the spec to a served endpoint.
        let imported = try await reshapr(
            "import", "-f", Repository.samples + "/petstore/openapi.yaml", "--be", "http://127.0.0.1:\(backendPort)/api/v3", "--io", #"["getPetById", "findPetsByStatus"]"#)
        #expect(imported.status == 0, "\(imported.stderr)")
        let url = "http://127.0.0.1:\(gatewayPort)/mcp/acme/swagger-petstore/1.0.0"
        #expect(imported.stdout.contains("MCP endpoint: \(url)"), "\(imported.stdout)")

        // The official client lists and calls, once the sync has written the directory.
        try dir.write("scenario.json", #"[{"tool": "getPetById", "arguments": {"petId": 7}}]"#)
        var report: JSONValue = .null
        // Each attempt starts a Python process: a few, a second apart, within a minute.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            let result = try await ChildProcess.run("/usr/bin/env", ["python3", Repository.root + "/Tests/Interop/mcp_client_check.py", url, dir.path + "/scenario.json"])
            if result.status == 0, let parsed = try? JSONParser.parse(result.stdout) {
                report = parsed
                break
            }
            try await Task.sleep(for: .seconds(1))
        }
        #expect(report != .null, "\(gateway.stderr)")
        #expect(report["tools"] == ["findPetsByStatus", "getPetById"], "\(report)")
        #expect(report["calls"]?[0]?["isError"] == false, "\(report)")
        #expect(report["calls"]?[0]?["structured"]?["name"] == "rex")
        #expect(report["calls"]?[0]?["structured"]?["seen"] == "/api/v3/pet/7")
    }
}
