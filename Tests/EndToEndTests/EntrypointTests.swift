import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

/// The container entrypoint (docker/entrypoint.sh) on the host, with the built binaries in
/// place of the image's: what `docker run -e RESHAPR_CTRL_HOST=... image` does.
@Suite struct EntrypointTests {
    static var entrypoint: String { Repository.root + "/docker/entrypoint.sh" }

    static var binDirectory: String { (Repository.builtProduct("reshapr-gateway") as NSString).deletingLastPathComponent }

    @Test func withoutAControlPlaneItServesTheDirectory() async throws {
        let process = try ChildProcess(
            Self.entrypoint, ["--host", "127.0.0.1", "--port", "0"],
            environment: ["RESHAPR_BIN_DIR": Self.binDirectory, "RESHAPR_CONFIG_DIR": Repository.samples, "RESHAPR_CTRL_HOST": "", "RESHAPR_LOG_FORMAT": "logfmt"])
        defer { process.terminate() }
        let line = try await process.waitForStderr(containing: "msg=listening")
        let port = try #require(EndToEndTests.port(line))
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        #expect(try await client.get("/health/ready").status == .ok)
        try await client.shutdown()
        process.terminate()
        #expect(try await process.waitForExit() == 0)
    }

    @Test func withAControlPlaneTheSyncRunsBesideTheGateway() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let e2e = EndToEndTests()
        let (ctrl, grpcPort, restPort) = try await e2e.startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        var rest = EndToEndTests.HTTP(client: TestClient(host: "127.0.0.1", port: restPort))
        rest.client.connect()
        rest.token = try await rest.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"]).1["token"]?.stringValue ?? ""
        let apiToken = try await rest.call(.post, "/api/v1/api-tokens", ["name": "container", "validityDays": 1]).1["token"]?.stringValue ?? ""
        let spec = try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8)
        let service = try await rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "openapi.yaml", "content": .string(spec)]]]).1
        let plan = try await rest.call(.post, "/api/v1/configuration-plans", ["name": "petstore", "serviceId": service["id"] ?? .null, "backend": ["mock": true]]).1
        let group = try await rest.call(.get, "/api/v1/gateway-groups").1[0]?["id"] ?? .null
        _ = try await rest.call(.post, "/api/v1/expositions", ["configurationId": plan["id"] ?? .null, "gatewayGroupId": group])

        var environment = [
            "RESHAPR_BIN_DIR": Self.binDirectory, "RESHAPR_SYNC_DIR": dir.path + "/config",
            "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
            "RESHAPR_GATEWAY_ID": "container-1", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
        ]
        let container = try ChildProcess(Self.entrypoint, ["--host", "127.0.0.1", "--port", "0"], environment: environment)
        defer { container.terminate() }
        let port = try #require(EndToEndTests.port(try await container.waitForStderr(containing: "[ReshaprGateway] listening")))
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        #expect(try await e2e.eventually { try await client.get("/health/ready").status == .ok }, "\(container.stderr)")
        let status = try JSONParser.parse(Array((try await client.get("/status").body ?? ByteBuffer()).readableBytesView))
        #expect(status["sync"]?["state"] == "synchronized")
        #expect(try await rest.call(.get, "/api/v1/gateways").1[0]?["gatewayId"] == "container-1")
        try await client.shutdown()

        // docker stop: both stop cleanly, and the sync says goodbye to the control plane.
        container.terminate()
        #expect(try await container.waitForExit() == 0, "\(container.stderr)")
        #expect(try await rest.call(.get, "/api/v1/gateways").1 == [])

        // A bad token stops the sync, and with it the container, with the sync's status.
        environment["RESHAPR_CTRL_TOKEN"] = "rsh_0000000000000_" + String(repeating: "0", count: 64)
        let refused = try ChildProcess(Self.entrypoint, ["--host", "127.0.0.1", "--port", "0"], environment: environment)
        defer { refused.terminate() }
        #expect(try await refused.waitForExit() == 1)
        #expect(refused.stderr.contains("the API token is not valid"))
        #expect(refused.stderr.contains("entrypoint: reshapr-sync stopped (status 1); stopping the other"))
        try await rest.client.shutdown()
        ctrl.terminate()
        _ = try await ctrl.waitForExit()
    }
}
