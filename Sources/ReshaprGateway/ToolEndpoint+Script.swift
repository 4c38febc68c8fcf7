import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprScripting
import Synchronization
import Tracing

extension ToolEndpoint {
    /// Runs a scripted custom tool. What it returns is its answer; `rs.fail` and a thrown error
    /// are tool errors with structured content; a run past the time limit is stopped.
    func runScript(_ custom: CustomTool, script: String, allowed: [ToolReference], arguments: JSONObject, context: MCPCallContext, nesting: Int) async -> CallOutcome {
        let guardrails = scriptGuardrails
        guard nesting < guardrails.maxNesting else {
            return CallOutcome(
                result: .text("\(custom.name) is not run: scripted tools already call each other \(nesting) deep, the limit.", isError: true),
                outcome: .refused, reachedBackend: false)
        }
        let host = EndpointScriptHost(endpoint: self, custom: custom, allowed: allowed, context: context, nesting: nesting + 1)
        let outcome = await ScriptRunner.run(
            script, input: .object(arguments), host: host, limits: ScriptLimits(timeout: guardrails.timeout, maxToolCalls: guardrails.maxToolCalls))
        switch outcome {
        case .returned(let value):
            let result: MCPToolResult = if case .object = value { .structured(value) } else { .text(value.stringValue ?? value.serialized()) }
            return CallOutcome(result: result, outcome: .ok, answer: value)
        case .failed(let message, let data):
            let structured: JSONValue = ["error": .string(message), "data": data]
            return CallOutcome(
                result: MCPToolResult(content: [["type": "text", "text": .string(message)]], structuredContent: structured, isError: true), outcome: .toolError)
        case .threw(let message):
            context.logger.info("script failed", metadata: ["tool": "\(custom.name)", "error": "\(message)"])
            return CallOutcome(
                result: MCPToolResult(content: [["type": "text", "text": .string("\(custom.name) failed: \(message)")]], structuredContent: ["error": .string(message)], isError: true),
                outcome: .toolError)
        case .timedOut:
            context.logger.warning("script stopped at its time limit", metadata: ["tool": "\(custom.name)", "timeout": "\(guardrails.timeout)"])
            return CallOutcome(
                result: .text("\(custom.name) was stopped: it ran longer than \(guardrails.timeout), the limit of a script.", isError: true), outcome: .toolError)
        }
    }
}

/// The `rs` of one script run: its allow-list, and calls through the normal path of the
/// endpoint that serves the tool.
struct EndpointScriptHost: ScriptHost {
    let endpoint: ToolEndpoint
    let custom: CustomTool
    let allowed: [ToolReference]
    let context: MCPCallContext
    let nesting: Int

    func callTool(service: String?, tool: String, arguments: JSONValue) async -> JSONValue {
        let own = endpoint.exposition.service
        // The script's own Service is nil, however it is named.
        func other(_ binding: ServiceBinding?) -> ServiceBinding? {
            binding == ServiceBinding(name: own.metadata.name, version: own.version) ? nil : binding
        }
        var binding: ServiceBinding?
        if let service {
            guard let colon = service.firstIndex(of: ":") else { return ScriptCallAnswer.failure("service must be written \"<name>:<version>\", not \"\(service)\"") }
            binding = other(ServiceBinding(name: String(service[..<colon]), version: String(service[service.index(after: colon)...])))
        }
        let reference = ToolReference(service: binding, tool: tool)
        guard allowed.contains(where: { $0.tool == tool && other($0.service) == binding }) else {
            return ScriptCallAnswer.failure("\(reference) is not among the tools \(custom.name) may call (its tools list)")
        }
        guard case .object(let members) = arguments else { return ScriptCallAnswer.failure("the arguments of \(tool) must be an object") }
        let target: ToolEndpoint
        if let binding {
            guard let peer = endpoint.directory.endpoint(org: own.metadata.org, service: binding.name, version: binding.version) else {
                return ScriptCallAnswer.failure("service \(binding.name) \(binding.version) is not served by this gateway")
            }
            target = peer
        } else {
            target = endpoint
        }
        guard let compiled = target.toolSet.callableTool(named: tool) else { return ScriptCallAnswer.failure("\(reference) is not a tool this gateway serves") }
        let call = await withSpan("tool \(tool)", ofKind: .internal) { span in
            span.attributes["mcp.tool.name"] = tool
            return await target.invoke(compiled, arguments: members, context: context, nesting: nesting)
        }
        let text = call.result.content.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
        if call.result.isError { return ScriptCallAnswer.failure(text) }
        return ScriptCallAnswer.success(call.result.structuredContent ?? call.answer ?? .string(text))
    }
}

/// The endpoints of the current routing table by the Service they serve, for scripts that call
/// another Service's tools. One per gateway; each new routing table replaces its contents.
public final class EndpointDirectory: Sendable {
    private let endpoints = Mutex<[String: ToolEndpoint]>([:])

    public init() {}

    func update(_ table: [String: ToolEndpoint]) {
        var byService: [String: ToolEndpoint] = [:]
        for path in table.keys.sorted() {
            guard let endpoint = table[path] else { continue }
            let service = endpoint.exposition.service
            let key = "\(service.metadata.org)/\(service.metadata.name)/\(service.version)"
            if byService[key] == nil { byService[key] = endpoint }
        }
        endpoints.withLock { $0 = byService }
    }

    func endpoint(org: String, service: String, version: String) -> ToolEndpoint? {
        endpoints.withLock { $0["\(org)/\(service)/\(version)"] }
    }
}
