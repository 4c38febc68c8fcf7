import ReshaprConfig
import ReshaprFilters
import ReshaprJSON
import ReshaprScripting
import ReshaprTools

/// Custom tools and output filters (a Service's CustomTools and ToolsOutputFilters artifacts,
/// and the plan's `tools.overrides.<tool>.output`) applied to the compiled tools.
extension RoutingTable {
    /// The selection to compile with: custom tool names are not operations of the API, and the
    /// originals custom tools call must be compiled even when the plan's `include` omits them.
    static func compileSelection(_ tools: ToolSelection, service: Service) -> ToolSelection {
        let custom = service.customTools
        guard !custom.isEmpty else { return tools }
        var selection = tools
        selection.exclude = tools.exclude.filter { custom[$0] == nil }
        if let include = tools.include {
            var needed = include.filter { custom[$0] == nil }
            for name in include {
                guard let entry = custom[name]?.tool else { continue }
                switch entry.body {
                case .declarative(let original, _, _): needed.append(original)
                case .scripted(_, let allowed): needed += allowed.filter { $0.service == nil }.map(\.tool)
                }
            }
            selection.include = needed
        }
        return selection
    }

    /// What the exposition's custom tools and filters do to `catalog`; the issues say what is wrong.
    static func reshaping(_ catalog: ToolCatalog<ToolBinding>, for exposition: ResolvedExposition) -> Result<ToolSet.Reshaping, ConfigIssues> {
        let service = exposition.service
        let plan = exposition.plan
        var reshaping = ToolSet.Reshaping()
        var issues: [ConfigIssue] = []
        let names = Set(catalog.tools.map(\.definition.name))
        var renamed: [String: String] = [:]
        for (selector, override) in plan.tools.overrides { if let name = override.name { renamed[selector] = name } }
        func served(_ original: String) -> String? {
            if names.contains(original) { return original }
            if let name = renamed[original], names.contains(name) { return name }
            return nil
        }
        func issue(_ artifact: Artifact, _ path: JSONPath, _ message: String) {
            issues.append(
                ConfigIssue(
                    file: artifact.file ?? service.source.file, document: artifact.file == nil ? service.source.document : nil,
                    path: path, message: message))
        }
        let include = plan.tools.include.map(Set.init)
        let exclude = Set(plan.tools.exclude)
        let engine = ScriptRunner.availability
        let customTools = service.customTools
        var selectedCustom: Set<String> = []
        for (name, entry) in customTools.sorted(by: { $0.key < $1.key }) {
            if let include, !include.contains(name) { continue }
            if exclude.contains(name) { continue }
            let path = JSONPath.root.appending("customTools").appending(name)
            var custom = entry.tool
            if names.contains(name) {
                issue(entry.artifact, path, "custom tool \(name) has the name of a tool of \(service.metadata.name) \(service.version); give it another name")
                continue
            }
            var annotations = ToolAnnotations(title: custom.title)
            switch custom.body {
            case .declarative(let original, let arguments, let relations):
                guard let target = served(original) else {
                    issue(entry.artifact, path.appending("tool"), "\(service.metadata.name) \(service.version) has no tool \(original) (or the plan leaves it out)")
                    continue
                }
                if include?.contains(original) != true { reshaping.hidden.insert(target) }
                custom.body = .declarative(tool: target, arguments: arguments, relations: relations)
                if let originalTool = catalog.tool(named: target) {
                    annotations = originalTool.definition.annotations
                    annotations.title = custom.title ?? annotations.title
                }
            case .scripted(_, let allowed):
                for (index, reference) in allowed.enumerated() where reference.service == nil && served(reference.tool) == nil {
                    issue(
                        entry.artifact, path.appending("tools").appending(index: index),
                        "\(service.metadata.name) \(service.version) has no tool \(reference.tool) (or the plan leaves it out)")
                }
                if case .failure(let unavailable) = engine {
                    reshaping.unusable[name] = "scripted tools need a JavaScript engine: \(unavailable.reason)"
                }
            }
            selectedCustom.insert(name)
            reshaping.customTools.append(
                CompiledTool(
                    definition: ToolDefinition(name: name, title: custom.title, description: custom.description, inputSchema: custom.input, annotations: annotations),
                    binding: .custom(custom)))
        }
        let excluded = Set(catalog.excludedNames).union(customTools.keys.filter { !selectedCustom.contains($0) })
        for (tool, entry) in service.outputFilters.sorted(by: { $0.key < $1.key }) {
            if let target = selectedCustom.contains(tool) ? tool : served(tool) {
                reshaping.filters[target] = entry.filter
            } else if !excluded.contains(tool) {
                issue(
                    entry.artifact, JSONPath.root.appending("filters").appending(tool),
                    "\(service.metadata.name) \(service.version) has no tool \(tool) to filter")
            }
        }
        for (selector, override) in plan.tools.overrides.sorted(by: { $0.key < $1.key }) {
            guard let output = override.output else { continue }
            let target = override.name ?? selector
            guard names.contains(target) || selectedCustom.contains(target) else {
                issues.append(
                    ConfigIssue(
                        file: plan.source.file, document: plan.source.document,
                        path: JSONPath.root.appending("spec").appending("tools").appending("overrides").appending(selector).appending("output"),
                        message: "this plan serves no tool \(target) to filter"))
                continue
            }
            reshaping.filters[target] = output
        }
        return issues.isEmpty ? .success(reshaping) : .failure(ConfigIssues(issues: issues))
    }
}

/// Configuration errors found while building an endpoint.
struct ConfigIssues: Error {
    var issues: [ConfigIssue]
}
