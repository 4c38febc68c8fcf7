import ReshaprConfig
import ReshaprJSON

/// The prompts, static resources and resource templates an endpoint serves: those of its
/// Service's Prompts and Resources artifacts that its plan selects. Lists are built once.
public struct EndpointContent: Sendable {
    public let prompts: [String: Prompt]
    public let resources: [String: StaticResource]
    /// In the order they are tried on `resources/read`: by URI template.
    public let templates: [ResourceTemplate]
    let promptList: [JSONValue]
    let resourceList: [JSONValue]
    let templateList: [JSONValue]
    /// Entries of the plan's `prompts` and `resources` selections that name nothing.
    public let unmatched: (prompts: [String], resources: [String])

    init(service: Service, plan: ConfigurationPlan) {
        let allPrompts = service.prompts.mapValues(\.prompt)
        let allResources = service.staticResources.mapValues(\.resource)
        let allTemplates = service.resourceTemplates.mapValues(\.template)
        prompts = allPrompts.filter { plan.prompts.admits($0.key) }
        resources = allResources.filter { plan.resources.admits($0.key, $0.value.metadata.name) }
        templates = allTemplates.values.filter { plan.resources.admits($0.template.text, $0.metadata.name) }.sorted { $0.template.text < $1.template.text }
        promptList = prompts.values.sorted { $0.name < $1.name }.map(\.json)
        resourceList = resources.values.sorted { $0.uri < $1.uri }.map(\.json)
        templateList = templates.map(\.json)
        let promptNames = Set(allPrompts.keys)
        let resourceNames = Set(allResources.keys).union(allResources.values.map(\.metadata.name)).union(allTemplates.keys)
            .union(allTemplates.values.map(\.metadata.name))
        unmatched = (
            ((plan.prompts.include ?? []) + plan.prompts.exclude).filter { !promptNames.contains($0) },
            ((plan.resources.include ?? []) + plan.resources.exclude).filter { !resourceNames.contains($0) }
        )
    }

    /// The contents of a static resource, as `resources/read` gives them.
    static func contents(of resource: StaticResource) -> JSONValue {
        var object: JSONObject = ["uri": .string(resource.uri)]
        if let mimeType = resource.metadata.mimeType { object["mimeType"] = .string(mimeType) }
        switch resource.content {
        case .text(let text): object["text"] = .string(text)
        case .blob(let base64): object["blob"] = .string(base64)
        }
        return .object(object)
    }
}
