import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ReshaprJSON

/// What the control plane answered when it refused a request (exit status 1).
public struct ServerError: Error, CustomStringConvertible {
    public var description: String
}

/// The CLI's saved login: where the control plane is and the session token. Kept in a file
/// only its owner can read (0600).
public struct CLISession: Sendable {
    public var server: String
    public var token: String
    public var organization: String
    /// A PEM file of the CA that signed the control plane's certificate; the system's CAs when `nil`.
    public var caFile: String?

    public static var path: String {
        if let explicit = ProcessInfo.processInfo.environment["RESHAPR_CLI_CONFIG"] { return explicit }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.config/reshapr/cli.json"
    }

    public static func load() throws -> CLISession {
        guard let data = FileManager.default.contents(atPath: path), let value = try? JSONParser.parse(Array(data)),
            let server = value["server"]?.stringValue, let token = value["token"]?.stringValue
        else { throw ServerError(description: "not logged in: run reshapr login") }
        return CLISession(server: server, token: token, organization: value["organization"]?.stringValue ?? "", caFile: value["caFile"]?.stringValue)
    }

    public func save() throws {
        let url = URL(fileURLWithPath: Self.path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var object: JSONObject = ["server": .string(server), "token": .string(token), "organization": .string(organization)]
        if let caFile { object["caFile"] = .string(caFile) }
        let text = JSONValue.object(object).serialized(pretty: true)
        FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: url.path)
    }

    public static func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}

/// A call to the REST API, with one HTTP client for the whole command. Over https, the
/// control plane's certificate is verified: against `caFile` when given, else the system's CAs.
public struct APIClient {
    let server: String
    let token: String?
    var caFile: String?

    public func call(_ method: HTTPMethod, _ path: String, _ body: JSONValue? = nil) async throws -> JSONValue {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw ServerError(description: "cannot read the CA file \(caFile): \(error)")
            }
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration(tlsConfiguration: tls))
        do {
            let value = try await send(http, method, path, body)
            try await http.shutdown()
            return value
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    private func send(_ http: HTTPClient, _ method: HTTPMethod, _ path: String, _ body: JSONValue?) async throws -> JSONValue {
        var request = HTTPClientRequest(url: server.hasSuffix("/") ? String(server.dropLast()) + path : server + path)
        request.method = method
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body { request.body = .bytes(ByteBuffer(string: body.serialized())) }
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(30))
        } catch {
            throw ServerError(description: "cannot reach the control plane at \(server): \(error)")
        }
        // An export carries every artifact of a group, base64-encoded: as large as a snapshot.
        let bytes = try await response.body.collect(upTo: 1 << 30)
        let value = bytes.readableBytes == 0 ? JSONValue.null : ((try? JSONParser.parse(Array(bytes.readableBytesView))) ?? .string(String(buffer: bytes)))
        guard response.status.code < 300 else {
            throw ServerError(description: value["error"]?.stringValue ?? "the control plane answered \(response.status.code)")
        }
        return value
    }
}
