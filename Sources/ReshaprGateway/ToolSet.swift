import ReshaprJSON
import ReshaprMCP
import ReshaprProtobuf
import ReshaprTools

/// The tools compiled from one API description and one tool selection, shared by every
/// endpoint that serves the same artifact the same way: compiled once, listed once, and
/// their schema validators compiled once, when the set is built.
///
/// Validation fails closed: a tool whose input schema cannot be compiled is not listed and
/// its calls are refused with the reason (``unusable``), rather than sent unchecked. A tool
/// whose output schema cannot be compiled is served without `outputSchema`, so that neither
/// the gateway nor the client checks answers against a schema nobody can read.
public final class ToolSet: Sendable {
    public let catalog: ToolCatalog<ToolBinding>
    /// JSON <-> protobuf for the tools of a gRPC service.
    let transcoder: Transcoder?
    /// The MCP `Tool` objects of `tools/list`, by name, so that every replica lists them alike.
    public let tools: [JSONValue]
    /// The `x-mcp-header` annotations of each tool that has some.
    let paramHeaders: [String: [MCPParamHeader]]
    /// Why each refused tool is refused, by tool name.
    public let unusable: [String: String]
    /// Tools served without `outputSchema`, by tool name, with the reason.
    public let uncheckedOutputs: [String: String]
    private let validators: [String: (input: JSONSchemaValidator, output: JSONSchemaValidator?)]

    init(_ catalog: ToolCatalog<ToolBinding>, transcoder: Transcoder? = nil) {
        self.catalog = catalog
        self.transcoder = transcoder
        var tools: [JSONValue] = []
        var unusable: [String: String] = [:]
        var uncheckedOutputs: [String: String] = [:]
        var validators: [String: (input: JSONSchemaValidator, output: JSONSchemaValidator?)] = [:]
        var paramHeaders: [String: [MCPParamHeader]] = [:]
        for tool in catalog.tools.sorted(by: { $0.definition.name < $1.definition.name }) {
            let definition = tool.definition
            switch MCPParamHeader.annotations(in: definition.inputSchema) {
            case .success(let annotations):
                if !annotations.isEmpty { paramHeaders[definition.name] = annotations }
            case .failure(let error):
                // Clients of 2026-07-28 drop such a tool; it must not be listed at all.
                unusable[definition.name] = "its input schema breaks the x-mcp-header rules (\(error))"
                continue
            }
            let input: JSONSchemaValidator
            do {
                input = try JSONSchemaValidator(schema: definition.inputSchema, strict: false)
            } catch {
                unusable[definition.name] = "its input schema cannot be checked (\(error))"
                continue
            }
            var json = definition.json
            var output: JSONSchemaValidator?
            if let schema = definition.outputSchema {
                do {
                    output = try JSONSchemaValidator(schema: schema, strict: false)
                } catch {
                    uncheckedOutputs[definition.name] = "its output schema cannot be checked (\(error)); served without outputSchema"
                    if case .object(var members) = json {
                        members["outputSchema"] = nil
                        json = .object(members)
                    }
                }
            }
            validators[definition.name] = (input, output)
            tools.append(json)
        }
        self.tools = tools
        self.unusable = unusable
        self.uncheckedOutputs = uncheckedOutputs
        self.validators = validators
        self.paramHeaders = paramHeaders
    }

    /// The validators of a served tool; `nil` for a tool in ``unusable``.
    func validators(for tool: CompiledTool<ToolBinding>) -> (input: JSONSchemaValidator, output: JSONSchemaValidator?)? {
        validators[tool.definition.name]
    }
}
