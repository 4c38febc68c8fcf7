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

/// What `publishPetstore` set up on a control plane.
public struct PublishedPetstore: Sendable {
    /// The administrator's REST session.
    public var session: String
    /// An API token for syncs.
    public var token: String
    /// The mock plan's id, for changes.
    public var planID: String
}

/// Logs in as the benchmark administrator, makes an API token, and serves the samples' Petstore
/// (mock backend) on the default gateway group.
public func publishPetstore(_ http: HTTPClient, api: String, samples: String, password: String) async throws -> PublishedPetstore {
    let session = try await restJSON(http, .POST, api + "/login", #"{"username":"admin","password":"\#(password)"}"#, token: nil)["token"] as? String ?? ""
    let token = try await restJSON(http, .POST, api + "/api-tokens", #"{"name":"bench","validityDays":1}"#, token: session)["token"] as? String ?? ""
    let spec = try String(contentsOfFile: samples + "/petstore/openapi.yaml", encoding: .utf8)
    let specJSON = String(decoding: try JSONSerialization.data(withJSONObject: spec, options: [.fragmentsAllowed]), as: UTF8.self)
    let service = try await restJSON(http, .POST, api + "/services", #"{"artifacts":[{"fileName":"openapi.yaml","content":\#(specJSON)}]}"#, token: session)
    let plan = try await restJSON(
        http, .POST, api + "/configuration-plans", #"{"name":"petstore","serviceId":"\#(service["id"] as? String ?? "")","backend":{"mock":true}}"#,
        token: session)
    let groups = try await restJSONArray(http, api + "/gateway-groups", token: session)
    _ = try await restJSON(
        http, .POST, api + "/expositions", #"{"configurationId":"\#(plan["id"] as? String ?? "")","gatewayGroupId":"\#(groups.first?["id"] as? String ?? "")"}"#,
        token: session)
    return PublishedPetstore(session: session, token: token, planID: plan["id"] as? String ?? "")
}
