import Foundation
import ReshaprFilters
import ReshaprJSON

/// Configuration plans: backend, tool selection, backend and client security.
extension LoadRun {
    mutating func resolvePlans(services: [ServiceKey: Service], secrets: [ResourceName: Secret]) -> [ResourceName: (ConfigurationPlan, Service)] {
        var result: [ResourceName: (ConfigurationPlan, Service)] = [:]
        for (name, candidate) in unique(plans, kind: .configurationPlan, describe: { $0.description }) {
            let spec = candidate.value
            let at = candidate.location
            let specPath = JSONPath.root.appending("spec")
            var ok = true

            let serviceName = spec["service"]?["name"]?.stringValue ?? ""
            let serviceVersion = spec["service"]?["version"]?.stringValue ?? ""
            let key = ServiceKey(org: name.org, name: serviceName, version: serviceVersion)
            let service = services[key]
            if service == nil {
                ok = false
                let servicePath = specPath.appending("service")
                if let invalidAt = invalid[InvalidKey(kind: .service, name: ResourceName(org: name.org, name: serviceName), version: serviceVersion)] {
                    report(at, servicePath, "service \(serviceName) \(serviceVersion) is invalid (see the errors at \(invalidAt))")
                } else {
                    let versions = services.keys.filter { $0.org == name.org && $0.name == serviceName }.map(\.version).sorted()
                    if versions.isEmpty {
                        report(at, servicePath.appending("name"), "service \(serviceName) not found in org \(name.org)")
                    } else {
                        report(
                            at, servicePath.appending("version"),
                            "service \(serviceName) \(serviceVersion) not found (versions: \(versions.joined(separator: ", ")))")
                    }
                }
            }

            let backendSpec = spec["backend"] ?? .object([:])
            var backend = Backend.mock
            if backendSpec["mock"]?.boolValue != true {
                var tls: TLSSettings?
                if let tlsSpec = backendSpec["tls"] {
                    var caPEM: String?
                    if let caFile = tlsSpec["caFile"]?.stringValue {
                        let path = specPath.appending("backend").appending("tls").appending("caFile")
                        if let (_, bytes) = readReferenced(caFile, at: at, path, limit: 1 << 20) {
                            caPEM = String(decoding: bytes, as: UTF8.self)
                        } else {
                            ok = false
                        }
                    }
                    let tlsPath = specPath.appending("backend").appending("tls")
                    /// A PEM from a Secret, when the field is there.
                    func pem(_ field: String) -> SecretValue? {
                        guard let ref = tlsSpec[field] else { return nil }
                        guard let value = secretValue(ref, org: name.org, secrets: secrets, at: at, tlsPath.appending(field)) else {
                            ok = false
                            return nil
                        }
                        return value
                    }
                    let clientCertificate = pem("clientCertificateSecretRef")
                    let clientKey = pem("clientKeySecretRef")
                    if (clientCertificate == nil) != (clientKey == nil), ok {
                        report(at, tlsPath, "clientCertificateSecretRef and clientKeySecretRef go together")
                        ok = false
                    }
                    tls = TLSSettings(
                        caPEM: caPEM, caSecret: pem("caSecretRef"), clientCertificate: clientCertificate, clientKey: clientKey,
                        insecureSkipVerify: tlsSpec["insecureSkipVerify"]?.boolValue ?? false)
                }
                var headers: [String: SecretValue] = [:]
                for (header, value) in backendSpec["headers"]?.objectValue ?? [:] {
                    do throws(SecretReferenceError) {
                        headers[header] = try SecretValue(template: value.stringValue ?? "", policy: options.secretReferences)
                    } catch {
                        report(at, specPath.appending("backend").appending("headers").appending(header), error.description)
                        ok = false
                    }
                }
                var timeout = Duration.seconds(30)
                if let raw = backendSpec["timeout"] {
                    if let parsed = Duration.parse(raw) {
                        timeout = parsed
                    } else {
                        report(at, specPath.appending("backend").appending("timeout"), "must be a duration \(Duration.configuredRange)")
                        ok = false
                    }
                }
                let endpoint = backendSpec["endpoint"]?.stringValue ?? ""
                if HTTPBackend.withoutUserInfo(endpoint) != endpoint {
                    report(
                        at, specPath.appending("backend").appending("endpoint"),
                        "must not carry credentials (user:password@); put them in a Secret and use backendSecurity")
                    ok = false
                }
                backend = .http(HTTPBackend(endpoint: endpoint, timeout: timeout, headers: headers, tls: tls))
            }

            let toolsSpec = spec["tools"]
            var overrides: [String: ToolSelection.Override] = [:]
            for (operation, value) in toolsSpec?["overrides"]?.objectValue ?? [:] {
                var output: OutputFilter?
                if let spec = value["output"] {
                    let field = specPath.appending("tools").appending("overrides").appending(operation).appending("output")
                    do {
                        output = try OutputFilter(spec: spec, at: field)
                    } catch {
                        report(at, error.path, error.message)
                        ok = false
                    }
                }
                overrides[operation] = ToolSelection.Override(
                    name: value["name"]?.stringValue, description: value["description"]?.stringValue, selection: value["selection"]?.stringValue,
                    output: output, requiredScopes: value["requiredScopes"]?.arrayValue?.compactMap(\.stringValue))
            }
            let tools = ToolSelection(
                include: toolsSpec?["include"]?.arrayValue?.compactMap(\.stringValue),
                exclude: toolsSpec?["exclude"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                overrides: overrides, selectionDepth: toolsSpec?["selectionDepth"]?.intValue)

            var listCacheTTL: Duration?
            if let raw = toolsSpec?["cacheTtl"] {
                if raw == .integer(0) || raw == .string("0") || raw == .string("0s") {
                    listCacheTTL = .zero
                } else if let parsed = Duration.parse(raw) {
                    listCacheTTL = parsed
                } else {
                    report(at, specPath.appending("tools").appending("cacheTtl"), "must be 0 or a duration \(Duration.configuredRange)")
                    ok = false
                }
            }

            let backendSecurity = resolveBackendSecurity(spec["backendSecurity"], org: name.org, secrets: secrets, at: at, ok: &ok)
            let clientSecurity = resolveClientSecurity(spec["clientSecurity"], org: name.org, secrets: secrets, at: at, ok: &ok)

            guard ok, let service, let backendSecurity, let clientSecurity else {
                invalid[InvalidKey(kind: .configurationPlan, name: name, version: nil)] = at
                continue
            }
            var plan = ConfigurationPlan(
                metadata: candidate.metadata, description: spec["description"]?.stringValue, serviceName: serviceName,
                serviceVersion: serviceVersion, backend: backend, tools: tools, backendSecurity: backendSecurity,
                clientSecurity: clientSecurity, listCacheTTL: listCacheTTL, source: at)
            plan.prompts = Self.itemSelection(spec["prompts"])
            switch spec["audit"] {
            case .bool(true)?: plan.audit = AuditSettings(arguments: false)
            case .object(let settings)?: plan.audit = AuditSettings(arguments: settings["arguments"]?.boolValue ?? false)
            default: break
            }
            plan.resources = Self.itemSelection(spec["resources"])
            result[name] = (plan, service)
        }
        return result
    }

    /// A plan's `prompts` or `resources` selection (already checked against the plan's schema).
    static func itemSelection(_ spec: JSONValue?) -> ItemSelection {
        ItemSelection(include: spec?["include"]?.arrayValue?.compactMap(\.stringValue), exclude: spec?["exclude"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    mutating func resolveBackendSecurity(
        _ spec: JSONValue?, org: String, secrets: [ResourceName: Secret], at: SourceLocation, ok: inout Bool
    ) -> BackendSecurity? {
        guard let spec, let type = spec["type"]?.stringValue else { return BackendSecurity.none }
        let path = JSONPath.root.appending("spec").appending("backendSecurity")
        func secret(_ run: inout LoadRun) -> SecretValue? {
            let value = run.secretValue(spec["secretRef"], org: org, secrets: secrets, at: at, path.appending("secretRef"))
            if value == nil { ok = false }
            return value
        }
        switch type {
        case "apiKey":
            guard let value = secret(&self) else { return nil }
            let location = BackendSecurity.APIKeyLocation(rawValue: spec["in"]?.stringValue ?? "header") ?? .header
            return .apiKey(location: location, name: spec["name"]?.stringValue ?? "", value: value)
        case "bearer":
            guard let value = secret(&self) else { return nil }
            return .bearer(token: value)
        case "basic":
            guard let value = secret(&self) else { return nil }
            return .basic(username: spec["username"]?.stringValue ?? "", password: value)
        case "oauth2ClientCredentials":
            guard let value = secret(&self) else { return nil }
            return .oauth2ClientCredentials(
                tokenURL: spec["tokenUrl"]?.stringValue ?? "", clientID: spec["clientId"]?.stringValue ?? "", clientSecret: value,
                scopes: spec["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? [], audience: spec["audience"]?.stringValue)
        case "passthrough":
            return .passthrough(header: spec["header"]?.stringValue ?? "Authorization")
        case "userCredential":
            let location = BackendSecurity.APIKeyLocation(rawValue: spec["in"]?.stringValue ?? "header") ?? .header
            return .userCredential(
                location: location, name: spec["name"]?.stringValue ?? "Authorization", prefix: spec["prefix"]?.stringValue ?? "",
                message: spec["message"]?.stringValue ?? "The credential this API needs for your account")
        default:
            return BackendSecurity.none
        }
    }

    mutating func resolveClientSecurity(
        _ spec: JSONValue?, org: String, secrets: [ResourceName: Secret], at: SourceLocation, ok: inout Bool
    ) -> ClientSecurity? {
        guard let spec, let type = spec["type"]?.stringValue else { return ClientSecurity.none }
        let path = JSONPath.root.appending("spec").appending("clientSecurity")
        switch type {
        case "apiKey":
            if let hash = spec["keyHash"]?.stringValue {
                guard let digest = ExpectedAPIKey.parseHash(hash) else {
                    report(at, path.appending("keyHash"), "keyHash must be sha256: followed by 64 lowercase hex digits")
                    ok = false
                    return nil
                }
                return .apiKey(header: spec["header"]?.stringValue, key: .sha256(digest))
            }
            guard let value = secretValue(spec["secretRef"], org: org, secrets: secrets, at: at, path.appending("secretRef")) else {
                ok = false
                return nil
            }
            return .apiKey(header: spec["header"]?.stringValue, key: .value(value))
        case "jwt":
            let jwks: ClientSecurity.JWKSSource
            if let file = spec["jwksFile"]?.stringValue {
                guard let (_, bytes) = readReferenced(file, at: at, path.appending("jwksFile"), limit: 1 << 20) else {
                    ok = false
                    return nil
                }
                jwks = .document(String(decoding: bytes, as: UTF8.self))
            } else {
                jwks = .url(spec["jwksUrl"]?.stringValue ?? "")
            }
            var rules = ScopeRules()
            rules.scopes = spec["scopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            rules.writeScopes = spec["writeScopes"]?.arrayValue?.compactMap(\.stringValue) ?? []
            rules.filterTools = spec["filterToolsByScope"]?.boolValue ?? true
            if spec["disableAudienceValidation"]?.boolValue == true {
                rules.checksAudience = false
                report(
                    at, path.appending("disableAudienceValidation"),
                    "tokens are accepted whatever audience and resource they name: a token issued for another service works here too", severity: .warning)
            }
            return .jwt(
                issuer: spec["issuer"]?.stringValue ?? "", audiences: spec["audiences"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                jwks: jwks, algorithms: spec["algorithms"]?.arrayValue?.compactMap(\.stringValue) ?? ["RS256", "ES256"],
                authorizationServers: spec["authorizationServers"]?.arrayValue?.compactMap(\.stringValue) ?? [], scopes: rules)
        default:
            return ClientSecurity.none
        }
    }
}
