import Logging
import ReshaprAuth
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprOpenAPI
import ReshaprTools

/// The MCP endpoints served, by path, built from one configuration. Immutable: a reload
/// builds a new table and swaps it in whole.
public struct RoutingTable: Sendable {
    public var endpoints: [String: ToolEndpoint]
    /// Problems found while compiling tools (unsupported service types, selectors matching nothing).
    public var issues: [ConfigIssue]
    /// Expositions valid in the configuration that could not be compiled into an endpoint.
    public var failed: Set<ResourceName>

    public static let empty = RoutingTable(endpoints: [:], issues: [], failed: [])

    /// Compiles every exposition. Expositions that serve the same artifact file with the same
    /// tool selection share one `ToolSet`; an endpoint of `previous` whose exposition did not
    /// change is reused as it is.
    public static func build(
        _ configuration: Configuration, backend: BackendClient, metrics: GatewayMetrics = GatewayMetrics(), logger: Logger, reusing previous: RoutingTable? = nil
    ) -> RoutingTable {
        var endpoints: [String: ToolEndpoint] = [:]
        var issues: [ConfigIssue] = []
        var failed: Set<ResourceName> = []
        var toolSets: [String: ToolSet] = [:]
        var warnedPlans: Set<SourceLocation> = []
        for exposition in configuration.expositions {
            let endpoint: ToolEndpoint
            let settings = configuration.gateway
            if let old = previous?.endpoints[exposition.path], old.exposition == exposition, old.callTimeout == settings.callTimeout,
                old.maxConcurrentCalls == settings.maxConcurrentCalls
            {
                endpoint = old
            } else {
                let service = exposition.service
                let source = exposition.exposition.source
                // Fail closed: an endpoint whose client security cannot be enforced is not served.
                var verifier: JWTVerifier?
                if case .jwt(let issuer, let audiences, let jwks, let algorithms, _) = exposition.plan.clientSecurity {
                    let plan = exposition.plan.source
                    let field = JSONPath.root.appending("spec").appending("clientSecurity")
                    switch jwks {
                    case .document(let text):
                        if let problem = JWTVerifier.problem(inDocument: text) {
                            issues.append(
                                ConfigIssue(file: plan.file, document: plan.document, path: field.appending("jwksFile"),
                                    message: "\(problem); the endpoint is not served rather than served unprotected"))
                            failed.insert(exposition.name)
                            continue
                        }
                        verifier = JWTVerifier(policy: JWTPolicy(issuer: issuer, audiences: audiences, algorithms: algorithms), source: .document(text))
                    case .url(let url):
                        verifier = JWTVerifier(
                            policy: JWTPolicy(issuer: issuer, audiences: audiences, algorithms: algorithms), source: .url(url),
                            fetch: { url in try await backend.fetch(url) })
                    }
                }
                guard service.type == .rest else {
                    issues.append(
                        ConfigIssue(file: source.file, document: source.document, path: JSONPath.root.appending("spec").appending("plan"),
                            message: "\(service.type.rawValue) services cannot be served yet: only REST (OpenAPI, Swagger) services are"))
                    failed.insert(exposition.name)
                    continue
                }
                guard let artifact = service.artifacts.first(where: { $0.type == .openAPI || $0.type == .swagger }),
                    case .document(let document) = artifact.content
                else {
                    issues.append(ConfigIssue(file: service.source.file, document: service.source.document, message: "service has no OpenAPI or Swagger artifact"))
                    failed.insert(exposition.name)
                    continue
                }
                let tools = exposition.plan.tools
                // Artifacts read from the same file in one load are the same document.
                let artifactKey = artifact.file.map { "file:\($0)" } ?? "service:\(service.metadata.org)/\(service.metadata.name)/\(service.version)"
                let overrides = tools.overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.name ?? ""):\($0.value.description ?? "")" }
                let key = "\(artifactKey)|\(tools.include ?? ["*"])|\(tools.exclude)|\(overrides)"
                let toolSet: ToolSet
                if let shared = toolSets[key] {
                    toolSet = shared
                } else {
                    var rules = ToolSelectionRules(include: tools.include, exclude: tools.exclude)
                    for (selector, value) in tools.overrides { rules.overrides[selector] = (value.name, value.description) }
                    toolSet = ToolSet(ToolCompiler.compile(document, rules: rules).mapBindings(ToolBinding.http))
                    toolSets[key] = toolSet
                    for skipped in toolSet.catalog.skipped {
                        logger.info("operation not exposed", metadata: ["service": "\(service.metadata.name)", "operation": "\(skipped)"])
                    }
                }
                endpoint = ToolEndpoint(
                    exposition: exposition, toolSet: toolSet, backend: backend, callTimeout: settings.callTimeout,
                    maxConcurrentCalls: settings.maxConcurrentCalls, verifier: verifier, metrics: EndpointMetrics(metrics: metrics, endpoint: exposition.path),
                    logger: logger)
            }
            endpoints[exposition.path] = endpoint
            let plan = exposition.plan.source
            if warnedPlans.insert(plan).inserted {
                for selector in endpoint.catalog.unmatchedSelectors {
                    issues.append(
                        ConfigIssue(severity: .warning, file: plan.file, document: plan.document, path: JSONPath.root.appending("spec").appending("tools"),
                            message: "no operation of \(exposition.service.metadata.name) \(exposition.service.version) matches \"\(selector)\" (use an operationId, a tool name or 'METHOD /path')"))
                }
            }
        }
        return RoutingTable(endpoints: endpoints, issues: issues, failed: failed)
    }
}
