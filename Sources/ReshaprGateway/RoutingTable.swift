import Logging
import ReshaprAuth
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprOpenAPI
import ReshaprGraphQL
import ReshaprProtobuf
import ReshaprTelemetry
import ReshaprTools

/// The MCP endpoints served, by path, built from one configuration. Immutable: a reload
/// builds a new table and swaps it in whole.
public struct RoutingTable: Sendable {
    public var endpoints: [String: ToolEndpoint]
    /// The other paths endpoints answer at (`/mcp/{org}/{name}`, `/mcp/{id}`), to their path.
    public var aliases: [String: String] = [:]
    /// Problems found while compiling tools (unsupported service types, selectors matching nothing).
    public var issues: [ConfigIssue]
    /// Expositions valid in the configuration that could not be compiled into an endpoint.
    public var failed: Set<ResourceName>
    /// The endpoints by Service, for scripts calling other Services; shared with the tables built from this one.
    public var directory = EndpointDirectory()
    /// Where plans with `audit` write their lines; shared with the tables built from this one.
    public var audit: AuditLog?

    public static let empty = RoutingTable(endpoints: [:], issues: [], failed: [])

    /// Compiles every exposition. Expositions that serve the same artifact file with the same
    /// tool selection share one `ToolSet`; an endpoint of `previous` whose exposition did not
    /// change is reused as it is.
    public static func build(
        _ configuration: Configuration, backend: BackendClient, metrics: GatewayMetrics = GatewayMetrics(), logger: Logger, reusing previous: RoutingTable? = nil,
        audit: AuditLog? = nil
    ) -> RoutingTable {
        let audit = audit ?? previous?.audit
        var endpoints: [String: ToolEndpoint] = [:]
        var aliases: [String: String] = [:]
        var issues: [ConfigIssue] = []
        var failed: Set<ResourceName> = []
        var toolSets: [String: ToolSet] = [:]
        var warnedPlans: Set<SourceLocation> = []
        let directory = previous?.directory ?? EndpointDirectory()
        // One key store per JWKS, kept across reloads: endpoints of one issuer fetch its keys once.
        var keyStores: [ReshaprAuth.JWKSSource: JWKSKeyStore] = [:]
        for endpoint in previous?.endpoints.values ?? [:].values {
            if let keys = endpoint.verifier?.keys { keyStores[keys.source] = keys }
        }
        for exposition in configuration.expositions {
            let endpoint: ToolEndpoint
            let settings = configuration.gateway
            if let old = previous?.endpoints[exposition.path], old.exposition == exposition, old.callTimeout == settings.callTimeout,
                old.maxConcurrentCalls == settings.maxConcurrentCalls, old.scriptGuardrails == settings.scripts
            {
                endpoint = old
            } else {
                let service = exposition.service
                // Fail closed: an endpoint whose client security cannot be enforced is not served.
                var verifier: JWTVerifier?
                if case .jwt(let issuer, let audiences, let jwks, let algorithms, _, let rules) = exposition.plan.clientSecurity {
                    let plan = exposition.plan.source
                    let field = JSONPath.root.appending("spec").appending("clientSecurity")
                    let source: ReshaprAuth.JWKSSource
                    switch jwks {
                    case .document(let text):
                        if let problem = JWTVerifier.problem(inDocument: text) {
                            issues.append(
                                ConfigIssue(file: plan.file, document: plan.document, path: field.appending("jwksFile"),
                                    message: "\(problem); the endpoint is not served rather than served unprotected"))
                            failed.insert(exposition.name)
                            continue
                        }
                        source = .document(text)
                    case .url(let url):
                        source = .url(url)
                    }
                    let keys = keyStores[source] ?? JWKSKeyStore(source: source, fetch: { url in try await backend.fetch(url) })
                    keyStores[source] = keys
                    verifier = JWTVerifier(policy: JWTPolicy(issuer: issuer, audiences: audiences, algorithms: algorithms, checksAudience: rules.checksAudience), keys: keys)
                }
                let tools = exposition.plan.tools
                guard let artifact = service.artifacts.first(where: { Self.compiles($0.type, for: service.type) }) else {
                    issues.append(
                        ConfigIssue(
                            file: service.source.file, document: service.source.document, path: JSONPath.root.appending("spec").appending("artifacts"),
                            message: "a \(service.type.rawValue) service needs an artifact of type \(Self.artifactTypes(for: service.type))"))
                    failed.insert(exposition.name)
                    continue
                }
                // Artifacts read from the same file in one load are the same document.
                let artifactKey = artifact.file.map { "file:\($0)" } ?? "service:\(service.metadata.org)/\(service.metadata.name)/\(service.version)"
                let overrides = tools.overrides.sorted { $0.key < $1.key }.map {
                    "\($0.key)=\($0.value.name ?? ""):\($0.value.description ?? ""):\($0.value.selection ?? "")"
                }
                // Custom tools and filters belong to the Service: with them, a tool set serves one Service.
                let reshaped = service.artifacts.contains { $0.type == .customTools || $0.type == .toolsOutputFilters }
                    || tools.overrides.values.contains { $0.output != nil }
                let serviceKey = reshaped ? "|\(service.metadata.org)/\(service.metadata.name)/\(service.version)|\(tools.overrides.mapValues(\.output))" : ""
                let key = "\(artifactKey)|\(tools.include ?? ["*"])|\(tools.exclude)|\(overrides)|\(tools.selectionDepth ?? 0)\(serviceKey)"
                let toolSet: ToolSet
                if let shared = toolSets[key] {
                    toolSet = shared
                } else {
                    switch Self.compile(artifact, selection: Self.compileSelection(tools, service: service)) {
                    case .success(let compiled):
                        switch Self.reshaping(compiled.catalog, for: exposition) {
                        case .success(let reshaping):
                            toolSet = ToolSet(compiled.catalog, transcoder: compiled.transcoder, reshaping: reshaping)
                        case .failure(let problems):
                            issues += problems.issues
                            failed.insert(exposition.name)
                            continue
                        }
                    case .failure(let problem):
                        let location = artifact.file ?? service.source.file
                        issues.append(ConfigIssue(file: location, document: artifact.file == nil ? service.source.document : nil, message: problem.description))
                        failed.insert(exposition.name)
                        continue
                    }
                    toolSets[key] = toolSet
                    for skipped in toolSet.catalog.skipped {
                        logger.info("operation not exposed", metadata: ["service": "\(service.metadata.name)", "operation": "\(skipped)"])
                    }
                    let location = artifact.file ?? service.source.file
                    let document = artifact.file == nil ? service.source.document : nil
                    for (tool, reason) in toolSet.unusable.sorted(by: { $0.key < $1.key }) {
                        if toolSet.unrunnable.contains(tool) {
                            issues.append(ConfigIssue(file: service.source.file, document: service.source.document, message: "custom tool \(tool) is not served: \(reason)"))
                        } else {
                            issues.append(
                                ConfigIssue(severity: .warning, file: location, document: document, message: "tool \(tool) is not served and its calls are refused: \(reason)"))
                        }
                    }
                    for (tool, reason) in toolSet.uncheckedOutputs.sorted(by: { $0.key < $1.key }) {
                        issues.append(ConfigIssue(severity: .warning, file: location, document: document, message: "tool \(tool): \(reason)"))
                    }
                }
                endpoint = ToolEndpoint(
                    exposition: exposition, toolSet: toolSet, backend: backend, callTimeout: settings.callTimeout,
                    maxConcurrentCalls: settings.maxConcurrentCalls, scriptGuardrails: settings.scripts, directory: directory, verifier: verifier,
                    metrics: EndpointMetrics(metrics: metrics, endpoint: exposition.path), audit: audit, logger: logger)
            }
            endpoints[exposition.path] = endpoint
            for alias in exposition.aliases { aliases[alias] = exposition.path }
            let plan = exposition.plan.source
            if warnedPlans.insert(plan).inserted {
                for (field, selectors) in [("prompts", endpoint.content.unmatched.prompts), ("resources", endpoint.content.unmatched.resources)] {
                    for selector in selectors {
                        issues.append(
                            ConfigIssue(severity: .warning, file: plan.file, document: plan.document, path: JSONPath.root.appending("spec").appending(field),
                                message: "no \(field == "prompts" ? "prompt" : "resource or resource template") of \(exposition.service.metadata.name) \(exposition.service.version) is named \"\(selector)\""))
                    }
                }
                for selector in endpoint.catalog.unmatchedSelectors {
                    issues.append(
                        ConfigIssue(severity: .warning, file: plan.file, document: plan.document, path: JSONPath.root.appending("spec").appending("tools"),
                            message: "no operation of \(exposition.service.metadata.name) \(exposition.service.version) matches \"\(selector)\" (use an operationId, a tool name or 'METHOD /path')"))
                }
            }
        }
        directory.update(endpoints)
        return RoutingTable(endpoints: endpoints, aliases: aliases, issues: issues, failed: failed, directory: directory, audit: audit)
    }

    /// The endpoint a request path names, by its path or an alias, with its path.
    public func endpoint(at path: String) -> (path: String, endpoint: ToolEndpoint)? {
        if let endpoint = endpoints[path] { return (path, endpoint) }
        guard let target = aliases[path], let endpoint = endpoints[target] else { return nil }
        return (target, endpoint)
    }

    /// Every path an endpoint answers at: its own first, then its aliases.
    public func paths(of path: String) -> [String] {
        [path] + (endpoints[path]?.exposition.aliases.filter { aliases[$0] == path } ?? [])
    }

    /// The artifact types a service type is served from.
    static func artifactTypes(for type: ServiceType) -> String {
        switch type {
        case .rest: return "OPENAPI or SWAGGER"
        case .graphql: return "GRAPHQL_SCHEMA or GRAPHQL_INTROSPECTION"
        case .grpc: return "PROTOBUF_DESCRIPTOR_SET"
        }
    }

    static func compiles(_ artifact: ArtifactType, for service: ServiceType) -> Bool {
        switch (service, artifact) {
        case (.rest, .openAPI), (.rest, .swagger), (.graphql, .graphQLSchema), (.graphql, .graphQLIntrospection), (.grpc, .protobufDescriptorSet): return true
        default: return false
        }
    }

    /// The tools of one API description, before custom tools and filters.
    struct CompiledArtifact {
        var catalog: ToolCatalog<ToolBinding>
        /// JSON <-> protobuf, for a gRPC service.
        var transcoder: Transcoder?
    }

    /// Compiles one artifact with a plan's tool selection.
    static func compile(_ artifact: Artifact, selection tools: ToolSelection) -> Result<CompiledArtifact, CompileFailure> {
        var rules = ToolSelectionRules(include: tools.include, exclude: tools.exclude)
        for (selector, value) in tools.overrides where value.name != nil || value.description != nil {
            rules.overrides[selector] = (value.name, value.description)
        }
        switch artifact.type {
        case .openAPI, .swagger:
            guard case .document(let document) = artifact.content else {
                return .failure(CompileFailure(description: "an \(artifact.type.rawValue) artifact must be a JSON or YAML document"))
            }
            return .success(CompiledArtifact(catalog: ToolCompiler.compile(document, rules: rules).mapBindings(ToolBinding.http)))
        case .graphQLSchema, .graphQLIntrospection:
            return compileGraphQL(artifact, tools: tools, rules: rules).map { CompiledArtifact(catalog: $0) }
        case .protobufDescriptorSet:
            guard case .binary(let bytes) = artifact.content else {
                return .failure(CompileFailure(description: "a PROTOBUF_DESCRIPTOR_SET artifact must be a binary file"))
            }
            do {
                let pool = try DescriptorPool(descriptorSet: bytes)
                return .success(CompiledArtifact(catalog: GRPCCompiler.compile(pool, rules: rules).mapBindings(ToolBinding.grpc), transcoder: Transcoder(pool: pool)))
            } catch {
                return .failure(CompileFailure(description: error.description))
            }
        case .customTools, .toolsOutputFilters, .prompts, .resources:
            return .failure(CompileFailure(description: "a \(artifact.type.rawValue) artifact is reShapr's own; it does not describe an API"))
        }
    }

    static func compileGraphQL(_ artifact: Artifact, tools: ToolSelection, rules: ToolSelectionRules) -> Result<ToolCatalog<ToolBinding>, CompileFailure> {
        let source: GraphQLSource
        switch artifact.content {
        case .text(let sdl): source = .sdl(sdl)
        case .document(let document): source = .introspection(document)
        case .binary, .outputFilters, .customTools, .prompts, .resources: return .failure(CompileFailure(description: "a GraphQL artifact must be text (SDL) or JSON (introspection)"))
        }
        var selections: [String: String] = [:]
        for (selector, value) in tools.overrides {
            if let selection = value.selection { selections[selector] = selection }
        }
        do {
            let catalog = try GraphQLCompiler.compile(
                source, rules: rules, selectionDepth: tools.selectionDepth ?? GraphQLCompiler.defaultSelectionDepth, selections: selections)
            return .success(catalog.mapBindings(ToolBinding.graphQL))
        } catch {
            return .failure(CompileFailure(description: error.description))
        }
    }
}

/// Why an artifact could not be compiled into tools.
struct CompileFailure: Error, CustomStringConvertible {
    var description: String
}
