import Foundation
import HummingbirdTesting
import ReshaprJSON
import TestSupport
import Testing

/// The `reshapr-gateway` binary, run as a user or a CI pipeline would.
@Suite struct CommandLineTests {
    let binary = Repository.builtProduct("reshapr-gateway")

    @Test func validateAcceptsTheSamples() async throws {
        let result = try await ChildProcess.run(binary, ["validate", Repository.samples])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("default/petstore       /mcp/default/petstore/1.0.0    /mcp/default/petstore       8      2        2          1          petstore 1.0.0 (REST)"))
        #expect(result.stdout.contains("default/bookstore      /mcp/default/bookstore/1.0     /mcp/default/bookstore      4      0        0          0          bookstore 1.0 (GRAPHQL)"))
        #expect(result.stdout.contains("default/petstore-grpc  /mcp/default/petstore-grpc/v1  /mcp/default/petstore-grpc  2      0        0          0          petstore-grpc v1 (GRPC)"))
        #expect(result.stderr.contains("samples: valid"))
    }

    @Test func validateReportsEveryErrorAndExitsNonZero() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", "apiVersion: reshapr.io/v1\nkind: ConfigurationPlan\nmetadata: {name: petstore}\nspec:\n  service: {name: petstore, version: \"1.1\"}\n  backend: {mock: true}\n")
        try dir.write("broken.yaml", "apiVersion: reshapr.io/v1\nkind: [\n")
        let result = try await ChildProcess.run(binary, ["validate", dir.path])
        #expect(result.status == 1)
        #expect(result.stderr.contains("error: plans/petstore.yaml#1 spec.service.name: service petstore not found in org default (line 5)"))
        #expect(result.stderr.contains("error: broken.yaml: malformed YAML at line"))
        #expect(result.stderr.contains(": invalid"))

        let json = try await ChildProcess.run(binary, ["validate", "--format", "json", dir.path])
        #expect(json.status == 1)
        let report = try JSONParser.parse(json.stdout)
        #expect(report["valid"] == false)
        #expect(report["errors"]?.arrayValue?.count == 2)
    }

    @Test func validateRefusesEmptyAndMissingDirectories() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let empty = try await ChildProcess.run(binary, ["validate", dir.path])
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("holds no reshapr.io/v1 resources"))
        let missing = try await ChildProcess.run(binary, ["validate", dir.path + "/absent"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("error: configuration directory \(dir.path)/absent: does not exist"))
    }

    @Test func serveNeedsADirectory() async throws {
        let result = try await ChildProcess.run(binary, [], environment: ["RESHAPR_CONFIG_DIR": ""])
        #expect(result.status != 0)
        #expect(result.stderr.contains("missing --config-dir (or the RESHAPR_CONFIG_DIR environment variable)"))
    }

    @Test func serveRunsUntilSIGTERMThenExitsCleanly() async throws {
        let gateway = try ChildProcess(binary, ["--host", "127.0.0.1", "--port", "0"], environment: ["RESHAPR_CONFIG_DIR": Repository.samples])
        defer { gateway.terminate() }
        let line = try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
        let client = TestClient(host: "127.0.0.1", port: port)
        client.connect()
        let ready = try await client.get("/health/ready")
        #expect(ready.status == .ok)
        try await client.shutdown()
        #expect(gateway.stdout.contains("/mcp/default/petstore/1.0.0"))

        gateway.terminate()
        #expect(try await gateway.waitForExit(timeout: .seconds(20)) == 0)
    }
}
