import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ReshaprConfig
import Synchronization

/// Why a gRPC call has no answer.
public enum GRPCCallFailure: Error, Sendable, CustomStringConvertible {
    /// The server answered with a non-OK status.
    case status(code: String, message: String)
    case invalidEndpoint(String)
    case cancelled

    public var description: String {
        switch self {
        case .status(let code, let message): return "gRPC status \(code)\(message.isEmpty ? "" : ": \(message)")"
        case .invalidEndpoint(let reason): return reason
        case .cancelled: return "cancelled"
        }
    }
}

/// Unary gRPC calls with already-encoded protobuf messages, over one HTTP/2 connection pool
/// per backend (host, port, TLS settings), kept for the life of the gateway.
public final class GRPCBackendClient: Sendable {
    private struct Pooled: Sendable {
        let client: GRPCClient<HTTP2ClientTransport.Posix>
        let connections: Task<Void, Never>
    }

    /// Calls to one backend share a client when they go to the same place with the same TLS settings.
    private struct PoolKey: Hashable {
        var scheme: String
        var host: String
        var port: Int
        var tls: TLSSettings?
    }

    private let clients = Mutex<[PoolKey: Pooled]>([:])

    public init() {}

    /// Calls `service/method` on `backend.endpoint` (`http://host:port` for plaintext,
    /// `https://` for TLS), with `metadata` (the plan's headers, credentials, trace context).
    public func unary(
        _ request: [UInt8], service: String, method: String, backend: HTTPBackend, metadata: [(name: String, value: String)], timeout: Duration
    ) async throws(GRPCCallFailure) -> [UInt8] {
        let client = try self.client(for: backend)
        var callMetadata = Metadata()
        for (name, value) in metadata { callMetadata.addString(value, forKey: name.lowercased()) }
        var options = CallOptions.defaults
        options.timeout = timeout
        do {
            return try await client.unary(
                request: ClientRequest(message: request, metadata: callMetadata),
                descriptor: MethodDescriptor(fullyQualifiedService: service, method: method),
                serializer: RawSerializer(), deserializer: RawDeserializer(), options: options
            ) { response in try response.message }
        } catch let error as RPCError {
            throw .status(code: Self.name(of: error.code), message: error.message)
        } catch is CancellationError {
            throw .cancelled
        } catch {
            throw .status(code: "UNKNOWN", message: "\(error)")
        }
    }

    /// Closes every connection.
    public func shutdown() async {
        let pooled = clients.withLock { clients in
            defer { clients.removeAll() }
            return Array(clients.values)
        }
        for entry in pooled { entry.client.beginGracefulShutdown() }
        for entry in pooled { await entry.connections.value }
    }

    /// Whether `host` is an IP address literal of `family`.
    static func isAddress(_ host: String, family: Int32) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 16)
        return inet_pton(family, host, &buffer) == 1
    }

    private func client(for backend: HTTPBackend) throws(GRPCCallFailure) -> GRPCClient<HTTP2ClientTransport.Posix> {
        guard let url = URL(string: backend.endpoint), let scheme = url.scheme, let host = url.host else {
            throw .invalidEndpoint("backend endpoint \(backend.displayEndpoint) is not a URL")
        }
        let secure = scheme == "https"
        let port = url.port ?? (secure ? 443 : 80)
        let key = PoolKey(scheme: scheme, host: host, port: port, tls: backend.tls)
        if let existing = clients.withLock({ $0[key] }) { return existing.client }
        // TLS material is resolved once, when the connection is set up (not at every call).
        var ca = backend.tls?.caPEM
        let identity: (certificate: String, key: String)?
        do throws(SecretReferenceError) {
            if let secret = backend.tls?.caSecret { ca = try secret.resolve() }
            if let certificate = backend.tls?.clientCertificate, let key = backend.tls?.clientKey {
                identity = (try certificate.resolve(), try key.resolve())
            } else {
                identity = nil
            }
        } catch {
            throw .invalidEndpoint("cannot set up TLS to \(backend.displayEndpoint): \(error)")
        }
        return try clients.withLock { clients throws(GRPCCallFailure) in
            if let existing = clients[key] { return existing.client }
            let security: HTTP2ClientTransport.Posix.TransportSecurity
            if secure {
                let skipVerify = backend.tls?.insecureSkipVerify == true
                security = .tls { config in
                    if let ca { config.trustRoots = .certificates([.bytes(Array(ca.utf8), format: .pem)]) }
                    if let identity {
                        config.certificateChain = [.bytes(Array(identity.certificate.utf8), format: .pem)]
                        config.privateKey = .bytes(Array(identity.key.utf8), format: .pem)
                    }
                    if skipVerify { config.serverCertificateVerification = .noVerification }
                }
            } else {
                security = .plaintext
            }
            let transport: HTTP2ClientTransport.Posix
            do {
                // An IP literal is not a DNS name: as one, it would become a TLS server name (SNI),
                // which TLS forbids, and no connection would be made.
                let target: any ResolvableTarget =
                    Self.isAddress(host, family: AF_INET) ? .ipv4(host: host, port: port)
                    : Self.isAddress(host, family: AF_INET6) ? .ipv6(host: host, port: port) : .dns(host: host, port: port)
                transport = try HTTP2ClientTransport.Posix(target: target, transportSecurity: security)
            } catch {
                throw .invalidEndpoint("cannot connect to \(backend.displayEndpoint): \(error)")
            }
            let client = GRPCClient(transport: transport)
            let connections = Task<Void, Never> { try? await client.runConnections() }
            clients[key] = Pooled(client: client, connections: connections)
            return client
        }
    }

    static func name(of code: RPCError.Code) -> String {
        switch code {
        case .cancelled: return "CANCELLED"
        case .unknown: return "UNKNOWN"
        case .invalidArgument: return "INVALID_ARGUMENT"
        case .deadlineExceeded: return "DEADLINE_EXCEEDED"
        case .notFound: return "NOT_FOUND"
        case .alreadyExists: return "ALREADY_EXISTS"
        case .permissionDenied: return "PERMISSION_DENIED"
        case .resourceExhausted: return "RESOURCE_EXHAUSTED"
        case .failedPrecondition: return "FAILED_PRECONDITION"
        case .aborted: return "ABORTED"
        case .outOfRange: return "OUT_OF_RANGE"
        case .unimplemented: return "UNIMPLEMENTED"
        case .internalError: return "INTERNAL"
        case .unavailable: return "UNAVAILABLE"
        case .dataLoss: return "DATA_LOSS"
        case .unauthenticated: return "UNAUTHENTICATED"
        default: return "\(code)"
        }
    }
}

/// Messages already in protobuf binary form pass through as they are.
struct RawSerializer: MessageSerializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes {
        Bytes(message)
    }
}

struct RawDeserializer: MessageDeserializer {
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
