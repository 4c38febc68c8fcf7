import Logging
import ReshaprBackend
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprOpenAPI

/// The MCP endpoints served, by path, built from one configuration. Immutable: a reload
/// builds a new table and swaps it in whole.
public struct RoutingTable: Sendable {
    public var endpoints: [String: ToolEndpoint]
    /// Problems found while compiling tools (unsupported service types, selectors matching nothing).
    public var issues: [ConfigIssue]
    /// Expositions valid in the configuration that could not be compiled into an endpoint.
    public var failed: Set<ResourceName>

    public static let empty = RoutingTable(endpoints: [:], issues: [], failed: [])

    /// Compiles every exposition. Expositions sharing a service and tool selection share one
    /// catalog; an endpoint of `previous` whose exposition did not change is reused as it is.
    public static func build(_ configuration: Configuration, backend: BackendClient, logger: Logger, reusing previous: RoutingTable? = nil) -> RoutingTable {
        var endpoints: [String: ToolEndpoint] = [:]
        var issues: [ConfigIssue] = []
        var failed: Set<ResourceName> = []
        var catalogs: [String: ToolCatalog] = [:]
        for exposition in configuration.expositions {
            if let old = previous?.endpoints[exposition.path], old.exposition == exposition, old.callTimeout == configuration.gateway.callTimeout {
                endpoints[exposition.path] = old
                continue
            }
            let service = exposition.service
            let source = exposition.exposition.source
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
            let key = "\(service.metadata.org)/\(service.metadata.name)/\(service.version)|\(tools.include ?? ["*"])|\(tools.exclude)|\(tools.overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.name ?? ""):\($0.value.description ?? "")" })"
            let catalog: ToolCatalog
            if let cached = catalogs[key] {
                catalog = cached
            } else {
                var overrides: [String: (name: String?, description: String?)] = [:]
                for (selector, value) in tools.overrides { overrides[selector] = (value.name, value.description) }
                catalog = ToolCompiler.compile(document, rules: ToolSelectionRules(include: tools.include, exclude: tools.exclude, overrides: overrides))
                catalogs[key] = catalog
                let plan = exposition.plan.source
                for selector in catalog.unmatchedSelectors {
                    issues.append(
                        ConfigIssue(severity: .warning, file: plan.file, document: plan.document, path: JSONPath.root.appending("spec").appending("tools"),
                            message: "no operation of \(service.metadata.name) \(service.version) matches \"\(selector)\" (use an operationId, a tool name or 'METHOD /path')"))
                }
                for skipped in catalog.skipped {
                    logger.info("operation not exposed", metadata: ["service": "\(service.metadata.name)", "operation": "\(skipped)"])
                }
            }
            endpoints[exposition.path] = ToolEndpoint(
                exposition: exposition, catalog: catalog, backend: backend, callTimeout: configuration.gateway.callTimeout, logger: logger)
        }
        return RoutingTable(endpoints: endpoints, issues: issues, failed: failed)
    }
}
