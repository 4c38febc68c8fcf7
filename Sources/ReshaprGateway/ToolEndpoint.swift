import Foundation
import HTTPTypes
import Logging
import ReshaprAuth
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
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
    let verifier: JWTVerifier?
    let metrics: EndpointMetrics
    let logger: Logger
    private let inFlight = Atomic<Int>(0)

    public var catalog: ToolCatalog<ToolBinding> { toolSet.catalog }
    public var tools: [JSONValue] { toolSet.tools }
    /// Tool calls of this endpoint now in flight.
    public var callsInFlight: Int { inFlight.load(ordering: .relaxed) }

    init(
        exposition: ResolvedExposition, toolSet: ToolSet, backend: BackendClient, callTimeout: Duration, maxConcurrentCalls: Int,
        verifier: JWTVerifier?, metrics: EndpointMetrics, logger: Logger
    ) {
        self.exposition = exposition
        self.toolSet = toolSet
        self.backend = backend
        self.callTimeout = callTimeout
        self.maxConcurrentCalls = maxConcurrentCalls
        self.verifier = verifier
        self.metrics = metrics
        self.logger = logger
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
        guard let (input, output) = toolSet.validators(for: tool) else {
            metrics.record(tool: name, outcome: .refused, duration: nil)
            let reason = toolSet.unusable[name] ?? "its schemas cannot be checked"
            return .result(.text("The gateway refuses to call \(name): \(reason). The operator must fix the API description.", isError: true))
        }
        let violations = input.validate(.object(arguments))
        if !violations.isEmpty {
            metrics.record(tool: name, outcome: .invalidArguments, duration: nil)
            let details = violations.prefix(10).map { $0.path.isRoot ? $0.message : "\($0.path): \($0.message)" }.joined(separator: "; ")
            return .result(Self.invalidArguments(name, details))
        }
        // Refuse rather than queue: a queue in front of a slow backend only grows.
        guard inFlight.wrappingAdd(1, ordering: .relaxed).newValue <= maxConcurrentCalls else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            metrics.record(tool: name, outcome: .overloaded, duration: nil)
            context.logger.warning("concurrency limit reached", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "limit": "\(maxConcurrentCalls)"])
            return .result(
                .text(
                    "The gateway is already running \(maxConcurrentCalls) calls on this endpoint, its limit. Call \(name) again in a moment.",
                    isError: true))
        }
        defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
        let started = ContinuousClock.now
        let call: CallOutcome
        switch tool.binding {
        case .http(let operation):
            call = await callHTTP(operation, name: name, arguments: arguments, outputValidator: output, context: context)
        case .graphQL(let operation):
            call = await callGraphQL(operation, name: name, arguments: arguments, context: context)
        case .grpc(let method):
            call = await callGRPC(method, name: name, arguments: arguments, context: context)
        }
        metrics.record(tool: name, outcome: call.outcome, duration: call.reachedBackend ? ContinuousClock.now - started : nil)
        if let backendError = call.backendError { metrics.backendError(backendError) }
        context.logger.debug("tool called", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "outcome": "\(call.outcome.rawValue)"])
        var result = call.result
        // The backend refused the user's credential: a session must not keep offering it.
        if call.unauthorized, case .userCredential = exposition.plan.backendSecurity { result.userInputRejected = true }
        return .result(result)
    }

    /// What one call gave, for the caller and for the metrics.
    struct CallOutcome {
        var result: MCPToolResult
        var outcome: EndpointMetrics.Outcome
        var reachedBackend = true
        /// The backend answered 401 (gRPC: UNAUTHENTICATED): it refused the credentials it was sent.
        var unauthorized = false
        /// `reshapr_backend_errors_total` reason, if the backend failed.
        var backendError: String?
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

    func callHTTP(
        _ operation: HTTPOperation, name: String, arguments: JSONObject, outputValidator: JSONSchemaValidator?, context: MCPCallContext
    ) async -> CallOutcome {
        var request: BackendRequest
        do {
            request = try RequestBuilder.build(operation, arguments: arguments)
        } catch {
            return CallOutcome(
                result: Self.invalidArguments(name, "\(error)"),
                outcome: .invalidArguments, reachedBackend: false)
        }
        let response: BackendResponse
        switch exposition.plan.backend {
        case .mock:
            response = MockResponder.respond(to: operation)
        case .http(let http):
            let (trace, caller) = forwardedHeaders(context)
            request.headers.append(contentsOf: trace)
            do {
                response = try await backend.send(
                    request, to: http, security: backendSecurity(context), callerHeaders: caller, timeout: min(http.timeout, callTimeout))
            } catch {
                return failed(name, error, context: context)
            }
        }
        let result = ResultMapper.result(for: response, outputValidator: outputValidator)
        return CallOutcome(
            result: result, outcome: result.isError ? .toolError : .ok, unauthorized: response.status == 401, backendError: Self.errorReason(status: response.status))
    }
}

extension ToolEndpoint {
    /// POSTs `{query, variables, operationName}` to the backend endpoint. GraphQL `errors` make
    /// an error result with their messages; `data` is the structured content.
    func callGraphQL(_ operation: GraphQLOperation, name: String, arguments: JSONObject, context: MCPCallContext) async -> CallOutcome {
        let answer: JSONValue
        switch exposition.plan.backend {
        case .mock:
            answer = ["data": operation.mockData]
        case .http(let http):
            var variables: JSONObject = [:]
            for variable in operation.variables { variables[variable] = arguments[variable] }
            let body: JSONValue = ["query": .string(operation.document), "variables": .object(variables), "operationName": .string(operation.operationName)]
            var request = BackendRequest(
                method: "POST", pathAndQuery: "", headers: [("Content-Type", "application/json"), ("Accept", "application/graphql-response+json, application/json")],
                body: Array(body.serialized().utf8))
            let (trace, caller) = forwardedHeaders(context)
            request.headers.append(contentsOf: trace)
            let response: BackendResponse
            do {
                response = try await backend.send(
                    request, to: http, security: backendSecurity(context), callerHeaders: caller, timeout: min(http.timeout, callTimeout))
            } catch {
                return failed(name, error, context: context)
            }
            // GraphQL servers answer errors with 200 or 4xx/5xx; a JSON body with errors says more than the status.
            guard let parsed = try? JSONParser.parse(response.body), case .object = parsed, parsed["data"] != nil || parsed["errors"] != nil else {
                let result = ResultMapper.result(for: response, outputValidator: nil)
                let backendError = Self.errorReason(status: response.status) ?? "not_graphql"
                return CallOutcome(
                    result: result.isError ? result : .text("The backend did not answer a GraphQL response: " + ResultMapper.excerpt(response.body), isError: true),
                    outcome: .toolError, backendError: backendError)
            }
            answer = parsed
        }
        let errors = GraphQLResponse.errorMessages(answer)
        if !errors.isEmpty {
            var text = "The GraphQL backend answered errors: " + errors.joined(separator: "; ")
            if let data = answer["data"], data != .null { text += ". Partial data: " + data.serialized() }
            return CallOutcome(result: .text(text, isError: true), outcome: .toolError, backendError: "graphql_errors")
        }
        guard let data = answer["data"], case .object = data else {
            return CallOutcome(result: .text("The GraphQL backend answered no data.", isError: true), outcome: .toolError, backendError: "graphql_errors")
        }
        return CallOutcome(result: MCPToolResult(content: [["type": "text", "text": .string(data.serialized())]], structuredContent: data), outcome: .ok)
    }
}

extension ToolEndpoint {
    /// Transcodes the arguments into the request message, calls the unary method with the
    /// plan's credentials and the trace context as metadata, and answers the response message
    /// as JSON. A non-OK status is a tool error naming the status and its message.
    func callGRPC(_ method: GRPCMethodBinding, name: String, arguments: JSONObject, context: MCPCallContext) async -> CallOutcome {
        guard let transcoder = toolSet.transcoder else {
            return CallOutcome(result: .text("\(name) has no protobuf descriptors.", isError: true), outcome: .toolError, reachedBackend: false)
        }
        let request: [UInt8]
        do {
            request = try transcoder.encode(.object(arguments), as: method.inputType)
        } catch {
            return CallOutcome(
                result: Self.invalidArguments(name, "\(error)"),
                outcome: .invalidArguments, reachedBackend: false)
        }
        let answer: JSONValue
        switch exposition.plan.backend {
        case .mock:
            answer = method.mockResponse
        case .http(let http):
            let (trace, caller) = forwardedHeaders(context)
            let bytes: [UInt8]
            do {
                let credentials = try await backend.credentials(backendSecurity(context), callerHeaders: caller)
                bytes = try await backend.grpc.unary(
                    request, service: method.service, method: method.method, backend: http, metadata: trace + credentials,
                    timeout: min(http.timeout, callTimeout))
            } catch let failure as GRPCCallFailure {
                switch failure {
                case .cancelled:
                    return CallOutcome(result: .text("The call to \(name) was cancelled.", isError: true), outcome: .cancelled, reachedBackend: false)
                case .status(let code, _):
                    let reason = code == "UNAVAILABLE" ? "unreachable" : code == "DEADLINE_EXCEEDED" ? "timeout" : "grpc_status"
                    context.logger.info("gRPC call failed", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "status": "\(code)"])
                    return CallOutcome(
                        result: .text("The gRPC backend answered \(failure).", isError: true), outcome: reason == "grpc_status" ? .toolError : .backendError,
                        unauthorized: code == "UNAUTHENTICATED", backendError: reason)
                case .invalidEndpoint:
                    return CallOutcome(result: .text("Calling \(name) failed: \(failure).", isError: true), outcome: .backendError, backendError: "unreachable")
                }
            } catch let failure as BackendFailure {
                return failed(name, failure, context: context)
            } catch {
                return CallOutcome(result: .text("Calling \(name) failed: \(error).", isError: true), outcome: .backendError, backendError: "unreachable")
            }
            do {
                answer = try transcoder.decode(bytes, as: method.outputType)
            } catch {
                return CallOutcome(
                    result: .text("The gRPC backend answered a message that is not a \(method.outputType): \(error).", isError: true), outcome: .toolError,
                    backendError: "bad_response")
            }
        }
        return CallOutcome(result: MCPToolResult(content: [["type": "text", "text": .string(answer.serialized())]], structuredContent: answer), outcome: .ok)
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
