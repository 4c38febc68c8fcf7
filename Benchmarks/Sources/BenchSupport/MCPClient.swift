import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A bare MCP Streamable HTTP client for load generation: one session, JSON-RPC over POST.
public struct MCPClient: Sendable {
    public let http: HTTPClient
    public let url: String
    public let session: String

    public static func headers(session: String?) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Accept", value: "application/json, text/event-stream")
        headers.add(name: "MCP-Protocol-Version", value: "2025-06-18")
        if let session { headers.add(name: "Mcp-Session-Id", value: session) }
        return headers
    }

    /// Initializes a session (initialize, then notifications/initialized).
    public static func connect(_ http: HTTPClient, url: String) async throws -> MCPClient {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = headers(session: nil)
        request.body = .bytes(ByteBuffer(string: #"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"reshapr-bench","version":"1"}}}"#))
        let response = try await http.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard let session = response.headers.first(name: "Mcp-Session-Id") else { throw BenchError("no session id from \(url)") }
        let client = MCPClient(http: http, url: url, session: session)
        _ = try await client.post(#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#)
        return client
    }

    /// Posts one message; returns status and body text.
    public func post(_ body: String) async throws -> (status: Int, body: String) {
        let (status, bytes) = try await postRaw(ByteBuffer(string: body))
        return (status, String(buffer: bytes))
    }

    /// Posts one message; returns status and body bytes, for the load loop, which checks the
    /// answer without decoding it into a String (the client's own cost is not the gateway's).
    public func postRaw(_ body: ByteBuffer) async throws -> (status: Int, body: ByteBuffer) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers = Self.headers(session: session)
        request.body = .bytes(body)
        let response = try await http.execute(request, timeout: .seconds(30))
        return (Int(response.status.code), try await response.body.collect(upTo: 64 << 20))
    }

    /// Number of tools in the first page of tools/list.
    public func toolCount() async throws -> Int {
        let (_, body) = try await post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)
        let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let result = object?["result"] as? [String: Any]
        return (result?["tools"] as? [Any])?.count ?? -1
    }
}

extension ByteBuffer {
    /// Whether the readable bytes contain `needle`.
    public func contains(_ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        let view = readableBytesView
        guard let first = pattern.first, view.count >= pattern.count else { return pattern.isEmpty }
        var index = view.startIndex
        while index <= view.endIndex - pattern.count {
            if view[index] == first, view[index..<index + pattern.count].elementsEqual(pattern) { return true }
            index += 1
        }
        return false
    }
}

public struct BenchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Microseconds in a duration.
public func micros(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e6 + Double(d.components.attoseconds) / 1e12
}

public func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// Starts the gateway and returns it with the port it logs as `listening address=HOST:PORT`
/// (an info line: run it at log level info or lower).
public func startGateway(_ binary: String, _ arguments: [String]) async throws -> (Process, Int) {
    try await startProcess(binary, arguments, waitingFor: "listening")
}

/// Starts a program and waits for a line containing `marker`; returns the port at the end of
/// that line (`...:PORT` or `port=PORT`), or 0.
public func startProcess(_ binary: String, _ arguments: [String], waitingFor marker: String) async throws -> (Process, Int) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    let stderr = Pipe()
    process.standardError = stderr
    process.standardOutput = FileHandle.nullDevice
    let output = LockedText()
    // Drain the pipe for the whole run so that the gateway never blocks on a full stderr.
    stderr.fileHandleForReading.readabilityHandler = { output.append($0.availableData) }
    try process.run()
    let deadline = ContinuousClock.now + .seconds(30)
    while ContinuousClock.now < deadline && process.isRunning {
        let text = output.text
        if let line = text.split(separator: "\n").first(where: { $0.contains(marker) && (marker != "listening" || $0.contains("address=")) }) {
            let port = line.split(whereSeparator: { $0 == ":" || $0 == "=" }).last.flatMap({ Int($0.prefix { $0.isNumber }) }) ?? 0
            return (process, port)
        }
        try await Task.sleep(for: .milliseconds(20))
    }
    process.terminate()
    throw BenchError("\(binary) did not start:\n\(output.text)")
}

final class LockedText: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) {
        lock.lock()
        data.append(chunk)
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
