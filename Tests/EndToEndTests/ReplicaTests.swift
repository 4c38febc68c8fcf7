import Foundation
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

/// nginx from Debian as a plain round-robin load balancer, for tests of gateway replicas.
/// CI installs it and sets RESHAPR_REQUIRE_NGINX=1, which turns a missing nginx into a failure.
enum Nginx {
    static let executable = "/usr/sbin/nginx"
    static let required = ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_NGINX"] == "1"
    static let available = FileManager.default.isExecutableFile(atPath: executable)
    static let usable = (available || required) && (Python.canImport("mcp") || ProcessInfo.processInfo.environment["RESHAPR_REQUIRE_PYTHON_MCP"] == "1")

    /// Starts nginx in the foreground, in `dir`, balancing 127.0.0.1:`upstreams` round-robin
    /// (one upstream per request, no stickiness); the access log names, for each request, its
    /// method, status, the session id it carried and the one it was given, and its upstream.
    static func start(in dir: TemporaryDirectory, upstreams: [Int]) async throws -> (ChildProcess, port: Int) {
        let held = try HeldPort()
        let port = held.port
        let servers = upstreams.map { "        server 127.0.0.1:\($0);" }.joined(separator: "\n")
        let prefix = dir.path
        try dir.write(
            "nginx.conf",
            """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log info;
            events { worker_connections 256; }
            http {
                log_format upstreams '$request_method $status $http_mcp_session_id $sent_http_mcp_session_id $upstream_addr';
                access_log \(prefix)/access.log upstreams;
                client_body_temp_path \(prefix)/body;
                proxy_temp_path \(prefix)/proxy;
                fastcgi_temp_path \(prefix)/fastcgi;
                uwsgi_temp_path \(prefix)/uwsgi;
                scgi_temp_path \(prefix)/scgi;
                upstream gateways {
            \(servers)
                }
                server {
                    listen 127.0.0.1:\(port);
                    location / {
                        proxy_pass http://gateways;
                        proxy_http_version 1.1;
                        proxy_set_header Connection "";
                        proxy_read_timeout 120s;
                    }
                }
            }
            """)
        held.close()
        let nginx = try ChildProcess(executable, ["-p", prefix, "-c", prefix + "/nginx.conf", "-e", prefix + "/error.log"])
        for _ in 0..<250 {
            if (try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8))?.contains("start worker process") == true
                || (try? String(contentsOfFile: prefix + "/nginx.pid", encoding: .utf8)) != nil
            {
                return (nginx, port)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        nginx.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "nginx did not start: \((try? String(contentsOfFile: prefix + "/error.log", encoding: .utf8)) ?? "")"])
    }
}

/// Gateway replicas that share nothing but their configuration, behind a round-robin proxy.
@Suite(.enabled(if: Nginx.usable, "needs nginx (apt-get install nginx-light) and the Python MCP SDK (pip install mcp)"))
struct ReplicaTests {
    @Test func twoReplicasBehindRoundRobinServeOneModernClient() async throws {
        #expect(Nginx.available, "RESHAPR_REQUIRE_NGINX=1 but \(Nginx.executable) is missing")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.path + "/config"
        try FileManager.default.copyItem(atPath: Repository.samples, toPath: config)

        var replicas: [(ChildProcess, Int)] = []
        defer { for (replica, _) in replicas { replica.terminate() } }
        for _ in 0..<2 {
            let replica = try ChildProcess(Repository.builtProduct("reshapr-gateway"), ["--config-dir", config, "--host", "127.0.0.1", "--port", "0"])
            replicas.append((replica, 0))
            let port = try #require(EndToEndTests.port(try await replica.waitForStderr(containing: "[ReshaprGateway] listening")))
            replicas[replicas.count - 1].1 = port
        }
        try dir.mkdir("nginx")
        let nginxDir = TemporaryDirectory(path: dir.path + "/nginx")
        let (nginx, port) = try await Nginx.start(in: nginxDir, upstreams: replicas.map(\.1))
        defer { nginx.terminate() }

        let plan = try String(contentsOfFile: config + "/petstore/mcp.yaml", encoding: .utf8)
        let edited = plan.replacingOccurrences(of: "exclude: [uploadFile]", with: "exclude: [uploadFile, deletePet]")
        #expect(edited != plan)
        let scenario: JSONValue = [
            "mode": "auto",
            "calls": .array((1...6).map { _ in ["tool": "getPetById", "arguments": ["petId": 10]] }),
            "edit": ["path": .string(config + "/petstore/mcp.yaml"), "content": .string(edited)],
        ]
        try dir.write("scenario.json", scenario.serialized())
        let result = try await ChildProcess.run(
            "/usr/bin/env",
            ["python3", Repository.root + "/Tests/Interop/mcp_client_check.py", "http://127.0.0.1:\(port)/mcp/default/petstore/1.0.0", dir.path + "/scenario.json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(result.stdout)
        #expect(report["protocolVersion"] == "2026-07-28")
        let calls = report["calls"]?.arrayValue ?? []
        #expect(calls.count == 6 && calls.allSatisfy { $0["isError"] == false }, "\(calls)")
        #expect(report["listChanged"] == true, "\(report)")

        // Every request went to the next replica in turn, and every one was answered.
        let log = try String(contentsOfFile: nginxDir.path + "/access.log", encoding: .utf8).split(separator: "\n")
        let upstreams = Set(log.compactMap { $0.split(separator: " ").last.map(String.init) })
        #expect(upstreams == Set(replicas.map { "127.0.0.1:\($0.1)" }), "\(log)")
        #expect(log.count >= 9, "\(log)")
        #expect(log.allSatisfy { $0.split(separator: " ").dropFirst().first == "200" }, "\(log)")
    }

    /// Legacy (session) clients on replicas that share a session key: every request may land
    /// on another replica, and a reload of all of them keeps the session.
    @Test func threeReplicasShareLegacySessionsThroughASealedId() async throws {
        #expect(Nginx.available, "RESHAPR_REQUIRE_NGINX=1 but \(Nginx.executable) is missing")
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = dir.path + "/config"
        try FileManager.default.copyItem(atPath: Repository.samples, toPath: config)
        let key = Data((0..<32).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        var replicas: [(ChildProcess, Int)] = []
        defer { for (replica, _) in replicas { replica.terminate() } }
        for _ in 0..<3 {
            let replica = try ChildProcess(
                Repository.builtProduct("reshapr-gateway"), ["--config-dir", config, "--host", "127.0.0.1", "--port", "0"], environment: ["RESHAPR_SESSION_KEY": key])
            replicas.append((replica, 0))
            replicas[replicas.count - 1].1 = try #require(EndToEndTests.port(try await replica.waitForStderr(containing: "[ReshaprGateway] listening")))
        }
        try dir.mkdir("nginx")
        let nginxDir = TemporaryDirectory(path: dir.path + "/nginx")
        let (nginx, port) = try await Nginx.start(in: nginxDir, upstreams: replicas.map(\.1))
        defer { nginx.terminate() }

        // The official client in legacy mode: initialize, list, six calls.
        try dir.write("scenario.json", JSONValue.array((1...6).map { _ in ["tool": "getPetById", "arguments": ["petId": 10]] }).serialized())
        let url = "http://127.0.0.1:\(port)/mcp/default/petstore/1.0.0"
        let result = try await ChildProcess.run("/usr/bin/env", ["python3", Repository.root + "/Tests/Interop/mcp_client_check.py", url, dir.path + "/scenario.json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try JSONParser.parse(result.stdout)
        #expect(report["protocolVersion"] == "2025-11-25", "\(report)")
        #expect((report["calls"]?.arrayValue ?? []).filter { $0["isError"] == false }.count == 6, "\(report)")

        // Its session's requests were answered by every replica.
        let log = try String(contentsOfFile: nginxDir.path + "/access.log", encoding: .utf8).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        let session = try #require(log.first { $0.count == 5 && $0[3] != "-" }?[3], "\(log)")
        #expect(session.hasPrefix("s1."))
        let withSession = log.filter { $0.count == 5 && $0[2] == session }
        #expect(Set(withSession.map { $0[4] }) == Set(replicas.map { "127.0.0.1:\($0.1)" }), "\(log)")
        #expect(withSession.allSatisfy { ["200", "202", "204"].contains($0[1]) }, "\(log)")

        // A reload on all three keeps the session: three more calls, one on each replica.
        let plan = try String(contentsOfFile: config + "/petstore/mcp.yaml", encoding: .utf8)
        try dir.write("config/petstore/mcp.yaml", plan.replacingOccurrences(of: "exclude: [uploadFile]", with: "exclude: [uploadFile, deletePet]"))
        for (_, replicaPort) in replicas {
            let status = TestClient(host: "127.0.0.1", port: replicaPort)
            status.connect()
            #expect(
                try await EndToEndTests().eventually {
                    (try JSONParser.parse(String(buffer: try await status.get("/status").body ?? ByteBuffer())))["reloads"]?["succeeded"]?.intValue ?? 0 >= 1
                })
            #expect(try JSONParser.parse(String(buffer: try await status.get("/status").body ?? ByteBuffer()))["sessions"]?["shared"] == true)
            try await status.shutdown()
        }
        // (Python's urllib through nginx: the test client sends no Host header, which nginx requires.)
        let calls = """
            import json, sys, urllib.request, urllib.error
            url, session = sys.argv[1], sys.argv[2]
            body = json.dumps({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "getPetById", "arguments": {"petId": 10}}}).encode()
            def call(session_id):
                request = urllib.request.Request(url, data=body, method="POST", headers={
                    "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                    "Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"})
                try:
                    with urllib.request.urlopen(request) as answer:
                        return answer.status, json.loads(answer.read())["result"]["isError"]
                except urllib.error.HTTPError as error:
                    return error.code, None
            forged = session[:-2] + ("BB" if session.endswith("AA") else "AA")
            print(json.dumps({"calls": [call(session) for _ in range(3)], "forged": call(forged)}))
            """
        try dir.write("calls.py", calls)
        let after = try await ChildProcess.run("/usr/bin/env", ["python3", dir.path + "/calls.py", url, session])
        let answers = try JSONParser.parse(after.stdout)
        #expect(answers["calls"] == [[200, false], [200, false], [200, false]], "\(after.stdout)\(after.stderr)")
        #expect(answers["forged"]?[0] == 404, "a forged or altered id is no session anywhere")
    }
}
