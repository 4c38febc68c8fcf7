import ReshaprFilters
import ReshaprJSON

/// The `apiVersion` of reShapr's artifact files (CustomTools, ToolsOutputFilters, Prompts, Resources).
public let artifactAPIVersion = "reshapr.io/v1alpha1"

extension ArtifactType {
    /// reShapr's own artifact files, by their `kind`.
    public static let reshaprKinds: [String: ArtifactType] = [
        "CustomTools": .customTools, "ToolsOutputFilters": .toolsOutputFilters, "Prompts": .prompts, "Resources": .resources,
    ]
}

/// The `service: {name, version}` an artifact file says it belongs to.
public struct ServiceBinding: Sendable, Hashable {
    public var name: String
    public var version: String

    public init(name: String, version: String) {
        self.name = name
        self.version = version
    }
}

/// A `kind: ToolsOutputFilters` file: output filters by tool name.
public struct ToolsOutputFilters: Sendable, Hashable {
    public var service: ServiceBinding
    public var filters: [String: OutputFilter]
}

/// A tool a scripted custom tool may call: one of its own Service, or of another Service of
/// the same organization.
public struct ToolReference: Sendable, Hashable, CustomStringConvertible {
    /// `nil` for the custom tool's own Service.
    public var service: ServiceBinding?
    public var tool: String

    public init(service: ServiceBinding?, tool: String) {
        self.service = service
        self.tool = tool
    }

    public var description: String { service.map { "\($0.name):\($0.version)/\(tool)" } ?? tool }
}

/// One entry of a `kind: CustomTools` file.
public struct CustomTool: Sendable, Hashable {
    public enum Body: Sendable, Hashable {
        /// Calls `tool` with `arguments`, where `${x}` stands for input `x`. `relations` are the
        /// `__relation_<field>` entries: arguments of nested GraphQL fields, by field name.
        case declarative(tool: String, arguments: JSONObject, relations: [String: JSONObject])
        /// Runs `script` with the tools of `allowed` callable.
        case scripted(script: String, allowed: [ToolReference])
    }

    public var name: String
    public var title: String?
    public var description: String
    /// The JSON Schema of the arguments.
    public var input: JSONValue
    public var body: Body
}

/// A `kind: CustomTools` file.
public struct CustomTools: Sendable, Hashable {
    public var service: ServiceBinding
    public var tools: [String: CustomTool]
}

extension LoadRun {
    /// Reads one of reShapr's own artifact files (CustomTools, ToolsOutputFilters, Prompts,
    /// Resources), checked against its schema.
    static func parseReshaprArtifact(_ bytes: [UInt8], type: ArtifactType) -> Result<ArtifactContent, FileAccessError> {
        let document: JSONValue
        switch singleObject(bytes) {
        case .success(let object): document = object
        case .failure(let error): return .failure(error)
        }
        let expectedKind = ArtifactType.reshaprKinds.first { $0.value == type }?.key ?? ""
        if let kind = document["kind"]?.stringValue, kind != expectedKind {
            return .failure(FileAccessError(description: "is a \(kind) file; a \(type.rawValue) artifact holds kind: \(expectedKind)"))
        }
        switch SchemaCatalog.artifactValidators {
        case .failure(let error):
            return .failure(FileAccessError(description: "cannot validate: the embedded schemas are broken (\(error))"))
        case .success(let validators):
            if let violations = validators[type]?.validate(document), let first = violations.first {
                let more = violations.count > 1 ? " (and \(violations.count - 1) more)" : ""
                return .failure(FileAccessError(description: (first.path.isRoot ? "" : "\(first.path): ") + first.message + more))
            }
        }
        if type == .prompts || type == .resources { return parseCatalogArtifact(document, type: type) }
        let binding = ServiceBinding(name: document["service"]?["name"]?.stringValue ?? "", version: document["service"]?["version"]?.stringValue ?? "")
        do throws(OutputFilterError) {
            if type == .toolsOutputFilters {
                var filters: [String: OutputFilter] = [:]
                for (tool, spec) in document["filters"]?.objectValue ?? [:] {
                    filters[tool] = try OutputFilter(spec: spec, at: JSONPath.root.appending("filters").appending(tool))
                }
                return .success(.outputFilters(ToolsOutputFilters(service: binding, filters: filters)))
            }
            var tools: [String: CustomTool] = [:]
            for (name, spec) in document["customTools"]?.objectValue ?? [:] {
                tools[name] = try customTool(name, spec, at: JSONPath.root.appending("customTools").appending(name))
            }
            return .success(.customTools(CustomTools(service: binding, tools: tools)))
        } catch {
            return .failure(FileAccessError(description: error.description))
        }
    }

    static func customTool(_ name: String, _ spec: JSONValue, at field: JSONPath) throws(OutputFilterError) -> CustomTool {
        let input = spec["input"] ?? ["type": "object", "properties": .emptyObject]
        if let type = input["type"], type != "object" {
            throw OutputFilterError(field.appending("input").appending("type"), "a tool's input schema describes an object")
        }
        let body: CustomTool.Body
        if let script = spec["script"]?.stringValue {
            var allowed: [ToolReference] = []
            for entry in spec["tools"]?.arrayValue ?? [] {
                var service: ServiceBinding?
                if let reference = entry["service"]?.stringValue, let colon = reference.firstIndex(of: ":") {
                    service = ServiceBinding(name: String(reference[..<colon]), version: String(reference[reference.index(after: colon)...]))
                }
                allowed.append(ToolReference(service: service, tool: entry["tool"]?.stringValue ?? ""))
            }
            body = .scripted(script: script, allowed: allowed)
        } else {
            var arguments: JSONObject = [:]
            var relations: [String: JSONObject] = [:]
            for (key, value) in spec["arguments"]?.objectValue ?? [:] {
                if key.hasPrefix("__relation_") {
                    let fieldName = String(key.dropFirst("__relation_".count))
                    guard !fieldName.isEmpty, case .object(let members) = value else {
                        throw OutputFilterError(field.appending("arguments").appending(key), "must be an object of the nested field's arguments, such as {last: 10}")
                    }
                    relations[fieldName] = members
                } else {
                    arguments[key] = value
                }
            }
            body = .declarative(tool: spec["tool"]?.stringValue ?? "", arguments: arguments, relations: relations)
        }
        return CustomTool(name: name, title: spec["title"]?.stringValue, description: spec["description"]?.stringValue ?? "", input: input, body: body)
    }
}

extension ArtifactContent {
    /// For one of reShapr's own artifact files: the Service it names and what it defines (tools,
    /// prompts, resource URIs and URI templates).
    var definedNames: (service: ServiceBinding, names: Set<String>)? {
        switch self {
        case .outputFilters(let file): return (file.service, Set(file.filters.keys))
        case .customTools(let file): return (file.service, Set(file.tools.keys))
        case .prompts(let file): return (file.service, Set(file.prompts.keys))
        case .resources(let file): return (file.service, Set(file.resources.keys).union(file.templates.keys))
        case .document, .text, .binary: return nil
        }
    }
}

extension Service {
    /// The output filters of the Service's ToolsOutputFilters artifacts, by tool name, with the
    /// artifact each came from.
    public var outputFilters: [String: (filter: OutputFilter, artifact: Artifact)] {
        collect { content in
            if case .outputFilters(let file) = content { return file.filters }
            return nil
        }
    }

    /// The custom tools of the Service's CustomTools artifacts, by name, with the artifact each came from.
    public var customTools: [String: (tool: CustomTool, artifact: Artifact)] {
        collect { content in
            if case .customTools(let file) = content { return file.tools }
            return nil
        }
    }

    /// The entries `extract` finds in the artifacts, by name, each with its artifact.
    func collect<Value>(_ extract: (ArtifactContent) -> [String: Value]?) -> [String: (Value, artifact: Artifact)] {
        var entries: [String: (Value, artifact: Artifact)] = [:]
        for artifact in artifacts {
            for (name, value) in extract(artifact.content) ?? [:] { entries[name] = (value, artifact) }
        }
        return entries
    }
}
