import ReshaprFilters
import ReshaprJSON

/// The kinds of resource a configuration directory holds.
public enum ResourceKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case service = "Service"
    case configurationPlan = "ConfigurationPlan"
    case exposition = "Exposition"
    case secret = "Secret"
    case gateway = "Gateway"

    public static func < (lhs: ResourceKind, rhs: ResourceKind) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}

/// The `apiVersion` every resource document carries.
public let resourceAPIVersion = "reshapr.io/v1"

/// Identity of a named resource: references resolve within one organization.
public struct ResourceName: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var org: String
    public var name: String

    public init(org: String, name: String) {
        self.org = org
        self.name = name
    }

    public var description: String { "\(org)/\(name)" }

    public static func < (lhs: ResourceName, rhs: ResourceName) -> Bool {
        (lhs.org, lhs.name) < (rhs.org, rhs.name)
    }
}

public struct Metadata: Sendable, Hashable {
    public var name: String
    public var org: String
    public var labels: [String: String]
    /// The identifier the control plane gave the resource, if it came from one.
    public var id: String? = nil
}

public enum ServiceType: String, Sendable, Hashable {
    case rest = "REST"
    case graphql = "GRAPHQL"
    case grpc = "GRPC"
}

public enum ArtifactType: String, Sendable, Hashable {
    case openAPI = "OPENAPI"
    case swagger = "SWAGGER"
    case graphQLSchema = "GRAPHQL_SCHEMA"
    case graphQLIntrospection = "GRAPHQL_INTROSPECTION"
    case protobufDescriptorSet = "PROTOBUF_DESCRIPTOR_SET"
    /// reShapr's `kind: CustomTools` file.
    case customTools = "RESHAPR_CUSTOM_TOOLS"
    /// reShapr's `kind: ToolsOutputFilters` file.
    case toolsOutputFilters = "RESHAPR_TOOLS_OUTPUT_FILTERS"
    /// reShapr's `kind: Prompts` file.
    case prompts = "RESHAPR_PROMPTS"
    /// reShapr's `kind: Resources` file.
    case resources = "RESHAPR_RESOURCES"
}

/// The parsed content of an artifact.
public enum ArtifactContent: Sendable, Hashable {
    /// OpenAPI, Swagger or GraphQL introspection: a JSON document (YAML is converted).
    case document(JSONValue)
    /// GraphQL SDL.
    case text(String)
    /// A protobuf FileDescriptorSet.
    case binary([UInt8])
    case outputFilters(ToolsOutputFilters)
    case customTools(CustomTools)
    case prompts(PromptsFile)
    case resources(ResourcesFile)
}

public struct Artifact: Sendable, Hashable {
    public var type: ArtifactType
    /// The file it came from, relative to the root; `nil` when written inline.
    public var file: String?
    public var content: ArtifactContent
}

public struct Service: Sendable, Hashable {
    public var metadata: Metadata
    public var version: String
    public var type: ServiceType
    public var description: String?
    public var artifacts: [Artifact]
    public var source: SourceLocation
}

public struct Secret: Sendable, Hashable {
    public var metadata: Metadata
    public var values: [String: SecretValue]
    public var source: SourceLocation
}

public struct TLSSettings: Sendable, Hashable {
    /// PEM text of the CA bundle, read from `caFile`.
    public var caPEM: String?
    /// The CA bundle from a Secret (`caSecretRef`), instead of a file.
    public var caSecret: SecretValue?
    /// The client certificate (PEM, its chain) and private key (PEM) for mutual TLS, from Secrets.
    public var clientCertificate: SecretValue?
    public var clientKey: SecretValue?
    public var insecureSkipVerify: Bool

    public init(
        caPEM: String? = nil, caSecret: SecretValue? = nil, clientCertificate: SecretValue? = nil, clientKey: SecretValue? = nil, insecureSkipVerify: Bool = false
    ) {
        self.caPEM = caPEM
        self.caSecret = caSecret
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.insecureSkipVerify = insecureSkipVerify
    }
}

public enum Backend: Sendable, Hashable {
    /// Answer tool calls from the spec's examples and schemas.
    case mock
    case http(HTTPBackend)
}

public struct HTTPBackend: Sendable, Hashable {
    public var endpoint: String
    public var timeout: Duration
    /// Values may hold `${env:…}` and `${file:…}` references, resolved at each call.
    public var headers: [String: SecretValue]
    public var tls: TLSSettings?

    /// The endpoint as it may be shown: without any `user:password@`.
    public var displayEndpoint: String { Self.withoutUserInfo(endpoint) }

    /// `url` without the user information of its authority (`https://u:p@host/x` is
    /// `https://host/x`); other text is returned as it is.
    public static func withoutUserInfo(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return url }
        return String(url[..<scheme.upperBound]) + String(rest[rest.index(after: at)...])
    }
}

public struct ToolSelection: Sendable, Hashable {
    public struct Override: Sendable, Hashable {
        public var name: String?
        public var description: String?
        /// GraphQL: the selection set of this field's tool, replacing the generated one.
        public var selection: String?
        /// The plan's own output filter of this tool, before the Service's.
        public var output: OutputFilter?
        /// jwt client security: the scopes a call of this tool needs.
        public var requiredScopes: [String]? = nil
    }

    /// Operations to expose; `nil` means all.
    public var include: [String]?
    public var exclude: [String]
    public var overrides: [String: Override]
    /// GraphQL: how many levels of objects generated selection sets go down (default 2).
    public var selectionDepth: Int?

    public static let all = ToolSelection(include: nil, exclude: [], overrides: [:], selectionDepth: nil)
}

/// How the gateway authenticates to the backend; secret values already resolved.
public enum BackendSecurity: Sendable, Hashable {
    public enum APIKeyLocation: String, Sendable, Hashable {
        case header
        case query
    }

    case none
    case apiKey(location: APIKeyLocation, name: String, value: SecretValue)
    case bearer(token: SecretValue)
    case basic(username: String, password: SecretValue)
    case oauth2ClientCredentials(tokenURL: String, clientID: String, clientSecret: SecretValue, scopes: [String], audience: String?)
    /// Forward the MCP caller's header (default `Authorization`) to the backend.
    case passthrough(header: String)
    /// A credential of the user's own, asked through the MCP client (elicitation) and sent as
    /// `prefix` + credential in a header or query parameter. The gateway never stores it beyond
    /// the call (modern requests) or the session (legacy sessions).
    case userCredential(location: APIKeyLocation, name: String, prefix: String, message: String)

    public var typeName: String {
        switch self {
        case .none: return "none"
        case .apiKey: return "apiKey"
        case .bearer: return "bearer"
        case .basic: return "basic"
        case .oauth2ClientCredentials: return "oauth2ClientCredentials"
        case .passthrough: return "passthrough"
        case .userCredential: return "userCredential"
        }
    }
}

/// How MCP clients authenticate to an endpoint; secret values already resolved.
/// The API key a client must present: a Secret's value, or only the SHA-256 of the key
/// (`keyHash`, as the control plane generates them), so that the directory holds no usable key.
public enum ExpectedAPIKey: Sendable, Hashable {
    case value(SecretValue)
    case sha256([UInt8])

    /// `sha256:<64 hex digits>` as bytes; `nil` when the text is not that.
    public static func parseHash(_ text: String) -> [UInt8]? {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = Array(text.dropFirst("sha256:".count).utf8)
        guard hex.count == 64 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        var index = 0
        while index < 64 {
            guard let high = hexValue(hex[index]), let low = hexValue(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

/// The OAuth2 scopes a JWT-protected endpoint asks for.
public struct ScopeRules: Sendable, Hashable {
    /// Needed by every request.
    public var scopes: [String] = []
    /// Needed to call a tool that is not read-only, unless its override names its own.
    public var writeScopes: [String] = []
    /// `tools/list` shows only the tools the token may call.
    public var filterTools = true
    /// False with `disableAudienceValidation`: neither `aud` nor `resource` is checked.
    public var checksAudience = true

    public init() {}
}

public enum ClientSecurity: Sendable, Hashable {
    public enum JWKSSource: Sendable, Hashable {
        /// The JWKS document, read from `jwksFile`.
        case document(String)
        case url(String)
    }

    case none
    /// `header` nil: the key is read from `x-reshapr-key`, or from `X-API-Key` (the default of
    /// earlier versions, still accepted so that no client configuration breaks).
    case apiKey(header: String?, key: ExpectedAPIKey)
    case jwt(issuer: String, audiences: [String], jwks: JWKSSource, algorithms: [String], authorizationServers: [String], scopes: ScopeRules)

    public var typeName: String {
        switch self {
        case .none: return "none"
        case .apiKey: return "apiKey"
        case .jwt: return "jwt"
        }
    }
}

/// Which prompts, or which resources, a plan serves: by name (and URI for resources).
public struct ItemSelection: Sendable, Hashable {
    /// Served items; all when `nil`.
    public var include: [String]?
    public var exclude: [String]

    public static let all = ItemSelection(include: nil, exclude: [])

    public init(include: [String]?, exclude: [String]) {
        self.include = include
        self.exclude = exclude
    }

    /// Whether an item known by any of `keys` is served.
    public func admits(_ keys: String...) -> Bool {
        if let include, !keys.contains(where: include.contains) { return false }
        return !keys.contains(where: exclude.contains)
    }
}

public struct ConfigurationPlan: Sendable, Hashable {
    public var metadata: Metadata
    public var description: String?
    public var serviceName: String
    public var serviceVersion: String
    public var backend: Backend
    public var tools: ToolSelection
    public var prompts: ItemSelection = .all
    public var resources: ItemSelection = .all
    public var backendSecurity: BackendSecurity
    public var clientSecurity: ClientSecurity
    /// How long MCP 2026-07-28 clients may cache `tools/list` (`spec.tools.cacheTtl`); nil: the default.
    public var listCacheTTL: Duration?
    public var source: SourceLocation
    /// `spec.audit`: an audit line per tool call; nil when the plan does not audit.
    public var audit: AuditSettings? = nil
}

/// What a plan's audit lines hold besides the call's facts.
public struct AuditSettings: Sendable, Hashable {
    /// The arguments' values, not only their digest.
    public var arguments: Bool
}

public struct Exposition: Sendable, Hashable {
    public var metadata: Metadata
    public var planName: String
    /// The path as written; `nil` for the default.
    public var path: String?
    public var description: String?
    public var source: SourceLocation
}

/// Settings of the gateway process, from the directory's `Gateway` resource or defaults.
public struct GatewaySettings: Sendable, Hashable {
    public struct RateLimit: Sendable, Hashable {
        public var requestsPerSecond: Double
        public var burst: Int
    }

    /// Limits of scripted custom tools (`spec.limits.scripts`).
    public struct ScriptGuardrails: Sendable, Hashable {
        public var timeout: Duration = .seconds(10)
        public var maxToolCalls = 50
        public var maxNesting = 5

        public init() {}
    }

    public var host: String
    public var port: Int
    public var fqdns: [String]
    public var labels: [String: String]
    public var maxBodyBytes: Int
    public var callTimeout: Duration
    public var maxConcurrentCalls: Int
    public var scripts = ScriptGuardrails()
    public var rateLimit: RateLimit?
    public var allowedOrigins: [String]
    /// Where the settings came from; `nil` for defaults.
    public var source: SourceLocation?

    public static let defaultPort = 7777

    public static let defaults = GatewaySettings(
        host: "0.0.0.0", port: defaultPort, fqdns: ["localhost"], labels: [:], maxBodyBytes: 4 << 20,
        callTimeout: .seconds(30), maxConcurrentCalls: 256, rateLimit: nil, allowedOrigins: [], source: nil
    )
}

/// An exposition with everything it references resolved: what the gateway serves.
public struct ResolvedExposition: Sendable, Hashable {
    public var name: ResourceName
    /// The HTTP path of the MCP endpoint: the one written, else `/mcp/{org}/{service}/{version}`.
    public var path: String
    /// The other paths it answers at, without a written path: `/mcp/{org}/{name}`, and
    /// `/mcp/{id}` when the control plane gave it an id. Sessions belong to ``path``.
    public var aliases: [String] = []
    public var exposition: Exposition
    public var plan: ConfigurationPlan
    public var service: Service
}

extension Duration {
    /// The range a configured duration must fall in: at least a millisecond, at most a day,
    /// so that deadlines computed from it can never overflow.
    static let configuredRange = "between 1ms and 24h (such as 500ms, 30s, 2m)"

    /// Parses `500ms`, `30s`, `2m`, `1h` or a number of seconds; `nil` when malformed or outside
    /// ``configuredRange``.
    static func parse(_ value: JSONValue) -> Duration? {
        var seconds: Double?
        if let number = value.doubleValue {
            seconds = number
        } else if let text = value.stringValue {
            let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
            if let (suffix, scale) = units.first(where: { text.hasSuffix($0.0) }), let number = Double(text.dropLast(suffix.count)) {
                seconds = number * scale
            }
        }
        guard let seconds, seconds.isFinite, seconds >= 0.001, seconds <= 86_400 else { return nil }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }
}
