import Foundation
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP

/// Prompts and resources of an endpoint: from its Service's Prompts and Resources artifacts;
/// templated resources are read from the plan's backend.
extension ToolEndpoint {
    public var prompts: [JSONValue] { content.promptList }
    public var resources: [JSONValue] { content.resourceList }
    public var resourceTemplates: [JSONValue] { content.templateList }

    public func getPrompt(name: String, arguments: JSONObject, context: MCPCallContext) async -> MCPPromptLookup {
        guard let prompt = content.prompts[name] else { return .unknownPrompt }
        switch prompt.render(arguments) {
        case .failure(let error):
            return .invalidArguments(error.description)
        case .success(let text):
            var result: JSONObject = ["messages": [["role": "user", "content": ["type": "text", "text": .string(text)]]]]
            if let description = prompt.description { result["description"] = .string(description) }
            return .result(.object(result))
        }
    }

    public func readResource(uri: String, context: MCPCallContext) async -> MCPResourceLookup {
        if let resource = content.resources[uri] { return .contents(MCPResourceContents(contents: [EndpointContent.contents(of: resource)])) }
        for template in content.templates {
            switch template.template.match(uri) {
            case .none: continue
            case .refused(_, let reason): return .refused(reason)
            case .matched: return await read(uri, of: template, context: context)
            }
        }
        return .notFound
    }

    /// Reads a templated resource: GET of the URI's path and query on the plan's backend
    /// endpoint, with the plan's backend security, timeouts and the endpoint's call limit.
    func read(_ uri: String, of template: ResourceTemplate, context: MCPCallContext) async -> MCPResourceLookup {
        guard case .http(let http) = exposition.plan.backend else {
            return .failed("the plan has a mock backend, and templated resources are read from a real one")
        }
        if case .userCredential = exposition.plan.backendSecurity {
            return .failed("the plan's backend takes each user's own credential, which resources/read cannot ask for")
        }
        guard takeCallSlot() else {
            metrics.recordRead(outcome: .overloaded, duration: nil)
            return .failed("the gateway is already running \(maxConcurrentCalls) calls on this endpoint, its limit; read it again in a moment")
        }
        defer { releaseCallSlot() }
        var request = BackendRequest(method: "GET", pathAndQuery: URITemplate.pathAndQuery(of: uri))
        let (trace, caller) = forwardedHeaders(context)
        request.headers.append(contentsOf: trace)
        let started = ContinuousClock.now
        let response: BackendResponse
        do {
            response = try await backend.send(request, to: http, security: backendSecurity(context), callerHeaders: caller, timeout: min(http.timeout, callTimeout))
        } catch {
            switch error {
            case .cancelled:
                metrics.recordRead(outcome: .cancelled, duration: nil)
            case .timeout:
                metrics.recordRead(outcome: .backendError, duration: nil)
                metrics.backendError("timeout")
            default:
                metrics.recordRead(outcome: .backendError, duration: nil)
                metrics.backendError("unreachable")
            }
            context.logger.warning("resource read failed", metadata: ["endpoint": "\(exposition.path)", "template": "\(template.template.text)", "reason": "\(error)"])
            return .failed(error.description)
        }
        let duration = ContinuousClock.now - started
        if let reason = Self.errorReason(status: response.status) { metrics.backendError(reason) }
        guard (200..<300).contains(response.status) else {
            metrics.recordRead(outcome: .toolError, duration: duration)
            if response.status == 404 || response.status == 410 { return .notFound }
            let body = ResultMapper.excerpt(response.body)
            return .failed("the backend answered \(response.status) \(HTTPStatusText.text(for: response.status))" + (body.isEmpty ? "" : ": " + body))
        }
        metrics.recordRead(outcome: .ok, duration: duration)
        var contents: JSONObject = ["uri": .string(uri)]
        let mediaType = response.header("Content-Type") ?? template.metadata.mimeType
        if let mediaType { contents["mimeType"] = .string(mediaType) }
        if Self.isText(response.mediaType ?? template.metadata.mimeType), let text = String(validating: response.body, as: UTF8.self) {
            contents["text"] = .string(text)
        } else {
            contents["blob"] = .string(Data(response.body).base64EncodedString())
        }
        let perCaller: Bool
        if case .passthrough = exposition.plan.backendSecurity { perCaller = true } else { perCaller = false }
        return .contents(MCPResourceContents(contents: [.object(contents)], ttl: Self.freshness(response.header("Cache-Control")), perCaller: perCaller))
    }

    /// Media types whose bodies are text: `text/*`, JSON, XML, YAML, JavaScript and their `+` suffixes.
    static func isText(_ mediaType: String?) -> Bool {
        guard let type = mediaType?.lowercased() else { return false }
        if type.hasPrefix("text/") { return true }
        let textual = ["json", "xml", "yaml", "x-yaml", "javascript", "ecmascript", "graphql", "sql", "x-www-form-urlencoded"]
        guard let subtype = type.split(separator: "/").last else { return false }
        return textual.contains { subtype == $0 || subtype.hasSuffix("+" + $0) }
    }

    /// How long a client may keep a backend answer: its `Cache-Control: max-age` (at most a
    /// day), and 0 without one, or with `no-store` or `no-cache`.
    static func freshness(_ cacheControl: String?) -> Duration {
        guard let cacheControl else { return .zero }
        var maxAge: Int64?
        for directive in cacheControl.lowercased().split(separator: ",") {
            let trimmed = directive.trimmingCharacters(in: .whitespaces)
            if trimmed == "no-store" || trimmed == "no-cache" { return .zero }
            if trimmed.hasPrefix("max-age="), let seconds = Int64(trimmed.dropFirst("max-age=".count)), seconds >= 0 { maxAge = min(seconds, 86_400) }
        }
        return .seconds(maxAge ?? 0)
    }
}
