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
/// - `reshapr_mcp_sessions`, `reshapr_mcp_subscriptions`, `reshapr_mcp_endpoints`, `reshapr_tool_calls_in_flight` (set at scrape).
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
        /// The tool's input schema cannot be compiled, so its calls are refused.
        case refused
    }

    struct ToolMetrics: Sendable {
        var calls: [String: Counter]
        var duration: Timer
    }

    let metrics: GatewayMetrics
    let endpoint: String

    private struct Handles {
        var tools: [String: ToolMetrics] = [:]
        var backendErrors: [String: Counter] = [:]
        /// Set when the endpoint is gone: a call that finishes later records nothing.
        var retired = false
    }

    private let handles = Mutex(Handles())

    init(metrics: GatewayMetrics, endpoint: String) {
        self.metrics = metrics
        self.endpoint = endpoint
    }

    func record(tool: String, outcome: Outcome, duration: Duration?) {
        let toolHandles: ToolMetrics? = handles.withLock { handles in
            guard !handles.retired else { return nil }
            if let existing = handles.tools[tool] { return existing }
            var calls: [String: Counter] = [:]
            for outcome in Outcome.allCases {
                calls[outcome.rawValue] = Counter(
                    label: "reshapr_tool_calls_total", dimensions: [("endpoint", endpoint), ("tool", tool), ("outcome", outcome.rawValue)],
                    factory: metrics.factory)
            }
            let created = ToolMetrics(
                calls: calls,
                duration: Timer(label: "reshapr_tool_call_duration_seconds", dimensions: [("endpoint", endpoint), ("tool", tool)], factory: metrics.factory))
            handles.tools[tool] = created
            return created
        }
        guard let toolHandles else { return }
        toolHandles.calls[outcome.rawValue]?.increment()
        if let duration { toolHandles.duration.record(duration: duration) }
    }

    /// `reshapr_backend_errors_total{endpoint,reason}`.
    func backendError(_ reason: String) {
        let counter: Counter? = handles.withLock { handles in
            guard !handles.retired else { return nil }
            if let existing = handles.backendErrors[reason] { return existing }
            let created = Counter(label: "reshapr_backend_errors_total", dimensions: [("endpoint", endpoint), ("reason", reason)], factory: metrics.factory)
            handles.backendErrors[reason] = created
            return created
        }
        counter?.increment()
    }

    /// Takes this endpoint's series off `/metrics`: a reload removed the endpoint. (An endpoint
    /// replaced at the same path keeps its series; only removed paths are retired.)
    func retire() {
        let retired = handles.withLock { handles in
            let old = handles
            handles = Handles(retired: true)
            return old
        }
        for tool in retired.tools.values {
            for counter in tool.calls.values { counter.destroy() }
            tool.duration.destroy()
        }
        for counter in retired.backendErrors.values { counter.destroy() }
    }
}
