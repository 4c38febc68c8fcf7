import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import NIOCore

/// Calls one MCP tool from N concurrent clients (each with its own session) for a fixed time
/// and prints throughput and latency percentiles as one JSON line.
@main
struct MCPLoad: AsyncParsableCommand {
    @Option(help: "MCP endpoint URL (with --direct: the backend URL to GET).") var url: String
    @Option(help: "Tool to call.") var tool: String = ""
    @Flag(help: "Call the backend directly with GET (the floor), not through MCP.") var direct = false
    @Option(help: "A label printed with the figures.") var label: String = ""
    @Option(help: "Tool arguments, as JSON.") var arguments: String = "{}"
    @Option(help: "Concurrent clients.") var concurrency: Int = 1
    @Option(help: "Seconds to run (after a 1 s warm-up).") var duration: Double = 5

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency * 2)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await measure(http)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func measure(_ http: HTTPClient) async throws {
        let call: @Sendable (Int) async throws -> Bool
        if direct {
            call = { _ in
                let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(30))
                let body = try await response.body.collect(upTo: 16 << 20)
                return response.status == .ok && body.readableBytes > 0
            }
        } else {
            let clients = try await withThrowingTaskGroup(of: MCPClient.self) { group in
                for _ in 0..<concurrency { group.addTask { try await MCPClient.connect(http, url: url) } }
                return try await group.reduce(into: [MCPClient]()) { $0.append($1) }
            }
            let body = ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#)
            call = { index in
                let (status, answer) = try await clients[index].postRaw(body)
                return status == 200 && answer.contains("\"result\"") && !answer.contains("\"isError\":true")
            }
        }
        _ = try await runPhase(call, seconds: 1)
        let started = ContinuousClock.now
        let (latencies, failures) = try await runPhase(call, seconds: duration)
        let seconds = micros(ContinuousClock.now - started) / 1e6
        let sorted = latencies.sorted()
        let report: [String: Any] = [
            "client": "mcp-load", "label": label, "concurrency": concurrency, "calls": sorted.count, "failures": failures, "callsPerSecond": Double(sorted.count) / seconds,
            "p50us": percentile(sorted, 0.5), "p99us": percentile(sorted, 0.99), "maxus": sorted.last ?? 0,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    /// Each client calls in a loop until the time is up; returns latencies (µs) and failures.
    func runPhase(_ call: @escaping @Sendable (Int) async throws -> Bool, seconds: Double) async throws -> ([Double], Int) {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        return try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for index in 0..<concurrency {
                group.addTask {
                    var latencies: [Double] = []
                    var failures = 0
                    while ContinuousClock.now < deadline {
                        let start = ContinuousClock.now
                        do {
                            if try await call(index) {
                                latencies.append(micros(ContinuousClock.now - start))
                            } else {
                                failures += 1
                            }
                        } catch {
                            failures += 1
                        }
                    }
                    return (latencies, failures)
                }
            }
            var all: [Double] = []
            var failures = 0
            for try await (latencies, failed) in group {
                all += latencies
                failures += failed
            }
            return (all, failures)
        }
    }
}
