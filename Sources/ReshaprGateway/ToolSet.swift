import ReshaprJSON
import ReshaprProtobuf
import ReshaprTools
import Synchronization

/// The tools compiled from one API description and one tool selection, shared by every
/// endpoint that serves the same artifact the same way: compiled once, listed once, and
/// their validators compiled once (on first use of each tool).
public final class ToolSet: Sendable {
    public let catalog: ToolCatalog<ToolBinding>
    /// JSON <-> protobuf for the tools of a gRPC service.
    let transcoder: Transcoder?
    /// The MCP `Tool` objects of `tools/list`.
    public let tools: [JSONValue]
    private let validators = Mutex<[String: (input: JSONSchemaValidator?, output: JSONSchemaValidator?)]>([:])

    init(_ catalog: ToolCatalog<ToolBinding>, transcoder: Transcoder? = nil) {
        self.catalog = catalog
        self.transcoder = transcoder
        tools = catalog.tools.map(\.definition.json)
    }

    func validators(for tool: CompiledTool<ToolBinding>) -> (JSONSchemaValidator?, JSONSchemaValidator?) {
        let name = tool.definition.name
        if let cached = validators.withLock({ $0[name] }) { return cached }
        let input = try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)
        let output = tool.definition.outputSchema.flatMap { try? JSONSchemaValidator(schema: $0, strict: false) }
        validators.withLock { $0[name] = (input, output) }
        return (input, output)
    }
}
