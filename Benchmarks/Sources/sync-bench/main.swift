import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1

/// Time from a REST change on the control plane to the changed tool list being served by the
/// gateway, through reshapr-sync: ctrl, sync and gateway as real processes.
@main
struct SyncBench: AsyncParsableCommand {
    @Option(help: "Directory with the release binaries reshapr-ctrl, reshapr-sync, reshapr-gateway.") var bin: String
    @Option(help: "The bundled samples directory.") var samples: String
    @Option(help: "Changes to time.") var changes: Int = 50

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reshapr-sync-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/config", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        var processes: [Process] = []
        defer { processes.forEach { $0.terminate() } }
        do {
            setenv("RESHAPR_ADMIN_PASSWORD", "benchmark-password", 1)
            let (ctrl, restPort) = try await startProcess(bin + "/reshapr-ctrl", [
                "--host", "127.0.0.1", "--grpc-port", "5597", "--http-port", "0", "--database", dir + "/ctrl.sqlite", "--organization", "bench",
            ], waitingFor: "REST API listening")
            processes.append(ctrl)
            let api = "http://127.0.0.1:\(restPort)/api/v1"
            let petstore = try await publishPetstore(http, api: api, samples: samples, password: "benchmark-password")
            let (session, token) = (petstore.session, petstore.token)

            let (gateway, gatewayPort) = try await startGateway(bin + "/reshapr-gateway", ["--config-dir", dir + "/config", "--host", "127.0.0.1", "--port", "0"])
            processes.append(gateway)
            setenv("RESHAPR_CTRL_HOST", "127.0.0.1", 1)
            setenv("RESHAPR_CTRL_PORT", "5597", 1)
            setenv("RESHAPR_CTRL_TLS_PLAINTEXT", "true", 1)
            setenv("RESHAPR_CTRL_TOKEN", token, 1)
            setenv("RESHAPR_GATEWAY_ID", "bench", 1)
            setenv("RESHAPR_GATEWAY_LABELS", "env=dev,team=reshapr", 1)
            let (sync, _) = try await startProcess(bin + "/reshapr-sync", ["--config-dir", dir + "/config"], waitingFor: "configuration written")
            processes.append(sync)

            let url = "http://127.0.0.1:\(gatewayPort)/mcp/bench/swagger-petstore/1.0.0"
            var client: MCPClient?
            let ready = ContinuousClock.now + .seconds(30)
            while client == nil && ContinuousClock.now < ready {
                client = try? await MCPClient.connect(http, url: url)
                if client == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            guard let client else { throw BenchError("the endpoint never appeared") }
            var latencies: [Double] = []
            for i in 0..<changes {
                let exclude = i % 2 == 0 ? #"["uploadFile","deletePet"]"# : #"["uploadFile"]"#
                let expected = i % 2 == 0 ? 7 : 8
                let start = ContinuousClock.now
                _ = try await restJSON(http, .PUT, api + "/configuration-plans/\(petstore.planID)", #"{"backend":{"mock":true},"tools":{"exclude":\#(exclude)}}"#, token: session)
                while try await client.toolCount() != expected {
                    if ContinuousClock.now - start > .seconds(10) { throw BenchError("change \(i) not served within 10 s") }
                }
                latencies.append(micros(ContinuousClock.now - start) / 1000)
            }
            let sorted = latencies.sorted()
            let report: [String: Any] = [
                "benchmark": "syncPropagation", "changes": changes, "medianMs": percentile(sorted, 0.5), "p99Ms": percentile(sorted, 0.99), "maxMs": sorted.last ?? 0,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }
}
