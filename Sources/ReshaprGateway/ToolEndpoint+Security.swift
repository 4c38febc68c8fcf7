import Foundation
import HTTPTypes
import ReshaprAuth
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP

/// Who may call an endpoint (the plan's `clientSecurity`), and the credentials a call sends to
/// the backend when they are the user's own (`backendSecurity: userCredential`).
extension ToolEndpoint {
    public var authenticatesClients: Bool {
        if case .none = exposition.plan.clientSecurity { return false }
        return true
    }

    /// Tools of a plan whose backend takes the user's own credential need it before any call.
    public func userInput(forTool name: String) -> MCPUserInput? {
        guard case .userCredential(_, _, _, let message) = exposition.plan.backendSecurity, catalog.tool(named: name) != nil else { return nil }
        return MCPUserInput(key: Self.credentialKey, message: message)
    }

    static let credentialKey = "credential"
    /// Where a client's API key is read when the plan names no header: reShapr's header, then
    /// the default of earlier versions.
    static let defaultKeyHeaders = ["x-reshapr-key", "X-API-Key"]

    /// The plan's backend security for this call: a user credential becomes an API key with the
    /// user's answer.
    func backendSecurity(_ context: MCPCallContext) -> BackendSecurity {
        guard case .userCredential(let location, let name, let prefix, _) = exposition.plan.backendSecurity,
            let credential = context.userInputs[Self.credentialKey]
        else { return exposition.plan.backendSecurity }
        return .apiKey(location: location, name: name, value: SecretValue(prefix + credential))
    }

    /// Enforces the plan's `clientSecurity`. API keys are compared in constant time; JWTs are
    /// checked against the plan's JWKS, and refusals carry the MCP authorization spec's
    /// challenge pointing at this endpoint's protected resource metadata.
    public func authorize(_ headers: HTTPFields, resource: MCPResourceURL) async -> MCPAuthorization {
        switch exposition.plan.clientSecurity {
        case .none:
            return .allowed(client: nil)
        case .apiKey(let header, let key):
            let names = header.map { [$0] } ?? Self.defaultKeyHeaders
            let shown = names[0]
            guard let presented = names.lazy.compactMap({ HTTPField.Name($0).flatMap { headers[$0] } }).first else {
                return .refused(MCPAuthorizationFailure(message: "missing API key: send it in the \(shown) header", challenge: "ApiKey header=\"\(shown)\""))
            }
            let matches: Bool
            switch key {
            case .value(let value):
                do throws(SecretReferenceError) {
                    matches = APIKey.matches(presented, try value.resolve())
                } catch {
                    logger.error("cannot check API keys", metadata: ["endpoint": "\(exposition.path)", "reason": "\(error)"])
                    return .refused(MCPAuthorizationFailure(status: .serviceUnavailable, message: "the endpoint's API key cannot be read on this gateway", challenge: nil))
                }
            case .sha256(let digest): matches = APIKey.matches(presented, sha256: digest)
            }
            guard matches else {
                return .refused(MCPAuthorizationFailure(message: "invalid API key", challenge: "ApiKey header=\"\(shown)\", error=\"invalid_key\""))
            }
            // Clients are told apart by a digest of their key, never the key itself.
            return .allowed(client: "key:" + APIKey.fingerprint(presented))
        case .jwt:
            let metadata = "resource_metadata=\"\(resource.protectedResourceMetadata)\""
            guard let verifier else {
                return .refused(MCPAuthorizationFailure(status: .serviceUnavailable, message: "JWT verification is not set up for this endpoint", challenge: nil))
            }
            guard let authorization = headers[.authorization], authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
                return .refused(MCPAuthorizationFailure(message: "missing bearer token: send Authorization: Bearer <token>", challenge: "Bearer \(metadata)"))
            }
            do {
                let token = try await verifier.verify(String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces))
                guard case .jwt(_, _, _, _, _, let rules) = exposition.plan.clientSecurity else { return .allowed(client: nil) }
                // RFC 8707: a token issued for named resources is good for those only.
                if rules.checksAudience, !token.resources.isEmpty, !token.resources.contains(resource.url) {
                    return .refused(
                        MCPAuthorizationFailure(
                            message: "invalid bearer token: it was issued for \(token.resources.joined(separator: ", ")), not \(resource.url)",
                            challenge: "Bearer \(metadata), error=\"invalid_token\", error_description=\"the token's resource is not this endpoint\""))
                }
                if !rules.scopes.allSatisfy(token.scopes.contains) {
                    return .refused(
                        MCPAuthorizationFailure(
                            status: .forbidden, message: "the token lacks the scopes this endpoint needs: \(rules.scopes.joined(separator: " "))",
                            challenge: "Bearer error=\"insufficient_scope\", scope=\"\(rules.scopes.joined(separator: " "))\", \(metadata)"))
                }
                return .allowed(client: "sub:\(token.issuer)#\(token.subject ?? "?")", scopes: token.scopes)
            } catch {
                if error.isServerSide {
                    logger.error("cannot verify tokens", metadata: ["endpoint": "\(exposition.path)", "reason": "\(error)"])
                    return .refused(MCPAuthorizationFailure(status: .serviceUnavailable, message: error.description, challenge: nil))
                }
                let description = error.description.replacingOccurrences(of: "\"", with: "'")
                return .refused(
                    MCPAuthorizationFailure(
                        message: "invalid bearer token: \(error)",
                        challenge: "Bearer \(metadata), error=\"invalid_token\", error_description=\"\(description)\""))
            }
        }
    }

    /// The scopes each tool's calls need: its override's `requiredScopes`, else the plan's
    /// `writeScopes` for a tool that is not read-only, and the plan's `scopes` always.
    static func scopesByTool(_ tools: [JSONValue], plan: ConfigurationPlan) -> [String: [String]] {
        guard case .jwt(_, _, _, _, _, let rules) = plan.clientSecurity else { return [:] }
        var overridden: [String: [String]] = [:]
        for (selector, override) in plan.tools.overrides {
            if let scopes = override.requiredScopes { overridden[override.name ?? selector] = scopes }
        }
        var result: [String: [String]] = [:]
        for tool in tools {
            guard let name = tool["name"]?.stringValue else { continue }
            let own = overridden[name] ?? (tool["annotations"]?["readOnlyHint"] == true ? [] : rules.writeScopes)
            var needed = rules.scopes
            for scope in own where !needed.contains(scope) { needed.append(scope) }
            result[name] = needed
        }
        return result
    }

    public func requiredScopes(forTool name: String) -> [String] { scopesByTool[name] ?? [] }

    public func tools(visibleWith scopes: Set<String>?) -> [JSONValue] {
        guard let scopes, case .jwt(_, _, _, _, _, let rules) = exposition.plan.clientSecurity, rules.filterTools else { return tools }
        return tools.filter { tool in requiredScopes(forTool: tool["name"]?.stringValue ?? "").allSatisfy(scopes.contains) }
    }

    /// Every scope the endpoint asks for, for its protected resource metadata.
    public var scopesSupported: [String] {
        guard case .jwt(_, _, _, _, _, let rules) = exposition.plan.clientSecurity else { return [] }
        return Array(Set(rules.scopes + rules.writeScopes + scopesByTool.values.joined())).sorted()
    }
}
