import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import ReshaprConfig

/// Sends tool calls to backends: one pooled HTTP client for the whole gateway, credentials
/// applied per plan, OAuth2 tokens cached until shortly before they expire.
public final class BackendClient: Sendable {
    public static let maxResponseBytes = 16 << 20

    private let http: HTTPClient
    let tokens: OAuth2TokenCache
    /// gRPC backends, on their own HTTP/2 connections.
    public let grpc = GRPCBackendClient()

    public init() {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        configuration.timeout = .init(connect: .seconds(10))
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        tokens = OAuth2TokenCache(client: http)
    }

    public func shutdown() async throws {
        await grpc.shutdown()
        try await http.shutdown()
    }

    /// The headers `security` adds to a request (for gRPC metadata); query API keys become
    /// metadata of the same name.
    public func credentials(_ security: BackendSecurity, callerHeaders: [(name: String, value: String)]) async throws(BackendFailure) -> [(name: String, value: String)] {
        var request = BackendRequest(method: "POST", pathAndQuery: "")
        if case .apiKey(.query, let name, let value) = security {
            return [(name, value.revealed)]
        }
        try await apply(security, to: &request, callerHeaders: callerHeaders)
        return request.headers
    }

    /// Sends `request` to `backend`, with `security` applied; `callerHeaders` feed passthrough.
    public func send(
        _ request: BackendRequest, to backend: HTTPBackend, security: BackendSecurity, callerHeaders: [(name: String, value: String)],
        timeout: Duration
    ) async throws(BackendFailure) -> BackendResponse {
        var attempt = 0
        while true {
            var authorized = request
            try await apply(security, to: &authorized, callerHeaders: callerHeaders)
            let response = try await execute(authorized, base: backend, timeout: timeout)
            attempt += 1
            // A rejected OAuth2 token (revoked, or expired early): fetch a new one and try once more.
            guard response.status == 401, case .oauth2ClientCredentials = security, attempt == 1 else { return response }
            tokens.invalidate(security)
        }
    }

    /// GETs a small document (a JWKS): 2xx only, at most `limit` bytes, within `timeout`.
    public func fetch(_ url: String, limit: Int = 1 << 20, timeout: Duration = .seconds(10)) async throws(BackendFailure) -> [UInt8] {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        do {
            let response = try await http.execute(request, timeout: .seconds(timeout.components.seconds))
            let body = try await response.body.collect(upTo: limit)
            guard (200..<300).contains(response.status.code) else { throw BackendFailure.unreachable("\(url) answered \(response.status.code)") }
            return Array(body.readableBytesView)
        } catch let error as BackendFailure {
            throw error
        } catch is NIOTooManyBytesError {
            throw .responseTooLarge(limit: limit)
        } catch {
            throw .unreachable(Self.describe(error))
        }
    }

    func apply(_ security: BackendSecurity, to request: inout BackendRequest, callerHeaders: [(name: String, value: String)]) async throws(BackendFailure) {
        switch security {
        case .none: break
        case .apiKey(let location, let name, let value):
            switch location {
            case .header: request.headers.append((name, value.revealed))
            case .query: request.appendQuery(name, value.revealed)
            }
        case .bearer(let token):
            request.headers.append(("Authorization", "Bearer " + token.revealed))
        case .basic(let username, let password):
            request.headers.append(("Authorization", "Basic " + Data("\(username):\(password.revealed)".utf8).base64EncodedString()))
        case .oauth2ClientCredentials:
            let token = try await tokens.token(for: security)
            request.headers.append(("Authorization", "Bearer " + token))
        case .passthrough(let header):
            if let value = callerHeaders.first(where: { $0.name.lowercased() == header.lowercased() })?.value {
                request.headers.append((header, value))
            }
        }
    }

    func execute(_ request: BackendRequest, base: HTTPBackend, timeout: Duration) async throws(BackendFailure) -> BackendResponse {
        var endpoint = base.endpoint
        while endpoint.hasSuffix("/") { endpoint.removeLast() }
        var outgoing = HTTPClientRequest(url: endpoint + request.pathAndQuery)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in base.headers { outgoing.headers.add(name: name, value: value) }
        for (name, value) in request.headers { outgoing.headers.replaceOrAdd(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        if let tls = base.tls { outgoing.tlsConfiguration = try Self.tlsConfiguration(tls) }
        let milliseconds = timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        do {
            let response = try await http.execute(outgoing, timeout: .milliseconds(milliseconds))
            let body = try await response.body.collect(upTo: Self.maxResponseBytes)
            return BackendResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: Array(body.readableBytesView))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw .timeout(timeout)
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw .responseTooLarge(limit: Self.maxResponseBytes)
        } catch is CancellationError {
            throw .cancelled
        } catch {
            throw .unreachable(Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return error.description }
        let text = "\(error)"
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return text
    }

    static func tlsConfiguration(_ tls: TLSSettings) throws(BackendFailure) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if tls.insecureSkipVerify { configuration.certificateVerification = .none }
        if let pem = tls.caPEM {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            } catch {
                throw .unreachable("the CA bundle is not valid PEM")
            }
        }
        return configuration
    }
}
