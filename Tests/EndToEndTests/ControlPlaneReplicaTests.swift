import Foundation
import HummingbirdTesting
import ReshaprJSON
import TestSupport
import Testing

/// Two reshapr-ctrl processes on one PostgreSQL database (a throwaway cluster started by the
/// test), a reshapr-sync on each: a change made through one replica reaches the sync on the
/// other, both list every gateway, and when a replica is killed its sync carries on with the
/// other. Skipped without PostgreSQL unless RESHAPR_REQUIRE_POSTGRES=1 (CI).
@Suite(.serialized) struct ControlPlaneReplicaTests {
    typealias HTTP = EndToEndTests.HTTP

    struct Replica {
        var process: ChildProcess
        var grpc: Int
        var rest: HTTP
    }

    func startReplica(database: String) async throws -> Replica {
        let ctrl = try ChildProcess(
            Repository.builtProduct("reshapr-ctrl"),
            [
                "--host", "127.0.0.1", "--grpc-port", "0", "--http-port", "0", "--database", database, "--organization", "acme",
                "--insecure-plaintext-secrets", "--evict-after", "60",
            ],
            environment: ["RESHAPR_ADMIN_PASSWORD": "correct horse"])
        let grpc = try #require(EndToEndTests.port(try await ctrl.waitForStderr(containing: "gRPC listening")))
        let rest = try #require(EndToEndTests.port(try await ctrl.waitForStderr(containing: "REST API listening")))
        var client = HTTP(client: TestClient(host: "127.0.0.1", port: rest))
        client.client.connect()
        client.token = try await client.call(.post, "/api/v1/login", ["username": "admin", "password": "correct horse"]).1["token"]?.stringValue ?? ""
        return Replica(process: ctrl, grpc: grpc, rest: client)
    }

    func startSync(_ id: String, addresses: [Int], token: String, directory: String) throws -> ChildProcess {
        try ChildProcess(
            Repository.builtProduct("reshapr-sync"), ["--config-dir", directory, "--heartbeat-interval", "1"],
            environment: [
                "RESHAPR_CTRL_HOST": addresses.map { "127.0.0.1:\($0)" }.joined(separator: ","), "RESHAPR_CTRL_TLS_PLAINTEXT": "true",
                "RESHAPR_CTRL_TOKEN": token, "RESHAPR_GATEWAY_ID": id, "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
            ])
    }

    func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<750 {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    func planFile(in directory: String) -> String {
        (try? String(contentsOfFile: directory + "/plans/petstore.json", encoding: .utf8)) ?? ""
    }

    @Test func twoReplicasShareOneDatabase() async throws {
        guard PostgresCluster.available else {
            #expect(!PostgresCluster.required, "RESHAPR_REQUIRE_POSTGRES=1 but PostgreSQL is not installed")
            return
        }
        let cluster = try await PostgresCluster.shared()
        let database = try await cluster.makeDatabase()
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.mkdir("a")
        try dir.mkdir("b")

        // Started together: the migrations run once, under the lock.
        async let startedA = startReplica(database: database)
        async let startedB = startReplica(database: database)
        var (a, b) = try await (startedA, startedB)
        defer {
            a.process.terminate()
            b.process.terminate()
        }
        let name = String(database.split(separator: "/").last?.split(separator: "?").first ?? "")
        #expect(try await cluster.psql("SELECT count(*) FROM reshapr_migrations", database: name).trimmingCharacters(in: .whitespacesAndNewlines) == "5")

        // The catalogue, through replica A.
        let token = try await a.rest.call(.post, "/api/v1/api-tokens", ["name": "e2e", "validityDays": 7]).1["token"]?.stringValue ?? ""
        let spec = try String(contentsOfFile: Repository.samples + "/petstore/openapi.yaml", encoding: .utf8)
        let service = try await a.rest.call(.post, "/api/v1/services", ["artifacts": [["fileName": "openapi.yaml", "content": .string(spec)]]]).1
        let plan = try await a.rest.call(.post, "/api/v1/configuration-plans", ["name": "petstore", "serviceId": service["id"] ?? .null, "backend": ["mock": true]]).1
        let planID = plan["id"]?.stringValue ?? ""
        let group = try await a.rest.call(.get, "/api/v1/gateway-groups").1[0]?["id"] ?? .null
        _ = try await a.rest.call(.post, "/api/v1/expositions", ["configurationId": .string(planID), "gatewayGroupId": group])

        // One sync on each replica, each knowing both.
        let syncA = try startSync("gw-a", addresses: [a.grpc, b.grpc], token: token, directory: dir.path + "/a")
        let syncB = try startSync("gw-b", addresses: [b.grpc, a.grpc], token: token, directory: dir.path + "/b")
        defer {
            syncA.terminate()
            syncB.terminate()
        }
        #expect(try await eventually { planFile(in: dir.path + "/a").contains("mock") && planFile(in: dir.path + "/b").contains("mock") }, "\(syncB.stderr)")

        // Either replica lists both gateways, watching.
        for replica in [a, b] {
            let listed = try await eventually {
                let gateways = try await replica.rest.call(.get, "/api/v1/gateways").1.arrayValue ?? []
                return Set(gateways.compactMap { $0["gatewayId"]?.stringValue }) == ["gw-a", "gw-b"] && gateways.allSatisfy { $0["watching"] == true }
            }
            #expect(listed)
        }

        // A change through A reaches the sync connected to B.
        _ = try await a.rest.call(.put, "/api/v1/configuration-plans/\(planID)", ["backend": ["mock": true], "tools": ["exclude": ["uploadFile"]]])
        #expect(try await eventually { planFile(in: dir.path + "/b").contains("uploadFile") }, "\(syncB.stderr)\n\(b.process.stderr)")

        // B is lost: its sync registers with A and carries on; a change through A reaches it.
        b.process.kill()
        _ = try await b.process.waitForExit()
        _ = try await syncB.waitForStderr(containing: "trying the next replica", timeout: .seconds(20))
        _ = try await a.rest.call(.put, "/api/v1/configuration-plans/\(planID)", ["backend": ["mock": true], "tools": ["exclude": ["deletePet"]]])
        #expect(try await eventually { planFile(in: dir.path + "/b").contains("deletePet") }, "\(syncB.stderr)")
        let gateways = try await a.rest.call(.get, "/api/v1/gateways").1.arrayValue ?? []
        #expect(Set(gateways.compactMap { $0["gatewayId"]?.stringValue }) == ["gw-a", "gw-b"])

        // B comes back on the same database and sees what A did meanwhile.
        b = try await startReplica(database: database)
        let plans = try await b.rest.call(.get, "/api/v1/configuration-plans").1
        #expect(plans[0]?["tools"]?["exclude"] == ["deletePet"], "\(plans)")
    }
}
