import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ReshaprConfig

/// Sends tool calls to backends: kept-alive HTTP/1.1 connections pooled per event loop for the
/// whole gateway, credentials applied per plan, OAuth2 tokens cached until shortly before they expire.
public final class BackendClient: Sendable {
    public static let maxResponseBytes = 16 << 20

    private let http = HTTP1ConnectionPool()
    let tokens: OAuth2TokenCache
    /// gRPC backends, on their own HTTP/2 connections.
    public let grpc = GRPCBackendClient()

    public init() {
        tokens = OAuth2TokenCache(client: http)
    }

    public func shutdown() async throws {
        await grpc.shutdown()
        await http.shutdown()
    }

    /// The headers `security` adds to a request (for gRPC metadata); query API keys become
    /// metadata of the same name.
    public func credentials(_ security: BackendSecurity, callerHeaders: [(name: String, value: String)]) async throws(BackendFailure) -> [(name: String, value: String)] {
        var request = BackendRequest(method: "POST", pathAndQuery: "")
        if case .apiKey(.query, let name, let value) = security {
            return [(name, try Self.resolve(value))]
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
        // What the operator pinned wins over what a tool argument says: a header parameter of
        // the spec that shares its name with `backend.headers` is dropped here, and `apply`
        // replaces any argument of the same name as the security's header or query parameter.
        var pinned = request
        let pinnedNames = Set(backend.headers.keys.map { $0.lowercased() })
        pinned.headers.removeAll { pinnedNames.contains($0.name.lowercased()) }
        while true {
            var authorized = pinned
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
        var headers = HTTPHeaders()
        headers.add(name: "Accept", value: "application/json")
        let response = try await http.execute(
            method: .GET, target: try BackendTarget(endpoint: url), tls: nil, pathAndQuery: "", headers: headers, body: nil, timeout: timeout,
            maxResponseBytes: limit)
        guard (200..<300).contains(response.status) else { throw BackendFailure.unreachable("\(url) answered \(response.status)") }
        return response.body
    }

    /// Adds the credentials of `security`, replacing any header or query parameter of the same
    /// name that tool arguments put there.
    func apply(_ security: BackendSecurity, to request: inout BackendRequest, callerHeaders: [(name: String, value: String)]) async throws(BackendFailure) {
        switch security {
        case .none: break
        case .apiKey(let location, let name, let value):
            switch location {
            case .header: request.setHeader(name, try Self.resolve(value))
            case .query:
                request.removeQuery(name)
                request.appendQuery(name, try Self.resolve(value))
            }
        case .bearer(let token):
            request.setHeader("Authorization", "Bearer " + (try Self.resolve(token)))
        case .basic(let username, let password):
            request.setHeader("Authorization", "Basic " + Data("\(username):\(try Self.resolve(password))".utf8).base64EncodedString())
        case .oauth2ClientCredentials:
            let token = try await tokens.token(for: security)
            request.setHeader("Authorization", "Bearer " + token)
        case .passthrough(let header):
            request.headers.removeAll { $0.name.lowercased() == header.lowercased() }
            if let value = callerHeaders.first(where: { $0.name.lowercased() == header.lowercased() })?.value {
                request.headers.append((header, value))
            }
        case .userCredential:
            // The caller resolves it into an apiKey with the user's answer; never sent without one.
            throw .credentials("the user has not provided the credential this API needs")
        }
    }

    /// A secret's value for this call, its references resolved now; one that does not resolve
    /// fails the call with its reason, never sends an empty credential.
    public static func resolve(_ value: SecretValue) throws(BackendFailure) -> String {
        do throws(SecretReferenceError) {
            return try value.resolve()
        } catch {
            throw .credentials(error.description)
        }
    }

    /// The plan's `backend.headers` for this call, references resolved.
    public static func pinnedHeaders(_ backend: HTTPBackend) throws(BackendFailure) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(backend.headers.count)
        for (name, value) in backend.headers { headers.append((name, try resolve(value))) }
        return headers
    }

    func execute(_ request: BackendRequest, base: HTTPBackend, timeout: Duration) async throws(BackendFailure) -> BackendResponse {
        var headers = HTTPHeaders()
        for (name, value) in try Self.pinnedHeaders(base) { headers.add(name: name, value: value) }
        for (name, value) in request.headers { headers.replaceOrAdd(name: name, value: value) }
        return try await http.execute(
            method: HTTPMethod(rawValue: request.method), target: try target(base.endpoint), tls: base.tls,
            pathAndQuery: request.pathAndQuery, headers: headers, body: request.body, timeout: timeout, maxResponseBytes: Self.maxResponseBytes)
    }

    /// Backend endpoints parsed once: a plan's endpoint is the same string at every call.
    private let targets = NIOLockedValueBox<[String: BackendTarget]>([:])

    private func target(_ endpoint: String) throws(BackendFailure) -> BackendTarget {
        if let target = targets.withLockedValue({ $0[endpoint] }) { return target }
        let target = try BackendTarget(endpoint: endpoint)
        targets.withLockedValue { targets in
            // Endpoints come from the configuration; the bound only guards against churn from reloads.
            if targets.count >= 4096 { targets.removeAll() }
            targets[endpoint] = target
        }
        return target
    }

    /// A short reason for a failed connection or exchange, for the model that made the call.
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as NIOConnectionError:
            if let failure = error.connectionErrors.first { return describe(failure.error) }
            if error.dnsAError != nil || error.dnsAAAAError != nil { return "cannot resolve the host \(error.host)" }
            return "cannot connect to \(error.host):\(error.port)"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            return "connection refused"
        case ChannelError.connectTimeout:
            return "the connection timed out"
        case let error as NIOSSLError:
            return "TLS failed: \(error)"
        default:
            let text = "\(error)"
            if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
            return text
        }
    }

    static func tlsConfiguration(_ tls: TLSSettings?) throws(BackendFailure) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        guard let tls else { return configuration }
        if tls.insecureSkipVerify { configuration.certificateVerification = .none }
        var caPEM = tls.caPEM
        if let secret = tls.caSecret { caPEM = try resolve(secret) }
        if let pem = caPEM {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))
            } catch {
                throw .unreachable("the CA bundle is not valid PEM")
            }
        }
        if let certificate = tls.clientCertificate, let key = tls.clientKey {
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMBytes(Array(try resolve(certificate).utf8)).map { .certificate($0) }
            } catch let failure as BackendFailure {
                throw failure
            } catch {
                throw .credentials("the client certificate is not valid PEM")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: Array(try resolve(key).utf8), format: .pem))
            } catch let failure as BackendFailure {
                throw failure
            } catch {
                throw .credentials("the client certificate's key is not a valid PEM private key")
            }
        }
        return configuration
    }
}
