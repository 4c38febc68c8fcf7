import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import ReshaprJSON
import Synchronization
import Tracing

extension HTTPField.Name {
    public static let mcpSessionID = HTTPField.Name("Mcp-Session-Id")!
    public static let mcpProtocolVersion = HTTPField.Name("MCP-Protocol-Version")!
    public static let requestID = HTTPField.Name("X-Request-Id")!
    public static let traceparent = HTTPField.Name("traceparent")!
    public static let forwardedProto = HTTPField.Name("X-Forwarded-Proto")!
}

/// MCP over Streamable HTTP for any number of endpoints (one per path).
///
/// Both eras of the protocol are served on the same URL. Modern requests (2026-07-28) are POSTs
/// that carry their version and capabilities in `_meta`, need no session, and may open a
/// `subscriptions/listen` stream. Legacy clients (2025-11-25 and before) POST `initialize` for
/// a session, GET a server-sent-events stream for notifications, and DELETE the session.
public struct MCPServer: Sendable {
    public struct Options: Sendable {
        /// Origins allowed for browser requests; requests from other origins get 403.
        /// Loopback origins are always allowed. Requests without Origin (non-browser clients) pass.
        public var allowedOrigins: [String]
        public var maxBodyBytes: Int
        /// Tools per `tools/list` page.
        public var pageSize: Int
        /// Requests per client (the authenticated client, else the remote address); nil: unlimited.
        public var rateLimit: RateLimiter.Limit?
        /// How often an idle `subscriptions/listen` stream carries an SSE comment, so that proxies keep it.
        public var keepAliveInterval: Duration

        public init(
            allowedOrigins: [String] = [], maxBodyBytes: Int = 4 << 20, pageSize: Int = 100, rateLimit: RateLimiter.Limit? = nil,
            keepAliveInterval: Duration = .seconds(15)
        ) {
            self.keepAliveInterval = keepAliveInterval
            self.allowedOrigins = allowedOrigins
            self.maxBodyBytes = maxBodyBytes
            self.pageSize = pageSize
            self.rateLimit = rateLimit
        }
    }

    public let sessions: SessionStore
    /// `subscriptions/listen` streams of modern clients.
    public let subscriptions: SubscriptionHub
    public let rateLimiter: RateLimiter
    /// Seals the `requestState` of multi round-trip requests.
    let requestStates: RequestStateSealer
    let options: @Sendable () -> Options
    let logger: Logger
    let metrics: any MetricsFactory
    /// Whether a tracer was bootstrapped (OpenTelemetry) when the server was made; without one,
    /// calls skip building spans that nobody would export.
    let tracing: Bool

    /// `options` is read at every request, so that a reload changes limits and origins.
    /// Refused requests are counted in `reshapr_mcp_rejected_total{reason}` of `metrics`.
    public init(
        sessions: SessionStore, subscriptions: SubscriptionHub = SubscriptionHub(), rateLimiter: RateLimiter = RateLimiter(),
        requestStates: RequestStateSealer = RequestStateSealer(), logger: Logger, metrics: any MetricsFactory = NOOPMetricsHandler.instance,
        options: @escaping @Sendable () -> Options
    ) {
        self.sessions = sessions
        self.subscriptions = subscriptions
        self.rateLimiter = rateLimiter
        self.requestStates = requestStates
        self.logger = logger
        self.metrics = metrics
        self.options = options
        tracing = !(InstrumentationSystem.tracer is NoOpTracer)
    }

    /// Answers one HTTP request addressed to the MCP endpoint at `path`. Every answer carries
    /// `X-Request-Id`: the caller's, else the trace id of its `traceparent`, else a new one.
    public func handle(_ request: Request, path: String, provider: any MCPToolProvider, remoteAddress: String? = nil) async -> Response {
        let traceParent = request.headers[.traceparent].flatMap(TraceParent.init) ?? .random()
        let requestID = request.headers[.requestID].flatMap(Self.acceptableRequestID) ?? traceParent.traceID
        var logger = self.logger
        logger[metadataKey: "request_id"] = "\(requestID)"
        var response = await handle(request, path: path, provider: provider, remoteAddress: remoteAddress, traceParent: traceParent, requestID: requestID, logger: logger)
        response.headers[.requestID] = requestID
        return response
    }

    /// The endpoint a request path names: without its query, and without a trailing slash
    /// (`/mcp/x/` is `/mcp/x`; `/` stays).
    public static func endpointPath(_ requestPath: some StringProtocol) -> String {
        var path = requestPath.prefix { $0 != "?" }
        if path.count > 1, path.hasSuffix("/") { path.removeLast() }
        return String(path)
    }

    /// Request ids from callers are kept when they are short and printable.
    static func acceptableRequestID(_ value: String) -> String? {
        guard (1...128).contains(value.utf8.count),
            value.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x3A })
        else { return nil }
        return value
    }

    func reject(_ reason: String) {
        Counter(label: "reshapr_mcp_rejected_total", dimensions: [("reason", reason)], factory: metrics).increment()
    }

    private func handle(
        _ request: Request, path: String, provider: any MCPToolProvider, remoteAddress: String?, traceParent: TraceParent, requestID: String, logger: Logger
    ) async -> Response {
        let options = self.options()
        if let origin = request.headers[.origin], !Self.isAllowed(origin: origin, options.allowedOrigins) {
            logger.warning("refused request from origin", metadata: ["origin": "\(origin)", "path": "\(path)"])
            reject("origin")
            return Self.httpError(.forbidden, "Origin \(origin) is not allowed")
        }
        let client: String?
        let scopes: Set<String>?
        // The resource is the URL the client called, which may be an alias of `path`.
        switch await provider.authorize(request.headers, resource: Self.resourceURL(request, path: Self.endpointPath(request.uri.path))) {
        case .allowed(let name, let granted):
            client = name
            scopes = granted
        case .refused(let failure):
            logger.notice("refused request", metadata: ["path": "\(path)", "reason": "\(failure.message)", "remote": "\(remoteAddress ?? "?")"])
            reject(failure.status == .serviceUnavailable ? "auth_unavailable" : failure.status == .forbidden ? "insufficient_scope" : "unauthorized")
            var response = Self.jsonRPCError(failure.status, code: JSONRPCErrorCode.invalidRequest, failure.message)
            if let challenge = failure.challenge { response.headers[.wwwAuthenticate] = challenge }
            return response
        }
        let rateLimitKey = client ?? remoteAddress ?? "unknown"
        if let limited = admit(rateLimitKey, options: options) { return limited }
        let call = CallInfo(client: client, scopes: scopes, rateLimitKey: rateLimitKey, traceParent: traceParent, requestID: requestID, logger: logger)
        switch request.method {
        case .post: return await post(request, path: path, provider: provider, options: options, call: call)
        case .get: return get(request, path: path, client: client)
        case .delete:
            guard let id = request.headers[.mcpSessionID] else { return Self.httpError(.badRequest, "Mcp-Session-Id header is required") }
            guard sessions.touch(id, path: path, client: client) != nil else { return Self.httpError(.notFound, "unknown session") }
            sessions.remove(id)
            return Response(status: .noContent)
        default:
            var response = Self.httpError(.methodNotAllowed, "use POST, GET or DELETE")
            response.headers[.allow] = "GET, POST, DELETE"
            return response
        }
    }

    /// Counts one message against the client's rate limit; the 429 answer when over it.
    func admit(_ key: String, options: Options) -> Response? {
        guard let limit = options.rateLimit, case .limited(let retryAfter) = rateLimiter.admit(key, limit: limit) else { return nil }
        reject("rate_limited")
        let seconds = max(1, Int(min(RateLimiter.seconds(retryAfter), 86_400).rounded(.up)))
        var response = Self.jsonRPCError(
            .tooManyRequests, code: JSONRPCErrorCode.serverError,
            "rate limit exceeded: at most \(limit.requestsPerSecond.formatted()) requests per second per client (burst \(limit.burst)); retry in \(seconds) s")
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    /// What a tool call needs to know of the request beyond its headers.
    /// The scopes a call of `tool` needs when the caller's token lacks some of them; nil when it
    /// may call it (or the endpoint checks no scopes).
    static func scopesLacking(tool: String, provider: any MCPToolProvider, scopes: Set<String>?) -> [String]? {
        guard let scopes else { return nil }
        let needed = provider.requiredScopes(forTool: tool)
        return needed.allSatisfy(scopes.contains) ? nil : needed
    }

    /// A 403 for a `tools/call` whose tool needs scopes the caller's token lacks, with the
    /// challenge of the MCP authorization spec's step-up flow; nil when the call may go on.
    func insufficientScope(_ request: Request, tool: String, provider: any MCPToolProvider, scopes: Set<String>?) -> Response? {
        guard let needed = Self.scopesLacking(tool: tool, provider: provider, scopes: scopes) else { return nil }
        reject("insufficient_scope")
        let resource = Self.resourceURL(request, path: Self.endpointPath(request.uri.path))
        var response = Self.jsonRPCError(
            .forbidden, code: JSONRPCErrorCode.invalidRequest, "calling \(tool) needs the scopes \(needed.joined(separator: " ")); the token lacks some")
        response.headers[.wwwAuthenticate] =
            "Bearer error=\"insufficient_scope\", scope=\"\(needed.joined(separator: " "))\", resource_metadata=\"\(resource.protectedResourceMetadata)\""
        return response
    }

    struct CallInfo {
        var client: String?
        var scopes: Set<String>?
        /// Who the rate limit counts this request against.
        var rateLimitKey: String
        var traceParent: TraceParent
        var requestID: String
        var logger: Logger
    }

    /// The endpoint's URL as the client reached it: `X-Forwarded-Proto` (from a TLS-terminating
    /// proxy) or http, and the request's authority.
    public static func resourceURL(_ request: Request, path: String) -> MCPResourceURL {
        let proto = request.headers[.forwardedProto]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        let scheme = proto == "https" ? "https" : "http"
        let authority = request.head.authority ?? "localhost"
        return MCPResourceURL(origin: "\(scheme)://\(authority)", path: path)
    }

    static func isAllowed(origin: String, _ allowed: [String]) -> Bool {
        if allowed.contains("*") || allowed.contains(origin) { return true }
        guard let url = URL(string: origin), let host = url.host else { return false }
        return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "[::1]"
    }

    // MARK: - Responses

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.serializedBytes())))
    }

    static func jsonRPCError(_ status: HTTPResponse.Status, code: Int, _ message: String) -> Response {
        json(JSONRPC.error(id: .null, code: code, message: message), status: status)
    }

    static func httpError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        json(["error": .string(message)], status: status)
    }
}

/// Set by `notifications/cancelled` for a call in flight.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    func set() {
        flag.store(true, ordering: .relaxed)
    }

    var isSet: Bool { flag.load(ordering: .relaxed) }
}

/// Reads trace context (`traceparent`, `tracestate`) from request headers.
struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}
