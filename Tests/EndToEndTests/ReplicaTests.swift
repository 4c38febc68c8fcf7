import Foundation
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
    /// (one upstream per request, no stickiness); the access log names the upstream of each request.
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
                log_format upstreams '$request_method $status $upstream_addr';
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
}
