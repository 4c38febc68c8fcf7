import Foundation
import HTTPTypes
import Logging
import ReshaprAuth
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprTelemetry
import ReshaprOpenAPI
import ReshaprGraphQL
import ReshaprProtobuf
import ReshaprTools
import Synchronization
import Tracing

/// What a tool calls, whatever the kind of API it comes from.
public enum ToolBinding: Sendable, Hashable {
    case http(HTTPOperation)
    case graphQL(GraphQLOperation)
    case grpc(GRPCMethodBinding)
    /// A tool of the Service's CustomTools: over another tool, or a script.
    case custom(CustomTool)
}

/// One served MCP endpoint: the tools of an exposition and how to call them.
/// Immutable once built; a reload builds new ones, and calls in flight keep theirs.
public final class ToolEndpoint: MCPToolProvider {
    public let exposition: ResolvedExposition
    public let toolSet: ToolSet
    public let serverInfo: JSONValue
    public let instructions: String?
    let backend: BackendClient
    let callTimeout: Duration
    /// Tool calls in flight on this endpoint above which calls are refused (`overloaded`).
    let maxConcurrentCalls: Int
    let scriptGuardrails: GatewaySettings.ScriptGuardrails
    /// The gateway's endpoints by Service, for scripts that call another Service's tools.
    let directory: EndpointDirectory
    let verifier: JWTVerifier?
    let metrics: EndpointMetrics
    /// Where the audit lines of a plan with `audit` go.
    let audit: AuditLog?
    let logger: Logger
    /// Tool calls and resource reads of this endpoint in flight.
    private let inFlight = Atomic<Int>(0)
    /// The prompts and resources the endpoint serves.
    public let content: EndpointContent
    /// JWT client security: the scopes each tool's calls need.
    let scopesByTool: [String: [String]]

    public var catalog: ToolCatalog<ToolBinding> { toolSet.catalog }
    public var tools: [JSONValue] { toolSet.tools }
    /// Tool calls of this endpoint now in flight.
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    init(
        exposition: ResolvedExposition, toolSet: ToolSet, backend: BackendClient, callTimeout: Duration, maxConcurrentCalls: Int,
        scriptGuardrails: GatewaySettings.ScriptGuardrails = GatewaySettings.ScriptGuardrails(), directory: EndpointDirectory = EndpointDirectory(),
        verifier: JWTVerifier?, metrics: EndpointMetrics, audit: AuditLog? = nil, logger: Logger
    ) {
        self.audit = audit
        self.scriptGuardrails = scriptGuardrails
        self.directory = directory
        self.exposition = exposition
        self.toolSet = toolSet
        self.backend = backend
        self.callTimeout = callTimeout
        self.maxConcurrentCalls = maxConcurrentCalls
        self.verifier = verifier
        self.metrics = metrics
        self.logger = logger
        content = EndpointContent(service: exposition.service, plan: exposition.plan)
        scopesByTool = Self.scopesByTool(toolSet.tools, plan: exposition.plan)
        let service = exposition.service
        serverInfo = [
            "name": .string("reshapr-\(service.metadata.name)"),
            "title": .string("\(service.metadata.name) \(service.version) (reShapr)"),
            "version": .string(service.version),
        ]
        instructions = exposition.exposition.description ?? exposition.plan.description ?? service.description
    }

    public var listCacheTTL: Duration { exposition.plan.listCacheTTL ?? .seconds(60) }

    public func paramHeaders(ofTool name: String) -> [MCPParamHeader] { toolSet.paramHeaders[name] ?? [] }

    public func callTool(name: String, arguments: JSONObject, context: MCPCallContext) async -> MCPToolLookup {
        guard let tool = catalog.tool(named: name) else { return .unknownTool }
        guard takeCallSlot() else {
            metrics.record(tool: name, outcome: .overloaded, duration: nil)
            context.logger.warning("concurrency limit reached", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "limit": "\(maxConcurrentCalls)"])
            return .result(
                .text(
                    "The gateway is already running \(maxConcurrentCalls) calls on this endpoint, its limit. Call \(name) again in a moment.",
                    isError: true))
        }
        defer { releaseCallSlot() }
        let started = ContinuousClock.now
        let call = await invoke(tool, arguments: arguments, context: context, nesting: 0)
        if let settings = exposition.plan.audit, let audit {
            audit.write(auditLine(tool: name, arguments: arguments, call: call, duration: ContinuousClock.now - started, context: context, settings: settings))
        }
        var result = call.result
        // The backend refused the user's credential: a session must not keep offering it.
        if call.unauthorized, case .userCredential = exposition.plan.backendSecurity { result.userInputRejected = true }
        return .result(result)
    }

    /// Takes one of the endpoint's `maxConcurrentCalls` slots (tool calls and templated resource
    /// reads); false, taking none, when all are in use. Refuse rather than queue: a queue in
    /// front of a slow backend only grows.
    func takeCallSlot() -> Bool {
        guard inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= maxConcurrentCalls else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseCallSlot() {
        inFlight.wrappingSubtract(1, ordering: .relaxed)
    }

    /// One tool call through the whole path: argument validation, the backend (or the custom
    /// tool's own calls), output filter, metrics. `nesting` counts the scripted tools above this
    /// call; calls made by custom tools come back here with it.
    func invoke(_ tool: CompiledTool<ToolBinding>, arguments: JSONObject, context: MCPCallContext, nesting: Int, filtered: Bool = true) async -> CallOutcome {
        let name = tool.definition.name
        guard let validators = toolSet.validators(for: tool) else {
            metrics.record(tool: name, outcome: .refused, duration: nil)
            let reason = toolSet.unusable[name] ?? "its schemas cannot be checked"
            return CallOutcome(
                result: .text("The gateway refuses to call \(name): \(reason). The operator must fix the configuration.", isError: true), outcome: .refused,
                reachedBackend: false)
        }
        let violations = validators.input.validate(.object(arguments))
        if !violations.isEmpty {
            metrics.record(tool: name, outcome: .invalidArguments, duration: nil)
            let details = violations.prefix(10).map { $0.path.isRoot ? $0.message : "\($0.path): \($0.message)" }.joined(separator: "; ")
            return CallOutcome(result: Self.invalidArguments(name, details), outcome: .invalidArguments, reachedBackend: false)
        }
        let started = ContinuousClock.now
        var call: CallOutcome
        switch tool.binding {
        case .http(let operation):
            call = await callHTTP(operation, name: name, arguments: arguments, outputValidator: validators.backend, context: context)
        case .graphQL(let operation):
            call = await callGraphQL(operation, name: name, arguments: arguments, context: context)
        case .grpc(let method):
            call = await callGRPC(method, name: name, arguments: arguments, context: context)
        case .custom(let custom):
            call = await callCustom(custom, arguments: arguments, context: context, nesting: nesting)
        }
        if filtered, let filter = toolSet.filters[name] {
            call = applying(filter, to: call, tool: name, validator: validators.filtered, context: context)
        }
        if case .custom = tool.binding {
            metrics.record(tool: name, outcome: call.outcome, duration: ContinuousClock.now - started)
        } else {
            metrics.record(tool: name, outcome: call.outcome, duration: call.reachedBackend ? ContinuousClock.now - started : nil)
            if let backendError = call.backendError { metrics.backendError(backendError) }
        }
        context.logger.debug("tool called", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "outcome": "\(call.outcome.rawValue)"])
        return call
    }

    /// What one call gave, for the caller and for the metrics.
    struct CallOutcome {
        var result: MCPToolResult
        var outcome: EndpointMetrics.Outcome
        var reachedBackend = true
        /// The canonical JSON of a successful answer: what output filters and scripts work on.
        var answer: JSONValue?
        /// The backend answered 401 (gRPC: UNAUTHENTICATED): it refused the credentials it was sent.
        var unauthorized = false
        /// `reshapr_backend_errors_total` reason, if the backend failed.
        var backendError: String?
        /// The backend's HTTP status, when one answered.
        var backendStatus: Int?
    }

    /// The outcome of a call whose backend could not be reached or did not answer in time.
    func failed(_ name: String, _ error: BackendFailure, context: MCPCallContext) -> CallOutcome {
        if case .cancelled = error {
            return CallOutcome(result: .text("The call to \(name) was cancelled.", isError: true), outcome: .cancelled, reachedBackend: false)
        }
        context.logger.warning("backend call failed", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "reason": "\(error)"])
        var reason = "unreachable"
        if case .timeout = error { reason = "timeout" }
        return CallOutcome(result: .text("Calling \(name) failed: \(error).", isError: true), outcome: .backendError, backendError: reason)
    }

    /// The tool result for arguments the model must fix, whichever way they were found wrong.
    static func invalidArguments(_ name: String, _ reason: String) -> MCPToolResult {
        .text("Invalid arguments for \(name): \(reason). Fix the arguments and call the tool again.", isError: true)
    }

    /// `reshapr_backend_errors_total` reason of an HTTP status; nil for success.
    static func errorReason(status: Int) -> String? {
        status >= 500 ? "status_5xx" : status >= 400 ? "status_4xx" : nil
    }

    /// Headers every backend request carries: the trace context, and for passthrough security
    /// the caller's headers (copied only then).
    func forwardedHeaders(_ context: MCPCallContext) -> (trace: [(String, String)], caller: [(name: String, value: String)]) {
        // With a tracer, the backend's parent is this call's span; without one, the caller's
        // trace context goes on as it came (or the one started for this request).
        var injected = TraceHeaders()
        if let current = ServiceContext.current { InstrumentationSystem.instrument.inject(current, into: &injected, using: TraceHeaders.Injector()) }
        var trace: [(String, String)]
        if let traceparent = injected.values["traceparent"] {
            trace = [("traceparent", traceparent)]
            if let state = injected.values["tracestate"] { trace.append(("tracestate", state)) }
        } else {
            trace = [("traceparent", context.traceParent.description)]
            if let state = context.headers[.tracestate] { trace.append(("tracestate", state)) }
        }
        var caller: [(name: String, value: String)] = []
        if case .passthrough = exposition.plan.backendSecurity {
            caller = context.headers.map { (name: $0.name.canonicalName, value: $0.value) }
        }
        return (trace, caller)
    }
}

/// Trace context headers written by the tracer.
struct TraceHeaders {
    var values: [String: String] = [:]

    struct Injector: Tracing.Injector {
        func inject(_ value: String, forKey key: String, into carrier: inout TraceHeaders) {
            carrier.values[key.lowercased()] = value
        }
    }
}

extension HTTPField.Name {
    static let tracestate = HTTPField.Name("tracestate")!
}
