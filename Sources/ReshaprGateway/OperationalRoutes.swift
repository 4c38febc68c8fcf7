import Hummingbird
import NIOCore
import ReshaprJSON
import ReshaprMCP
import ReshaprTelemetry
import Synchronization

/// The routes of the gateway that are not MCP: health, status, metrics, and the OAuth
/// protected resource metadata of JWT-protected endpoints.
struct OperationalRoutes: Sendable {
    let store: ConfigurationStore
    let sessions: SessionStore
    let subscriptions: SubscriptionHub
    let metrics: GatewayMetrics
    let rateLimiter: RateLimiter
    let listen: BoundAddress

    func addMetrics<Context: RequestContext>(to router: Router<Context>) {
        let store = self.store
        let sessions = self.sessions
        let subscriptions = self.subscriptions
        let metrics = self.metrics
        let rateLimiter = self.rateLimiter
        router.get("/metrics") { _, _ in
            let snapshot = store.current
            metrics.gauge("reshapr_mcp_sessions", sessions.count)
            metrics.gauge("reshapr_mcp_subscriptions", subscriptions.count)
            metrics.gauge("reshapr_mcp_endpoints", snapshot.routing.endpoints.count)
            metrics.gauge("reshapr_tool_calls_in_flight", snapshot.routing.endpoints.values.reduce(0) { $0 + $1.callsInFlight })
            metrics.gauge("reshapr_config_generation", snapshot.generation)
            metrics.gauge("reshapr_config_errors", snapshot.issues.filter { $0.severity == .error }.count)
            metrics.gauge("reshapr_rate_limited_clients_tracked", rateLimiter.trackedClients)
            return Response(
                status: .ok, headers: [.contentType: MetricsRegistry.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.render())))
        }
    }

    /// RFC 9728 metadata of each JWT-protected endpoint, where the MCP authorization spec
    /// sends clients to discover the authorization server.
    func addProtectedResourceMetadata<Context: RequestContext>(to router: Router<Context>) {
        let store = self.store
        router.get("/.well-known/oauth-protected-resource/**") { request, _ in
            let prefix = "/.well-known/oauth-protected-resource"
            let path = MCPServer.endpointPath(request.uri.path.dropFirst(prefix.count))
            guard let endpoint = store.current.routing.endpoint(at: path)?.endpoint,
                case .jwt(let issuer, _, _, _, let servers, _) = endpoint.exposition.plan.clientSecurity
            else {
                return Self.json(["error": .string("no OAuth-protected MCP endpoint at \(path)")], status: .notFound)
            }
            let resource = MCPServer.resourceURL(request, path: path)
            return Self.json([
                "resource": .string(resource.url),
                "authorization_servers": .array((servers.isEmpty ? [issuer] : servers).map(JSONValue.string)),
                "bearer_methods_supported": ["header"],
                "scopes_supported": .array(endpoint.scopesSupported.map(JSONValue.string)),
                "resource_name": .string("\(endpoint.exposition.service.metadata.name) \(endpoint.exposition.service.version) (reShapr MCP)"),
            ])
        }
    }

    func addHealth<Context: RequestContext>(to router: Router<Context>) {
        let store = self.store
        router.get("/health/live") { _, _ in
            Self.json(["status": "live"])
        }
        router.get("/health/ready") { _, _ in
            let snapshot = store.current
            return Self.json(StatusReport.readiness(snapshot), status: StatusReport.isReady(snapshot) ? .ok : .serviceUnavailable)
        }
    }

    func addStatus<Context: RequestContext>(to router: Router<Context>) {
        let store = self.store
        let sessions = self.sessions
        let listen = self.listen
        router.get("/status") { _, _ in
            Self.json(StatusReport.status(store.current, listen: listen.value, sessions: sessions, subscriptions: subscriptions))
        }
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: value.serialized(pretty: true) + "\n")))
    }
}

/// The address actually bound, known only once the server runs (port 0 picks one).
final class BoundAddress: Sendable {
    private let state: Mutex<String>

    init(_ initial: String) {
        state = Mutex(initial)
    }

    var value: String {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}

