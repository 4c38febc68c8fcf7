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

        func record(_ outcome: Outcome, _ elapsed: Duration?) {
            calls[outcome.rawValue]?.increment()
            if let elapsed { duration.record(duration: elapsed) }
        }
    }

    let metrics: GatewayMetrics
    let endpoint: String

    private struct Handles {
        var tools: [String: ToolMetrics] = [:]
        /// Reads of templated resources, made on first use.
        var reads: ToolMetrics?
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
            let created = make("reshapr_tool_calls_total", "reshapr_tool_call_duration_seconds", [("endpoint", endpoint), ("tool", tool)])
            handles.tools[tool] = created
            return created
        }
        toolHandles?.record(outcome, duration)
    }

    /// `reshapr_resource_reads_total{endpoint,outcome}` and `reshapr_resource_read_duration_seconds{endpoint}`:
    /// reads of templated resources, which go to the backend.
    func recordRead(outcome: Outcome, duration: Duration?) {
        let readHandles: ToolMetrics? = handles.withLock { handles in
            guard !handles.retired else { return nil }
            if let existing = handles.reads { return existing }
            let created = make("reshapr_resource_reads_total", "reshapr_resource_read_duration_seconds", [("endpoint", endpoint)])
            handles.reads = created
            return created
        }
        readHandles?.record(outcome, duration)
    }

    private func make(_ counter: String, _ timer: String, _ dimensions: [(String, String)]) -> ToolMetrics {
        var calls: [String: Counter] = [:]
        for outcome in Outcome.allCases {
            calls[outcome.rawValue] = Counter(label: counter, dimensions: dimensions + [("outcome", outcome.rawValue)], factory: metrics.factory)
        }
        return ToolMetrics(calls: calls, duration: Timer(label: timer, dimensions: dimensions, factory: metrics.factory))
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
        for tool in Array(retired.tools.values) + (retired.reads.map { [$0] } ?? []) {
            for counter in tool.calls.values { counter.destroy() }
            tool.duration.destroy()
        }
        for counter in retired.backendErrors.values { counter.destroy() }
    }
}
