import Metrics
import ReshaprTelemetry
import Synchronization

/// The gateway's figures on `/metrics` (Prometheus), through swift-metrics:
///
/// - `reshapr_tool_calls_total{endpoint,tool,outcome}`: outcome is `ok`, `tool_error` (the backend
///   answered an error status), `invalid_arguments`, `backend_error` (unreachable, timeout),
///   `overloaded` (the endpoint's concurrency limit) or `cancelled`.
/// - `reshapr_tool_call_duration_seconds{endpoint,tool}`: histogram of calls that reached the backend.
/// - `reshapr_backend_errors_total{endpoint,reason}`: `status_4xx`, `status_5xx`, `timeout`, `unreachable`.
/// - `reshapr_config_reloads_total{result}`, `reshapr_config_generation`, `reshapr_config_errors`.
/// - `reshapr_mcp_sessions`, `reshapr_mcp_endpoints`, `reshapr_tool_calls_in_flight` (set at scrape).
/// - `reshapr_mcp_rejected_total{reason}` (from the MCP server).
public struct GatewayMetrics: Sendable {
    public let registry: MetricsRegistry
    var factory: any MetricsFactory { registry.factory }

    public init(registry: MetricsRegistry = MetricsRegistry()) {
        self.registry = registry
    }

    func reload(succeeded: Bool) {
        Counter(label: "reshapr_config_reloads_total", dimensions: [("result", succeeded ? "ok" : "failed")], factory: factory).increment()
    }

    func gauge(_ name: String, _ value: Int) {
        Gauge(label: name, factory: factory).record(value)
    }

    func backendError(endpoint: String, reason: String) {
        Counter(label: "reshapr_backend_errors_total", dimensions: [("endpoint", endpoint), ("reason", reason)], factory: factory).increment()
    }
}

/// The counters of one endpoint's tools, made once per tool and outcome: a call then costs
/// one dictionary lookup instead of a registry lookup per metric.
final class EndpointMetrics: Sendable {
    enum Outcome: String, CaseIterable {
        case ok
        case toolError = "tool_error"
        case invalidArguments = "invalid_arguments"
        case backendError = "backend_error"
        case overloaded
        case cancelled
    }

    struct ToolMetrics: Sendable {
        var calls: [String: Counter]
        var duration: Timer
    }

    let metrics: GatewayMetrics
    let endpoint: String
    private let tools = Mutex<[String: ToolMetrics]>([:])

    init(metrics: GatewayMetrics, endpoint: String) {
        self.metrics = metrics
        self.endpoint = endpoint
    }

    func record(tool: String, outcome: Outcome, duration: Duration?) {
        let handles = tools.withLock { tools in
            if let existing = tools[tool] { return existing }
            var calls: [String: Counter] = [:]
            for outcome in Outcome.allCases {
                calls[outcome.rawValue] = Counter(
                    label: "reshapr_tool_calls_total", dimensions: [("endpoint", endpoint), ("tool", tool), ("outcome", outcome.rawValue)],
                    factory: metrics.factory)
            }
            let created = ToolMetrics(
                calls: calls,
                duration: Timer(label: "reshapr_tool_call_duration_seconds", dimensions: [("endpoint", endpoint), ("tool", tool)], factory: metrics.factory))
            tools[tool] = created
            return created
        }
        handles.calls[outcome.rawValue]?.increment()
        if let duration { handles.duration.record(duration: duration) }
    }
}
