import ReshaprConfig
import ReshaprFilters
import ReshaprGraphQL
import ReshaprJSON
import ReshaprMCP
import ReshaprTools

extension ToolEndpoint {
    /// The result of `call` once `filter` has reshaped its JSON answer. Errors and non-JSON
    /// answers pass as they are. A filtered answer that breaks the advertised `outputSchema`
    /// (which the schema derivation should prevent) becomes a tool error rather than
    /// `structuredContent` that contradicts the schema.
    func applying(_ filter: OutputFilter, to call: CallOutcome, tool name: String, validator: JSONSchemaValidator?, context: MCPCallContext) -> CallOutcome {
        guard !call.result.isError, let answer = call.answer else { return call }
        let outcome = filter.apply(to: answer)
        if let stopped = outcome.stoppedAt {
            context.logger.debug("output filter stopped at a failed test", metadata: ["tool": "\(name)", "operation": "\(stopped)"])
        }
        var filtered = call
        filtered.answer = outcome.document
        if filter.convertToToon, !outcome.document.depth(exceeds: ToonEncoder.maxDepth) {
            filtered.result = .text(ToonEncoder().encode(outcome.document))
            return filtered
        }
        guard case .object = outcome.document else {
            filtered.result = .text(outcome.document.serialized())
            return filtered
        }
        if let validator {
            let violations = validator.validate(outcome.document)
            if !violations.isEmpty {
                context.logger.warning("filtered answer breaks the advertised output schema", metadata: ["tool": "\(name)", "violation": "\(violations[0])"])
                filtered.result = .text(
                    "The output filter of \(name) made an answer that does not match the tool's output schema (\(violations[0])). Answer: "
                        + ResultMapper.excerpt(outcome.document.serializedBytes()), isError: true)
                filtered.outcome = .toolError
                return filtered
            }
        }
        filtered.result = .structured(outcome.document)
        return filtered
    }

    /// A custom tool: the original it stands for, called with the templated arguments, or its script.
    func callCustom(_ custom: CustomTool, arguments: JSONObject, context: MCPCallContext, nesting: Int) async -> CallOutcome {
        switch custom.body {
        case .declarative(let original, let template, let relations):
            guard var target = toolSet.callableTool(named: original) else {
                return CallOutcome(result: .text("\(custom.name) calls \(original), which this endpoint does not serve.", isError: true), outcome: .refused, reachedBackend: false)
            }
            let input = JSONValue.object(arguments)
            let resolved = ArgumentTemplate.resolve(.object(template), input: input).objectValue ?? [:]
            if !relations.isEmpty {
                guard case .graphQL(let operation) = target.binding else {
                    return CallOutcome(
                        result: .text("\(custom.name) sets __relation_ arguments, which only GraphQL tools have.", isError: true), outcome: .refused,
                        reachedBackend: false)
                }
                var values: [String: JSONObject] = [:]
                for (field, members) in relations { values[field] = ArgumentTemplate.resolve(.object(members), input: input).objectValue ?? [:] }
                do {
                    target.binding = .graphQL(try operation.settingArguments(values))
                } catch {
                    return CallOutcome(result: .text("\(custom.name): \(error.reason).", isError: true), outcome: .refused, reachedBackend: false)
                }
            }
            // The custom tool's own filter, if it has one, replaces the original's.
            return await invoke(target, arguments: resolved, context: context, nesting: nesting, filtered: toolSet.filters[custom.name] == nil)
        case .scripted(let script, let allowed):
            return await runScript(custom, script: script, allowed: allowed, arguments: arguments, context: context, nesting: nesting)
        }
    }
}

/// `${x}` templates of declarative custom tools' arguments.
enum ArgumentTemplate {
    /// `template` with every `"${x}"` string replaced by input `x` (keeping its JSON type; the
    /// member is dropped when the input has no `x`), and `${x}` inside longer strings replaced
    /// by the input's text.
    static func resolve(_ template: JSONValue, input: JSONValue) -> JSONValue {
        switch template {
        case .string(let text):
            if let name = wholeReference(text) { return input[name] ?? .null }
            return .string(interpolate(text, input: input))
        case .array(let elements):
            return .array(elements.map { resolve($0, input: input) })
        case .object(let members):
            var out = JSONObject()
            for (key, value) in members {
                if case .string(let text) = value, let name = wholeReference(text), input[name] == nil { continue }
                out[key] = resolve(value, input: input)
            }
            return .object(out)
        default:
            return template
        }
    }

    /// `x` when `text` is exactly `${x}`.
    static func wholeReference(_ text: String) -> String? {
        guard text.hasPrefix("${"), text.hasSuffix("}"), text.count > 3 else { return nil }
        let name = text.dropFirst(2).dropLast()
        return name.contains("}") || name.contains("${") ? nil : String(name)
    }

    static func interpolate(_ text: String, input: JSONValue) -> String {
        var out = ""
        var rest = text[...]
        while let open = rest.range(of: "${") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].firstIndex(of: "}") else {
                rest = rest[open.lowerBound...]
                break
            }
            let name = String(rest[open.upperBound..<close])
            switch input[name] {
            case .string(let value)?: out += value
            case let value?: out += value == .null ? "" : value.serialized()
            case nil: break
            }
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }
}
