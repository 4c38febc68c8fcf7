import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A JSON call to reshapr-ctrl's REST API; a non-2xx answer is an error with its body.
public func restJSON(_ http: HTTPClient, _ method: NIOHTTP1.HTTPMethod, _ url: String, _ body: String, token: String?) async throws -> [String: Any] {
    var request = HTTPClientRequest(url: url)
    request.method = method
    request.headers.add(name: "Content-Type", value: "application/json")
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await http.execute(request, timeout: .seconds(10))
    let bytes = try await response.body.collect(upTo: 1 << 20)
    guard response.status.code < 300 else { throw BenchError("\(method) \(url): \(response.status.code) \(String(buffer: bytes))") }
    return (try JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any]) ?? [:]
}

/// A GET of a JSON list from reshapr-ctrl's REST API.
public func restJSONArray(_ http: HTTPClient, _ url: String, token: String) async throws -> [[String: Any]] {
    var request = HTTPClientRequest(url: url)
    request.headers.add(name: "Authorization", value: "Bearer \(token)")
    let response = try await http.execute(request, timeout: .seconds(10))
    return (try JSONSerialization.jsonObject(with: Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)) as? [[String: Any]]) ?? []
}

/// A process's resident memory in bytes (`VmRSS` of /proc/PID/status), 0 when unknown.
public func residentBytes(_ pid: Int32) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
        let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
    else { return 0 }
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}

/// A process's CPU time in nanoseconds, from /proc/PID/task/*/schedstat.
public func cpuNanoseconds(_ pid: Int32) -> Int {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
    return tasks.reduce(0) { total, task in
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
        return total + (Int(text.split(separator: " ").first ?? "") ?? 0)
    }
}
