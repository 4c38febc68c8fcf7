import ReshaprConfig
import ReshaprFilters
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
    /// The tools clients see and call.
    public let catalog: ToolCatalog<ToolBinding>
    /// JSON <-> protobuf for the tools of a gRPC service.
    let transcoder: Transcoder?
    /// The MCP `Tool` objects of `tools/list`, by name, so that every replica lists them alike.
    public let tools: [JSONValue]
    /// The `x-mcp-header` annotations of each tool that has some.
    let paramHeaders: [String: [MCPParamHeader]]
    /// Why each refused tool is refused, by tool name.
    public let unusable: [String: String]
    /// The refused tools that are custom tools unable to run here (a scripted tool without a
    /// JavaScript engine): configuration errors, where the others are the API description's warnings.
    public let unrunnable: Set<String>
    /// Tools served without `outputSchema`, by tool name, with the reason.
    public let uncheckedOutputs: [String: String]
    /// The output filter of each filtered tool.
    let filters: [String: OutputFilter]
    /// Every tool custom tools may call, listed or not (originals replaced by a custom tool are not).
    private let callable: [String: CompiledTool<ToolBinding>]
    private let validators: [String: Validators]

    /// The schemas a call is checked against.
    struct Validators {
        var input: JSONSchemaValidator
        /// The backend's answer, before any filter.
        var backend: JSONSchemaValidator?
        /// The filtered answer: what the advertised `outputSchema` promises.
        var filtered: JSONSchemaValidator?
    }

    /// What a Service's CustomTools and ToolsOutputFilters (and the plan) do to the compiled tools.
    struct Reshaping {
        var customTools: [CompiledTool<ToolBinding>] = []
        /// Originals replaced by a custom tool: callable by custom tools, not listed.
        var hidden: Set<String> = []
        var filters: [String: OutputFilter] = [:]
        /// Custom tools that cannot run, with the reason (a scripted tool without a JavaScript engine).
        var unusable: [String: String] = [:]
    }

    init(_ compiled: ToolCatalog<ToolBinding>, transcoder: Transcoder? = nil, reshaping: Reshaping) {
        self.transcoder = transcoder
        self.filters = reshaping.filters
        self.unrunnable = Set(reshaping.unusable.keys)
        var tools: [JSONValue] = []
        var unusable = reshaping.unusable
        var uncheckedOutputs: [String: String] = [:]
        var validators: [String: Validators] = [:]
        var paramHeaders: [String: [MCPParamHeader]] = [:]
        var callable: [String: CompiledTool<ToolBinding>] = [:]
        var listed: [CompiledTool<ToolBinding>] = []
        let all = compiled.tools + reshaping.customTools
        let originals = Dictionary(compiled.tools.map { ($0.definition.name, $0) }, uniquingKeysWith: { first, _ in first })
        for tool in all.sorted(by: { $0.definition.name < $1.definition.name }) {
            var definition = tool.definition
            let isListed = !reshaping.hidden.contains(definition.name)
            // A refused tool stays in the catalog, unlisted, so that a call gets the reason.
            func refuse(_ reason: String) {
                unusable[definition.name] = reason
                if isListed { listed.append(tool) }
            }
            if let reason = unusable[definition.name] {
                refuse(reason)
                continue
            }
            switch MCPParamHeader.annotations(in: definition.inputSchema) {
            case .success(let annotations):
                if !annotations.isEmpty { paramHeaders[definition.name] = annotations }
            case .failure(let error):
                // Clients of 2026-07-28 drop such a tool; it must not be listed at all.
                refuse("its input schema breaks the x-mcp-header rules (\(error))")
                continue
            }
            let input: JSONSchemaValidator
            do {
                input = try JSONSchemaValidator(schema: definition.inputSchema, strict: false)
            } catch {
                refuse("its input schema cannot be checked (\(error))")
                continue
            }
            var backend: JSONSchemaValidator?
            if let schema = definition.outputSchema {
                do {
                    backend = try JSONSchemaValidator(schema: schema, strict: false)
                } catch {
                    uncheckedOutputs[definition.name] = "its output schema cannot be checked (\(error)); served without outputSchema"
                    definition.outputSchema = nil
                }
            }
            // What the client is promised: the schema of the answer once filtered. A declarative
            // custom tool answers what its original answers.
            var promised = definition.outputSchema
            if case .custom(let custom) = tool.binding, case .declarative(let original, _, _) = custom.body, let target = originals[original] {
                promised = reshaping.filters[original].map { $0.outputSchema(from: target.definition.outputSchema) } ?? target.definition.outputSchema
            }
            if let filter = reshaping.filters[definition.name] { promised = filter.outputSchema(from: promised) }
            var filtered: JSONSchemaValidator?
            if let schema = promised {
                filtered = try? JSONSchemaValidator(schema: schema, strict: false)
                if filtered == nil { promised = nil }
            }
            definition.outputSchema = promised
            validators[definition.name] = Validators(input: input, backend: backend, filtered: filtered)
            let served = CompiledTool(definition: definition, binding: tool.binding)
            callable[definition.name] = served
            if isListed {
                tools.append(definition.json)
                listed.append(served)
            }
        }
        self.catalog = ToolCatalog(tools: listed, skipped: compiled.skipped, unmatchedSelectors: compiled.unmatchedSelectors, excludedNames: compiled.excludedNames)
        self.tools = tools
        self.unusable = unusable
        self.uncheckedOutputs = uncheckedOutputs
        self.validators = validators
        self.paramHeaders = paramHeaders
        self.callable = callable
    }

    /// The validators of a served tool; `nil` for a tool in ``unusable``.
    func validators(for tool: CompiledTool<ToolBinding>) -> Validators? {
        validators[tool.definition.name]
    }

    /// A tool a custom tool may call by name: listed, or replaced by a custom tool.
    func callableTool(named name: String) -> CompiledTool<ToolBinding>? {
        callable[name]
    }
}
