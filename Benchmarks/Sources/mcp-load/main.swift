import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Calls one MCP tool from N concurrent clients (each with its own session) for a fixed time
/// and prints throughput and latency percentiles as one JSON line.
@main
struct MCPLoad: AsyncParsableCommand {
    @Option(help: "MCP endpoint URL.") var url: String
    @Option(help: "Tool to call.") var tool: String
    @Option(help: "Tool arguments, as JSON.") var arguments: String = "{}"
    @Option(help: "Concurrent clients.") var concurrency: Int = 1
    @Option(help: "Seconds to run (after a 1 s warm-up).") var duration: Double = 5
    @Option(help: "Upper bound on calls per client.") var maxCalls: Int = 1_000_000

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: concurrency * 2)
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { try? http.syncShutdown() }

        let sessions = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<concurrency { group.addTask { try await initialize(http) } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        let body = #"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"\#(tool)","arguments":\#(arguments)}}"#
        // Warm-up, then measure.
        _ = try await runPhase(http, sessions: sessions, body: body, seconds: 1)
        let started = ContinuousClock.now
        let (latencies, failures) = try await runPhase(http, sessions: sessions, body: body, seconds: duration)
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
        }
        let report: [String: Any] = [
            "concurrency": concurrency, "calls": sorted.count, "failures": failures,
            "callsPerSecond": Double(sorted.count) / seconds,
            "p50us": percentile(0.5), "p99us": percentile(0.99), "maxus": sorted.last ?? 0,
        ]
        let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    func headers(session: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, text/event-stream")
        headers.add(name: "MCP-Protocol-Version", value: "2025-06-18")
        if let session { headers.add(name: "Mcp-Session-Id", value: session) }
        return headers
    }

    func initialize(_ http: HTTPClient) async throws -> String {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers(session: nil)
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"mcp-load","version":"1"}}}"#))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard let session = response.headers.first(name: "Mcp-Session-Id") else { throw ValidationError("no session id from \(url)") }
        var notify = HTTPClientRequest(url: url)
        notify.method = .POST
        notify.headers = headers(session: session)
        notify.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#))
        _ = try await http.execute(notify, timeout: .seconds(10)).body.collect(upTo: 1 << 20)
        return session
    }

    /// Each client calls in a loop until the time is up; returns latencies in microseconds and failures.
    func runPhase(_ http: HTTPClient, sessions: [String], body: String, seconds: Double) async throws -> ([Double], Int) {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        return try await withThrowingTaskGroup(of: ([Double], Int).self) { group in
            for session in sessions {
                group.addTask {
                    var latencies: [Double] = []
                    var failures = 0
                    var request = HTTPClientRequest(url: url)
                    request.method = .POST
                    request.headers = headers(session: session)
                    let payload = ByteBuffer(string: body)
                    while ContinuousClock.now < deadline && latencies.count + failures < maxCalls {
                        request.body = .bytes(payload)
                        let start = ContinuousClock.now
                        do {
                            let response = try await http.execute(request, timeout: .seconds(30))
                            let bytes = try await response.body.collect(upTo: 16 << 20)
                            let text = String(buffer: bytes)
                            if response.status == .ok && text.contains("\"result\"") && !text.contains("\"isError\":true") {
                                let d = ContinuousClock.now - start
                                latencies.append(Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12)
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
