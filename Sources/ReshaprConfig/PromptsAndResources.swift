import Foundation
import ReshaprJSON

/// One entry of a `kind: Prompts` file: a message template the caller fills in.
public struct Prompt: Sendable, Hashable {
    public struct Argument: Sendable, Hashable {
        public var name: String
        public var title: String?
        public var description: String?
        public var required: Bool
    }

    /// Why a prompt cannot be rendered with the caller's arguments.
    public enum RenderError: Error, Sendable, Hashable, CustomStringConvertible {
        case missing([String])
        case notText(String)

        public var description: String {
            switch self {
            case .missing(let names): "missing required argument\(names.count > 1 ? "s" : "") \(names.joined(separator: ", "))"
            case .notText(let name): "argument \(name) must be a string"
            }
        }
    }

    public var name: String
    public var title: String?
    public var description: String?
    public var arguments: [Argument]
    /// The text of the user message, with `${argument}` placeholders.
    public var result: String
    public var icons: JSONValue?

    /// `result` with each `${argument}` replaced by the caller's value; an optional argument
    /// left out becomes the empty string. `${x}` where x is not a declared argument is kept.
    public func render(_ values: JSONObject) -> Result<String, RenderError> {
        let missing = arguments.filter { $0.required && values[$0.name] == nil }.map(\.name)
        guard missing.isEmpty else { return .failure(.missing(missing)) }
        var text = result
        for argument in arguments {
            let value: String
            switch values[argument.name] {
            case nil: value = ""
            case .string(let string)?: value = string
            default: return .failure(.notText(argument.name))
            }
            text = text.replacingOccurrences(of: "${\(argument.name)}", with: value)
        }
        return .success(text)
    }

    /// The MCP `Prompt` object of `prompts/list`.
    public var json: JSONValue {
        var object: JSONObject = ["name": .string(name)]
        if let title { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if !arguments.isEmpty {
            object["arguments"] = .array(
                arguments.map { argument in
                    var entry: JSONObject = ["name": .string(argument.name), "required": .bool(argument.required)]
                    if let title = argument.title { entry["title"] = .string(title) }
                    if let description = argument.description { entry["description"] = .string(description) }
                    return .object(entry)
                })
        }
        if let icons { object["icons"] = icons }
        return .object(object)
    }
}

/// A `kind: Prompts` file.
public struct PromptsFile: Sendable, Hashable {
    public var service: ServiceBinding
    public var prompts: [String: Prompt]
}

/// The display fields shared by resources and resource templates (MCP `BaseMetadata`, icons,
/// annotations).
public struct ResourceMetadata: Sendable, Hashable {
    public var name: String
    public var title: String?
    public var description: String?
    public var mimeType: String?
    public var icons: JSONValue?
    public var annotations: JSONValue?

    /// The members of the MCP object (without `uri` / `uriTemplate`).
    public var members: JSONObject {
        var object: JSONObject = ["name": .string(name)]
        if let title { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if let mimeType { object["mimeType"] = .string(mimeType) }
        if let icons { object["icons"] = icons }
        if let annotations { object["annotations"] = annotations }
        return object
    }
}

/// A static resource: its URI, how it is shown, and its content.
public struct StaticResource: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case text(String)
        /// The content in base64 (checked at load, and canonical).
        case blob(String)
    }

    public var uri: String
    public var metadata: ResourceMetadata
    public var content: Content

    /// The MCP `Resource` object of `resources/list`.
    public var json: JSONValue {
        var object = metadata.members
        object["uri"] = .string(uri)
        return .object(object)
    }
}

/// A resource template: a family of URIs read from the plan's backend.
public struct ResourceTemplate: Sendable, Hashable {
    public var template: URITemplate
    public var metadata: ResourceMetadata

    /// The MCP `ResourceTemplate` object of `resources/templates/list`.
    public var json: JSONValue {
        var object = metadata.members
        object["uriTemplate"] = .string(template.text)
        return .object(object)
    }
}

/// A `kind: Resources` file.
public struct ResourcesFile: Sendable, Hashable {
    public var service: ServiceBinding
    public var resources: [String: StaticResource]
    public var templates: [String: ResourceTemplate]
}

extension LoadRun {
    /// Reads a Prompts or Resources file, checked against its schema.
    static func parseCatalogArtifact(_ document: JSONValue, type: ArtifactType) -> Result<ArtifactContent, FileAccessError> {
        let binding = ServiceBinding(name: document["service"]?["name"]?.stringValue ?? "", version: document["service"]?["version"]?.stringValue ?? "")
        if type == .prompts {
            var prompts: [String: Prompt] = [:]
            for (name, spec) in document["prompts"]?.objectValue ?? [:] {
                var seen: Set<String> = []
                var arguments: [Prompt.Argument] = []
                for (index, entry) in (spec["arguments"]?.arrayValue ?? []).enumerated() {
                    let argument = entry["name"]?.stringValue ?? ""
                    guard seen.insert(argument).inserted else {
                        return .failure(FileAccessError(description: "/prompts/\(name)/arguments/\(index)/name: argument \(argument) is declared twice"))
                    }
                    arguments.append(
                        Prompt.Argument(
                            name: argument, title: entry["title"]?.stringValue, description: entry["description"]?.stringValue,
                            required: entry["required"]?.boolValue ?? false))
                }
                prompts[name] = Prompt(
                    name: name, title: spec["title"]?.stringValue, description: spec["description"]?.stringValue, arguments: arguments,
                    result: spec["result"]?.stringValue ?? "", icons: spec["icons"])
            }
            return .success(.prompts(PromptsFile(service: binding, prompts: prompts)))
        }
        var resources: [String: StaticResource] = [:]
        for (uri, spec) in document["resources"]?.objectValue ?? [:] {
            let content: StaticResource.Content
            if let blob = spec["blob"]?.stringValue {
                guard let decoded = Base64.decode(blob, ignoringWhitespace: true) else {
                    return .failure(FileAccessError(description: "/resources/\(uri)/blob: is not valid base64"))
                }
                // Served in the canonical form (padded, no line breaks), whatever the file's.
                content = .blob(Data(decoded).base64EncodedString())
            } else {
                content = .text(spec["text"]?.stringValue ?? "")
            }
            resources[uri] = StaticResource(uri: uri, metadata: metadata(spec, default: uri), content: content)
        }
        var templates: [String: ResourceTemplate] = [:]
        for (text, spec) in document["resourceTemplates"]?.objectValue ?? [:] {
            switch URITemplate.parse(text) {
            case .failure(let error):
                return .failure(FileAccessError(description: "/resourceTemplates/\(text): \(error)"))
            case .success(let template):
                templates[text] = ResourceTemplate(template: template, metadata: metadata(spec, default: text))
            }
        }
        return .success(.resources(ResourcesFile(service: binding, resources: resources, templates: templates)))
    }

    private static func metadata(_ spec: JSONValue, default name: String) -> ResourceMetadata {
        ResourceMetadata(
            name: spec["name"]?.stringValue ?? name, title: spec["title"]?.stringValue, description: spec["description"]?.stringValue,
            mimeType: spec["mimeType"]?.stringValue, icons: spec["icons"], annotations: spec["annotations"])
    }
}

extension Service {
    /// The prompts of the Service's Prompts artifacts, by name, with the artifact each came from.
    public var prompts: [String: (prompt: Prompt, artifact: Artifact)] {
        collect { content in
            if case .prompts(let file) = content { return file.prompts }
            return nil
        }
    }

    /// The static resources of the Service's Resources artifacts, by URI.
    public var staticResources: [String: (resource: StaticResource, artifact: Artifact)] {
        collect { content in
            if case .resources(let file) = content { return file.resources }
            return nil
        }
    }

    /// The resource templates of the Service's Resources artifacts, by URI template.
    public var resourceTemplates: [String: (template: ResourceTemplate, artifact: Artifact)] {
        collect { content in
            if case .resources(let file) = content { return file.templates }
            return nil
        }
    }
}
