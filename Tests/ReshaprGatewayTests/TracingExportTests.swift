import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import ReshaprMCP
import Synchronization
import TestSupport
import Testing

/// OpenTelemetry export, with the gateway binary as a child process (the tracer is process-wide)
/// and an OTLP/HTTP receiver and a backend in the test.
@Suite struct TracingExportTests {
    @Test func callsAreExportedAsSpansAndTheBackendIsTheirChild() async throws {
        let exported = Mutex<[UInt8]>([])
        let backendTrace = Mutex<[String]>([])
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4 << 20)
            exported.withLock { $0 += Array(body.readableBytesView) }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        router.get("/api/pets/:petId") { request, _ -> Response in
            backendTrace.withLock { $0.append(request.headers[HTTPField.Name("traceparent")!] ?? "") }
            return ToolCallTests.Backend.json(["id": 1, "name": "rex"])
        }
        try await withServer(router) { port in
            let dir = try ToolCallTests.configuration(backendPort: port)
            defer { dir.remove() }
            let gateway = try ChildProcess(
                Repository.builtProduct("reshapr-gateway"),
                ["--config-dir", dir.path, "--host", "127.0.0.1", "--port", "0", "--no-watch", "--otlp-endpoint", "http://127.0.0.1:\(port)"],
                environment: ["OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_BSP_SCHEDULE_DELAY": "100"])
            defer { gateway.terminate() }
            let line = try await gateway.waitForStderr(containing: "[ReshaprGateway] listening")
            let gatewayPort = try #require(line.split(separator: ":").last.flatMap { Int($0.prefix { $0.isNumber }) })
            #expect(gateway.stderr.contains("exporting traces over OTLP"))
            let client = TestClient(host: "127.0.0.1", port: gatewayPort)
            client.connect()
            var mcp = MCPTestClient(client, path: "/mcp/open")
            _ = try await mcp.initialize()
            let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
            let callerSpan = "00f067aa0ba902b7"
            let result = try await mcp.post(
                ["jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": ["name": "getPet", "arguments": ["petId": 1]]],
                headers: [HTTPField.Name("traceparent")!: "00-\(traceID)-\(callerSpan)-01"])
            #expect(try json(result)["result"]?["isError"] == false)

            // The backend's parent is the gateway's span, in the caller's trace.
            let header = try #require(backendTrace.withLock { $0.first })
            let forwarded = try #require(TraceParent(header))
            #expect(forwarded.traceID == traceID)
            #expect(forwarded.parentID != callerSpan)

            // The span reaches the collector, with the trace id and the tool's name.
            let traceBytes = stride(from: 0, to: 32, by: 2).map { UInt8(traceID.dropFirst($0).prefix(2), radix: 16) ?? 0 }
            _ = try await eventually(timeout: .seconds(30)) {
                exported.withLock { $0.contains(traceBytes) && $0.contains(Array("tools/call getPet".utf8)) }
            }
            #expect(exported.withLock { $0.contains(traceBytes) }, "no span of trace \(traceID) exported: \(gateway.stderr)")
            #expect(exported.withLock { $0.contains(Array("tools/call getPet".utf8)) })
            try await client.shutdown()
            gateway.terminate()
            #expect(try await gateway.waitForExit() == 0)
        }
    }
}

extension Array where Element == UInt8 {
    func contains(_ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return false }
        for start in 0...(count - needle.count) where self[start] == needle[0] && Array(self[start..<(start + needle.count)]) == needle {
            return true
        }
        return false
    }
}
