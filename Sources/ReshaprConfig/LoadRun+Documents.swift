import Foundation
import ReshaprJSON

/// Reading resource documents and keeping one candidate per resource name.
extension LoadRun {
    static let marker = Array("reshapr.io/".utf8)
    static let artifactKinds: Set<String> = ["CustomTools", "ToolsOutputFilters", "Prompts", "Resources"]

    static func mentionsReshapr(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { haystack in
            guard haystack.count >= marker.count, let first = marker.first else { return false }
            var i = 0
            let last = haystack.count - marker.count
            while i <= last {
                if haystack[i] == first {
                    var j = 1
                    while j < marker.count && haystack[i + j] == marker[j] { j += 1 }
                    if j == marker.count { return true }
                }
                i += 1
            }
            return false
        }
    }

    mutating func readResources(in file: String) {
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.readAll(absolute(file), limit: options.maxFileSize)
        } catch {
            reportFile(file, "cannot read: \(error)")
            unreadableFiles.insert(file)
            return
        }
        // A file that never mentions our apiVersion holds no resource: skip parsing it
        // (large artifacts are parsed only when a Service references them).
        guard Self.mentionsReshapr(bytes) else { return }
        let parsed: [ParsedDocument]
        do {
            parsed = try DocumentReader.parse(bytes, keepNodes: true)
        } catch {
            reportFile(file, error.description, line: error.line)
            unreadableFiles.insert(file)
            return
        }
        for (index, document) in parsed.enumerated() {
            readResource(document, at: SourceLocation(file: file, document: index + 1))
        }
    }

    mutating func readResource(_ document: ParsedDocument, at location: SourceLocation) {
        guard case .object(let object) = document.value, let apiVersion = object["apiVersion"]?.stringValue,
            apiVersion.hasPrefix("reshapr.io/")
        else { return }
        // reShapr's artifact files (CustomTools, ToolsOutputFilters...) are read when a Service references them.
        if apiVersion == artifactAPIVersion, let kind = object["kind"]?.stringValue, Self.artifactKinds.contains(kind) { return }
        documents[location] = document
        resourceDocuments += 1
        guard apiVersion == resourceAPIVersion else {
            report(location, JSONPath.root.appending("apiVersion"), "unsupported apiVersion \"\(apiVersion)\"; this gateway reads \(resourceAPIVersion)")
            return
        }
        let kindPath = JSONPath.root.appending("kind")
        guard let kindValue = object["kind"] else {
            report(location, kindPath, "required field is missing")
            return
        }
        guard let kindName = kindValue.stringValue, let kind = ResourceKind(rawValue: kindName) else {
            let known = ResourceKind.allCases.map(\.rawValue)
            var message = "unknown kind \(kindValue)"
            if let text = kindValue.stringValue, let suggestion = closestMatch(to: text, in: known) {
                message += "; did you mean \"\(suggestion)\"?"
            }
            message += " (known kinds: \(known.joined(separator: ", ")))"
            report(location, kindPath, message)
            return
        }
        let validators: [ResourceKind: JSONSchemaValidator]
        switch SchemaCatalog.validators {
        case .success(let compiled): validators = compiled
        case .failure(let error):
            report(location, .root, "cannot validate: the embedded schemas are broken (\(error))")
            return
        }
        let metadata = Self.metadata(of: document.value)
        if let validator = validators[kind] {
            let violations = validator.validate(document.value, redacting: kind.isSensitive)
            if !violations.isEmpty {
                for violation in violations { report(location, violation.path, violation.message) }
                if let metadata {
                    let version = kind == .service ? document.value["spec"]?["version"]?.stringValue : nil
                    invalid[InvalidKey(kind: kind, name: ResourceName(org: metadata.org, name: metadata.name), version: version)] = location
                }
                return
            }
        }
        guard let metadata else {
            report(location, JSONPath.root.appending("metadata"), "metadata is unreadable")
            return
        }
        let candidate = Candidate(value: document.value["spec"] ?? .object([:]), metadata: metadata, location: location)
        let name = ResourceName(org: metadata.org, name: metadata.name)
        switch kind {
        case .service:
            let version = candidate.value["version"]?.stringValue ?? ""
            services[ServiceKey(org: metadata.org, name: metadata.name, version: version), default: []].append(candidate)
        case .configurationPlan: plans[name, default: []].append(candidate)
        case .exposition: expositions[name, default: []].append(candidate)
        case .secret: secrets[name, default: []].append(candidate)
        case .gateway: gateways.append(candidate)
        }
    }

    /// Name, org (default "default") and labels, read leniently so that even an invalid
    /// resource can be named in the errors of the resources that reference it.
    static func metadata(of document: JSONValue) -> Metadata? {
        guard let name = document["metadata"]?["name"]?.stringValue else { return nil }
        let org = document["metadata"]?["org"]?.stringValue ?? "default"
        var labels: [String: String] = [:]
        for (key, value) in document["metadata"]?["labels"]?.objectValue ?? [:] {
            if let text = value.stringValue { labels[key] = text }
        }
        return Metadata(name: name, org: org, labels: labels, id: document["metadata"]?["id"]?.stringValue)
    }

    /// Keeps the resources defined exactly once; reports each definition of a duplicate.
    mutating func unique<Key: Hashable>(_ groups: [Key: [Candidate<JSONValue>]], kind: ResourceKind, describe: (Key) -> String)
        -> [Key: Candidate<JSONValue>]
    {
        var result: [Key: Candidate<JSONValue>] = [:]
        for (key, candidates) in groups {
            if candidates.count == 1, let only = candidates.first {
                result[key] = only
                continue
            }
            for candidate in candidates {
                let others = candidates.filter { $0.location != candidate.location }.map(\.location.description).sorted()
                report(
                    candidate.location, JSONPath.root.appending("metadata").appending("name"),
                    "duplicate \(kind.rawValue) \(describe(key)): also defined at \(others.joined(separator: ", "))")
                let name = ResourceName(org: candidate.metadata.org, name: candidate.metadata.name)
                let version = kind == .service ? candidate.value["version"]?.stringValue : nil
                invalid[InvalidKey(kind: kind, name: name, version: version)] = candidate.location
            }
        }
        return result
    }

    // MARK: - Files referenced by resources

    /// Reads a file referenced at `path` of the resource at `location`; reports and returns nil on failure.
    mutating func readReferenced(_ reference: String, at location: SourceLocation, _ path: JSONPath, limit: Int? = nil) -> (String, [UInt8])? {
        switch RelativePath.resolve(reference, from: location.file) {
        case .failure(let error):
            report(location, path, error.description)
            return nil
        case .success(let resolved):
            do {
                return (resolved, try FileAccess.readAll(absolute(resolved), limit: limit ?? options.maxFileSize))
            } catch {
                report(location, path, "cannot read \(resolved): \(error)")
                return nil
            }
        }
    }
}
