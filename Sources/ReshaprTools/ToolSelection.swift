/// Which operations become tools, and under which names.
public struct ToolSelectionRules: Sendable {
    /// Selectors of operations to expose; all when `nil`. What a selector may be depends on the
    /// API kind (operationId or `METHOD /path`, GraphQL field, gRPC method), or the tool name.
    public var include: [String]?
    public var exclude: [String]
    /// By selector: a new tool name and/or description.
    public var overrides: [String: (name: String?, description: String?)]

    public init(include: [String]? = nil, exclude: [String] = [], overrides: [String: (name: String?, description: String?)] = [:]) {
        self.include = include
        self.exclude = exclude
        self.overrides = overrides
    }
}

/// One operation of an API description that may become a tool.
public struct ToolCandidate<Binding: Sendable & Hashable> {
    /// Names the plan may use for it; those with a space (`GET /pets`, `query pets`) match
    /// case-insensitively.
    public var selectors: [String]
    public var defaultName: String
    /// How logs and `/status` name it.
    public var signature: String
    public var operationID: String?
    public var compile: () throws(UnsupportedOperation) -> CompiledTool<Binding>

    public init(
        selectors: [String], defaultName: String, signature: String, operationID: String? = nil,
        compile: @escaping () throws(UnsupportedOperation) -> CompiledTool<Binding>
    ) {
        self.selectors = selectors
        self.defaultName = defaultName
        self.signature = signature
        self.operationID = operationID
        self.compile = compile
    }
}

extension ToolCatalog {
    /// Applies include, exclude and overrides to the candidates, compiles the selected ones,
    /// and makes names unique (`name_2`, ...). Candidates that fail are listed as skipped.
    public static func select(_ candidates: [ToolCandidate<Binding>], rules: ToolSelectionRules) -> ToolCatalog<Binding> {
        var usedSelectors: Set<String> = []
        var tools: [CompiledTool<Binding>] = []
        var skipped: [SkippedOperation] = []
        var excludedNames: [String] = []
        var taken: Set<String> = []
        for candidate in candidates {
            let selectors = candidate.selectors + [candidate.defaultName]
            func matches(_ list: [String]) -> String? {
                list.first { selector in
                    selectors.contains { $0 == selector || selector.contains(" ") && $0.lowercased() == selector.lowercased() }
                }
            }
            if let include = rules.include {
                guard let hit = matches(include) else {
                    excludedNames.append(candidate.defaultName)
                    continue
                }
                usedSelectors.insert(hit)
            }
            if let hit = matches(rules.exclude) {
                usedSelectors.insert(hit)
                excludedNames.append(candidate.defaultName)
                continue
            }
            var override: (name: String?, description: String?) = (nil, nil)
            if let hit = matches(Array(rules.overrides.keys)), let value = rules.overrides[hit] {
                usedSelectors.insert(hit)
                override = value
            }
            do {
                var tool = try candidate.compile()
                var name = override.name ?? candidate.defaultName
                if taken.contains(name) {
                    var n = 2
                    while taken.contains("\(name)_\(n)") { n += 1 }
                    name = "\(name)_\(n)"
                }
                taken.insert(name)
                tool.definition.name = name
                if let description = override.description { tool.definition.description = description }
                tools.append(tool)
            } catch {
                skipped.append(SkippedOperation(signature: candidate.signature, operationID: candidate.operationID, reason: error.reason))
            }
        }
        let allSelectors = (rules.include ?? []) + rules.exclude + rules.overrides.keys.sorted()
        let unmatched = allSelectors.filter { !usedSelectors.contains($0) }
        return ToolCatalog(tools: tools, skipped: skipped, unmatchedSelectors: unmatched, excludedNames: excludedNames)
    }
}

/// MCP tool names: `[A-Za-z0-9_.-]`, at most 128 characters.
public enum ToolName {
    /// `raw` with every run of other characters replaced by one `_`; names longer than 128 are
    /// cut and end with a hash of the whole, so that they stay unique and stable.
    public static func sanitize(_ raw: String, fallback: String = "tool") -> String {
        var name = ""
        var lastWasUnderscore = false
        for scalar in raw.unicodeScalars {
            let ok = (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "_" || scalar == "." || scalar == "-"
            if ok {
                name.unicodeScalars.append(scalar)
                lastWasUnderscore = scalar == "_"
            } else if !lastWasUnderscore {
                name += "_"
                lastWasUnderscore = true
            }
        }
        if name.isEmpty { name = fallback }
        if name.count > 128 {
            var hash: UInt32 = 2_166_136_261
            for byte in raw.utf8 {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
            let hex = String(hash, radix: 16)
            name = String(name.prefix(119)) + "_" + String(repeating: "0", count: 8 - hex.count) + hex
        }
        return name
    }
}
