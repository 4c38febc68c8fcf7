import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import Synchronization

/// Time from `rename(2)` of a changed plan to the new tool list being served, over N changes,
/// while clients call a tool without pause; counts the calls that failed.
@main
struct ReloadBench: AsyncParsableCommand {
    @Option(help: "The reshapr-gateway binary (a release build).") var gateway: String
    @Option(help: "The bundled samples directory.") var samples: String
    @Option(help: "Changes to time.") var changes: Int = 100
    @Option(help: "Clients calling a tool during the changes.") var loadClients: Int = 4
    @Option(help: "The gateway's --reload-debounce-ms (default: the gateway's own default).") var debounceMs: Int?

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reshapr-reload-bench-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/petstore", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for file in ["petstore/service.yaml", "petstore/openapi.yaml", "petstore/mcp.yaml", "petstore/prompts.yaml", "petstore/resources.yaml"] {
            try FileManager.default.copyItem(atPath: samples + "/" + file, toPath: dir + "/" + file)
        }
        let (process, port) = try await startGateway(gateway, ["--config-dir", dir, "--host", "127.0.0.1", "--port", "0"] + (debounceMs.map { ["--reload-debounce-ms", "\($0)"] } ?? []))
        defer { process.terminate() }
        let url = "http://127.0.0.1:\(port)/mcp/default/petstore/1.0.0"
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await measure(http, url: url, dir: dir)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func plan(excluding: [String]) -> String {
        """
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: petstore-mock}
        spec:
          service: {name: petstore, version: 1.0.0}
          backend: {mock: true}
          tools: {exclude: [\(excluding.joined(separator: ", "))]}
        ---
        apiVersion: reshapr.io/v1
        kind: Exposition
        metadata: {name: petstore}
        spec: {plan: petstore-mock}
        """
    }

    func measure(_ http: HTTPClient, url: String, dir: String) async throws {
        let probe = try await MCPClient.connect(http, url: url)
        let counters = LoadCounters()
        var latencies: [Double] = []
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<loadClients {
                group.addTask {
                    let client = try await MCPClient.connect(http, url: url)
                    while !counters.stop.load(ordering: .relaxed) {
                        do {
                            let (status, body) = try await client.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"getPetById","arguments":{"petId":1}}}"#)
                            if status == 200 && body.contains("\"isError\":false") {
                                counters.calls.add(1, ordering: .relaxed)
                            } else {
                                counters.failures.add(1, ordering: .relaxed)
                            }
                        } catch {
                            counters.failures.add(1, ordering: .relaxed)
                        }
                    }
                }
            }
            for i in 0..<changes {
                // Alternate between 8 and 7 tools.
                let excluded = i % 2 == 0 ? ["uploadFile", "deletePet"] : ["uploadFile"]
                let expected = 9 - excluded.count
                let staging = dir + "/petstore/.mcp.yaml.tmp"
                try plan(excluding: excluded).write(toFile: staging, atomically: false, encoding: .utf8)
                let start = ContinuousClock.now
                guard rename(staging, dir + "/petstore/mcp.yaml") == 0 else { throw BenchError("rename failed") }
                let deadline = start + .seconds(10)
                while try await probe.toolCount() != expected {
                    if ContinuousClock.now > deadline { throw BenchError("change \(i) not served within 10 s") }
                }
                latencies.append(micros(ContinuousClock.now - start) / 1000)
            }
            counters.stop.store(true, ordering: .relaxed)
            try await group.waitForAll()
        }
        let sorted = latencies.sorted()
        let report: [String: Any] = [
            "debounceMs": debounceMs.map { $0 as Any } ?? "default", "changes": changes, "medianMs": percentile(sorted, 0.5), "p99Ms": percentile(sorted, 0.99), "maxMs": sorted.last ?? 0,
            "callsDuringReloads": counters.calls.load(ordering: .relaxed), "failedCalls": counters.failures.load(ordering: .relaxed),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}

/// Shared by the load clients and the timing loop.
final class LoadCounters: Sendable {
    let stop = Atomic<Bool>(false)
    let calls = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
}
