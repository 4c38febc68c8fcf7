import ArgumentParser
import Foundation
import NIOHTTP1
import ReshaprJSON
import ReshaprSync
import ReshaprTelemetry

/// `reshapr`: the command line of the control plane. Exit status 0 on success, 1 when the
/// control plane refuses (with its message), 2 for usage errors.
public struct ReshaprCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "reshapr",
        abstract: "Manage reShapr: API tokens, gateway groups, services, configurations, expositions, gateways.",
        version: BuildInfo.version,
        subcommands: [Login.self, Info.self, Logout.self, APITokenCommand.self, GatewayGroupCommand.self, Import.self, ServiceCommand.self,
            Attach.self, ArtifactCommand.self, SecretCommand.self, ConfigCommand.self, ExpoCommand.self, GatewayCommand.self, Export.self])

    public init() {}

    /// Runs the command with the exit codes the CLI promises.
    public static func run() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            // --help and --version end here with status 0; anything else is a usage error.
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
            Foundation.exit(2)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as ValidationError {
            FileHandle.standardError.write(Data("Error: \(error.message)\n".utf8))
            Foundation.exit(2)
        } catch {
            // A command group run alone (`reshapr`, `reshapr expo`) asks for its help, as
            // ArgumentParser's own errors do: help on standard output with 0, usage errors 2.
            switch exitCode(for: error) {
            case .success:
                print(fullMessage(for: error))
                Foundation.exit(0)
            case .validationFailure:
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            default:
                FileHandle.standardError.write(Data("❌ \(error)\n".utf8))
                Foundation.exit(1)
            }
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument {
    case table, json, yaml
}

struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output format: table, json or yaml.") var output: OutputFormat = .table
}

func session() throws -> APIClient {
    let saved = try CLISession.load()
    return APIClient(server: saved.server, token: saved.token, caFile: saved.caFile)
}

/// Prints rows as an aligned table, or the raw JSON.
/// A table column: its title, and the cell of an item.
typealias Column = (String, @Sendable (JSONValue) -> String)

func show(_ value: JSONValue, _ format: OutputFormat, columns: [Column]) {
    switch format {
    case .json:
        print(value.serialized(pretty: true))
        return
    case .yaml:
        print(YAMLOutput.text(value), terminator: "")
        return
    case .table:
        break
    }
    var rows = [columns.map(\.0)]
    for item in value.arrayValue ?? [] { rows.append(columns.map { $0.1(item) }) }
    var widths = [Int](repeating: 0, count: columns.count)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    for row in rows {
        print(row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count) }.joined(separator: "  "))
    }
}

/// `{fileName, content}` of a file to send (`contentBase64` when it is not text).
func artifactPayload(_ file: String) throws -> JSONObject {
    payload(name: "fileName", (file as NSString).lastPathComponent, Data(try readFile(file)))
}

/// One item of a list the control plane gives, by id.
func listed(_ path: String, id: String, what: String) async throws -> JSONValue {
    guard let item = try await session().call(.GET, path).arrayValue?.first(where: { $0["id"]?.stringValue == id }) else {
        throw ServerError(description: "no \(what) with ID \(id) in your organization")
    }
    return item
}

/// One item: a one-row table, or the whole object in JSON or YAML.
func showOne(_ item: JSONValue, _ format: OutputFormat, columns: [Column]) {
    show(format == .table ? .array([item]) : item, format, columns: columns)
}

func text(_ key: String) -> @Sendable (JSONValue) -> String { { $0[key]?.stringValue ?? ($0[key].map { $0.serialized() } ?? "") } }

struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Log in to a control plane; the session is saved with 0600 permissions.")
    @Option(help: "Control plane REST URL.") var server = "http://localhost:5556"
    @Option(name: .shortAndLong, help: "User name.") var username = "admin"
    @Option(name: .shortAndLong, help: "Password (visible to other users of this machine in the process list: prefer --password-stdin or the prompt).")
    var password: String?
    @Flag(help: "Read the password from standard input (one line), for scripts.") var passwordStdin = false
    @Option(help: "PEM file of the CA that signed the control plane's certificate (default: the system's CAs); kept for later commands.")
    var caFile: String?

    func validate() throws {
        if password != nil && passwordStdin { throw ValidationError("give --password or --password-stdin, not both") }
    }

    func run() async throws {
        let path = caFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        if let path, !FileManager.default.isReadableFile(atPath: path) { throw ValidationError("cannot read --ca-file \(path)") }
        if server.lowercased().hasPrefix("http://"), !(server.contains("://localhost") || server.contains("://127.0.0.1") || server.contains("://[::1]")) {
            FileHandle.standardError.write(Data("warning: \(server) is plaintext: your password and session travel in clear (use https)\n".utf8))
        }
        let secret = password ?? (passwordStdin ? (readLine() ?? "") : readPassword(prompt: "Password for \(username): "))
        let answer = try await APIClient(server: server, token: nil, caFile: path).call(
            .POST, "/api/v1/login", ["username": .string(username), "password": .string(secret)])
        let token = answer["token"]?.stringValue ?? ""
        try CLISession(server: server, token: token, organization: answer["organization"]?.stringValue ?? "", caFile: path).save()
        print("✅ Logged in to \(server) as \(username) (organization \(answer["organization"]?.stringValue ?? "?"))")
    }

    /// Reads a password from the terminal without echo; from standard input when it is not a terminal.
    func readPassword(prompt: String) -> String {
        guard isatty(STDIN_FILENO) == 1 else { return readLine() ?? "" }
        FileHandle.standardError.write(Data(prompt.utf8))
        var settings = termios()
        tcgetattr(STDIN_FILENO, &settings)
        var silent = settings
        silent.c_lflag &= ~tcflag_t(ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &silent)
        defer {
            tcsetattr(STDIN_FILENO, TCSANOW, &settings)
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine() ?? ""
    }
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the control plane, user, organization and session expiry of the saved session.")
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let saved = try CLISession.load()
        let answer = try await session().call(.GET, "/api/v1/session")
        let info: JSONValue = [
            "server": .string(saved.server), "username": answer["username"] ?? .null, "organization": answer["organization"] ?? .null,
            "expiresAt": answer["expiresAt"] ?? .null,
        ]
        switch output.output {
        case .json: print(info.serialized(pretty: true))
        case .yaml: print(YAMLOutput.text(info), terminator: "")
        case .table:
            for (key, label) in [("server", "Server"), ("username", "User"), ("organization", "Organization"), ("expiresAt", "Session expires")] {
                print("\(label): \(info[key]?.stringValue ?? "?")")
            }
        }
    }
}

struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "End the session and forget it.")
    func run() async throws {
        if let client = try? session() { _ = try? await client.call(.POST, "/api/v1/logout") }
        CLISession.remove()
        print("✅ Logged out")
    }
}

struct APITokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-token", abstract: "API tokens gateways register with.", subcommands: [Create.self, List.self, Renew.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        @Argument var name: String
        @Option(name: [.customShort("v"), .long], help: "Validity in days (at most 90).") var validity = 90
        @Option(help: "Gateway group ID: only gateways whose labels match this group may register with the token, and they receive that group alone.")
        var gatewayGroup: String?
        func run() async throws {
            guard (1...90).contains(validity) else { throw ValidationError("-v must be between 1 and 90 days") }
            var body: JSONObject = ["name": .string(name), "validityDays": .integer(validity)]
            if let gatewayGroup { body["gatewayGroupId"] = .string(gatewayGroup) }
            let token = try await session().call(.POST, "/api/v1/api-tokens", .object(body))
            print("The API Token to register Gateway is: \(token["token"]?.stringValue ?? "")")
            print("It expires on \(token["expiresAt"]?.stringValue ?? "?") and will not be shown again.")
            if gatewayGroup == nil {
                print("It is not bound to a gateway group: a gateway registering with it may claim any labels (use --gateway-group ID to bind it).")
            }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/api-tokens"), output.output,
                columns: [
                    ("ID", text("id")), ("NAME", text("name")), ("EXPIRES", text("expiresAt")), ("REVOKED", text("revokedAt")),
                    ("GATEWAY GROUP", { $0["gatewayGroupId"]?.stringValue ?? "any labels (unbound)" }),
                ])
        }
    }

    struct Renew: AsyncParsableCommand {
        @Argument var id: String
        @Option(name: [.customShort("v"), .long], help: "New validity in days from now (at most 90).") var validity = 90
        func run() async throws {
            let token = try await session().call(.POST, "/api/v1/api-tokens/\(id)/renew", ["validityDays": .integer(validity)])
            print("✅ API token \(id) now expires on \(token["expiresAt"]?.stringValue ?? "?")")
        }
    }

    struct Revoke: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/api-tokens/\(id)")
            print("✅ API token \(id) revoked; its gateways were disconnected")
        }
    }
}

struct GatewayGroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway-group", abstract: "Gateway groups: which gateways receive which expositions.", subcommands: [List.self, Create.self, Delete.self])

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/gateway-groups"), output.output,
                columns: [("ID", text("id")), ("ORG", text("organization")), ("NAME", text("name")), ("LABELS", text("labels"))])
        }
    }

    struct Create: AsyncParsableCommand {
        @Argument var name: String
        @Option(help: #"Labels as JSON, e.g. '{"env":"qa"}'."#) var labels = "{}"
        func run() async throws {
            guard let parsed = try? JSONParser.parse(labels), case .object = parsed else { throw ValidationError("--labels must be a JSON object of strings") }
            let group = try await session().call(.POST, "/api/v1/gateway-groups", ["name": .string(name), "labels": parsed])
            print("✅ Gateway group '\(name)' created successfully with ID: \(group["id"]?.stringValue ?? "?")")
        }
    }

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/gateway-groups/\(id)")
            print("✅ Gateway group \(id) deleted")
        }
    }
}

struct ServiceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "service", abstract: "Services.", subcommands: [Get.self, List.self, Delete.self])

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/services/\(id)")
            print("✅ Service \(id) deleted, with its configurations and expositions")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/services"), output.output, columns: ServiceCommand.columns)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One service.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            showOne(try await listed("/api/v1/services", id: id, what: "service"), output.output, columns: ServiceCommand.columns)
        }
    }

    static let columns: [Column] = [("ID", text("id")), ("NAME", text("name")), ("VERSION", text("version")), ("TYPE", text("type"))]
}

struct SecretCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secret", abstract: "Secrets that configurations' backend security refers to (NAME/KEY); values are never printed back.",
        subcommands: [Create.self, Get.self, List.self, Delete.self])

    static let columns: [Column] = [("ID", text("id")), ("NAME", text("name")), ("KEYS", { ($0["keys"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",") }), ("DESCRIPTION", text("description"))]

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a secret: a token (key token, and tokenHeader), a user and password (keys username, password) or a certificate (key cert).")
        @Argument var name: String
        @Option(help: "A bearer token or API key.") var token: String?
        @Option(help: "The header the token goes in, with --token.") var tokenHeader: String?
        @Option(help: "A user name, with --password.") var username: String?
        @Option(help: "A password, with --username.") var password: String?
        @Option(help: "A PEM certificate file.") var cert: String?
        @Option(help: "What the secret is for (shown by list and get).") var description: String?

        func validate() throws {
            let kinds = [token != nil, username != nil || password != nil, cert != nil].filter { $0 }.count
            guard kinds == 1 else { throw ValidationError("give one of --token, --username with --password, or --cert") }
            if (username == nil) != (password == nil) { throw ValidationError("--username and --password go together") }
            if tokenHeader != nil && token == nil { throw ValidationError("--token-header goes with --token") }
        }

        func run() async throws {
            var data: JSONObject = [:]
            if let token { data["token"] = .string(token) }
            if let tokenHeader { data["tokenHeader"] = .string(tokenHeader) }
            if let username, let password {
                data["username"] = .string(username)
                data["password"] = .string(password)
            }
            if let cert {
                guard let pem = FileManager.default.contents(atPath: cert).flatMap({ String(data: $0, encoding: .utf8) }) else {
                    throw ValidationError("cannot read --cert \(cert) as text (a PEM file)")
                }
                data["cert"] = .string(pem)
            }
            var body: JSONObject = ["name": .string(name), "data": .object(data)]
            if let description { body["description"] = .string(description) }
            let created = try await session().call(.POST, "/api/v1/secrets", .object(body))
            print("✅ Secret '\(name)' created with ID: \(created["id"]?.stringValue ?? "?")")
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One secret's ID and name (never its values).")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            showOne(try await listed("/api/v1/secrets", id: id, what: "secret"), output.output, columns: SecretCommand.columns)
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/secrets"), output.output, columns: SecretCommand.columns)
        }
    }

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/secrets/\(id)")
            print("✅ Secret \(id) deleted")
        }
    }
}

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Configuration plans.", subcommands: [Create.self, Get.self, List.self, Update.self, RenewAPIKey.self, Delete.self])

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/configuration-plans/\(id)")
            print("✅ Configuration \(id) deleted, with its expositions")
        }
    }

    struct Create: AsyncParsableCommand {
        @Argument(help: "Service ID.") var service: String
        @Option(help: "Plan name.") var name: String
        @Flag(help: "Clients need an API key, generated now and shown once (sent in x-reshapr-key); gateways get only its hash.")
        var apiKey = false
        @OptionGroup var plan: PlanOptions

        func run() async throws {
            guard plan.mock != (plan.backendEndpoint != nil) else { throw ValidationError("give either --backend-endpoint or --mock") }
            var body: JSONObject = ["name": .string(name), "serviceId": .string(service)]
            try plan.apply(to: &body)
            if apiKey { body["generateApiKey"] = true }
            let created = try await session().call(.POST, "/api/v1/configuration-plans", .object(body))
            print("✅ Configuration '\(name)' created successfully with ID: \(created["id"]?.stringValue ?? "?")")
            if let key = created["apiKey"]?.stringValue { ConfigCommand.printKey(key) }
        }
    }

    struct RenewAPIKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "renew-api-key", abstract: "Replace a plan's generated API key; the old one stops working as soon as the gateways get the change.")
        @Argument(help: "Configuration plan ID.") var id: String

        func run() async throws {
            let renewed = try await session().call(.POST, "/api/v1/configuration-plans/\(id)/renew-api-key")
            print("✅ Configuration '\(renewed["name"]?.stringValue ?? id)' has a new API key")
            ConfigCommand.printKey(renewed["apiKey"]?.stringValue ?? "?")
        }
    }

    static func printKey(_ key: String) {
        print("🔑 API key, shown this once (clients send it in the x-reshapr-key header): \(key)")
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a configuration plan: only what the flags name changes; gateways get it at once.")
        @Argument(help: "Configuration plan ID.") var id: String
        @OptionGroup var plan: PlanOptions

        func run() async throws {
            if plan.mock, plan.backendEndpoint != nil { throw ValidationError("give either --backend-endpoint or --mock") }
            var spec = try await listed("/api/v1/configuration-plans", id: id, what: "configuration").objectValue ?? [:]
            for key in ["id", "name", "serviceId", "service"] { spec[key] = nil }
            try plan.apply(to: &spec)
            let updated = try await session().call(.PUT, "/api/v1/configuration-plans/\(id)", .object(spec))
            print("✅ Configuration '\(updated["name"]?.stringValue ?? id)' updated")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/configuration-plans"), output.output,
                columns: ConfigCommand.columns)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One configuration plan.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            showOne(try await listed("/api/v1/configuration-plans", id: id, what: "configuration"), output.output, columns: ConfigCommand.columns)
        }
    }

    static let columns: [Column] = [("ID", text("id")), ("NAME", text("name")), ("SERVICE", text("service")), ("BACKEND", text("backend"))]
}

/// The flags of a configuration plan, for `config create` and `config update`.
struct PlanOptions: ParsableArguments {
    @Option(help: "Backend base URL.") var backendEndpoint: String?
    @Flag(help: "Answer from the spec's examples instead of a backend.") var mock = false
    @Option(help: "Backend timeout, e.g. 10s.") var timeout: String?
    @Option(help: "Operation to expose (repeatable; default all).") var include: [String] = []
    @Option(help: "Operation to hide (repeatable).") var exclude: [String] = []
    @Option(help: "Backend security: none, bearer, apiKey, basic.") var backendSecurity: String?
    @Option(help: "Secret for the backend security, as NAME/KEY.") var secret: String?
    @Option(help: "apiKey header name.") var apiKeyHeader = "X-API-Key"
    @Option(help: "basic: user name.") var username: String?
    @Flag(inversion: .prefixedNo, help: "An audit line per tool call on the gateways (--audit-arguments: with the arguments' values).")
    var audit: Bool?
    @Flag(help: "Audit lines hold the arguments' values, not only their digest.") var auditArguments = false

    /// `spec` with what the flags set.
    func apply(to spec: inout JSONObject) throws {
        if auditArguments {
            guard audit != false else { throw ValidationError("--audit-arguments goes with --audit") }
            spec["audit"] = ["arguments": true]
        } else if let audit {
            spec["audit"] = audit ? true : nil
        }
        if mock { spec["backend"] = ["mock": true] }
        if let backendEndpoint { spec["backend"] = ["endpoint": .string(backendEndpoint)] }
        if let timeout {
            guard case .object(var backend)? = spec["backend"] else { throw ValidationError("--timeout needs a backend") }
            backend["timeout"] = .string(timeout)
            spec["backend"] = .object(backend)
        }
        var tools = spec["tools"]?.objectValue ?? [:]
        if !include.isEmpty { tools["include"] = .array(include.map(JSONValue.string)) }
        if !exclude.isEmpty { tools["exclude"] = .array(exclude.map(JSONValue.string)) }
        if !tools.isEmpty { spec["tools"] = .object(tools) }
        switch backendSecurity {
        case nil:
            if secret != nil { throw ValidationError("--secret goes with --backend-security") }
        case "none":
            spec["backendSecurity"] = nil
        case let type?:
            guard let secret, let slash = secret.firstIndex(of: "/") else { throw ValidationError("--secret NAME/KEY is required with --backend-security \(type)") }
            var security: JSONObject = [
                "type": .string(type),
                "secretRef": ["name": .string(String(secret[..<slash])), "key": .string(String(secret[secret.index(after: slash)...]))],
            ]
            if type == "apiKey" { security["in"] = "header"; security["name"] = .string(apiKeyHeader) }
            if type == "basic" { security["username"] = .string(username ?? "") }
            spec["backendSecurity"] = .object(security)
        }
    }
}

struct ExpoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "expo", abstract: "Expositions: configurations published on gateway groups.", subcommands: [Create.self, Get.self, List.self, Delete.self])

    struct Create: AsyncParsableCommand {
        @Option(help: "Configuration plan ID.") var configuration: String
        @Option(help: "Gateway group ID.") var gatewayGroup: String
        @Option(help: "Exposition name, unique in the organization (default <service>-<version>-<plan>); served at /mcp/{org}/{name}.")
        var name: String?
        @Option(help: "Endpoint path, then the only one (default /mcp/{org}/{service}/{version}, /mcp/{org}/{name} and /mcp/{id}).") var path: String?
        func run() async throws {
            var body: JSONObject = ["configurationId": .string(configuration), "gatewayGroupId": .string(gatewayGroup)]
            if let name { body["name"] = .string(name) }
            if let path { body["path"] = .string(path) }
            let expo = try await session().call(.POST, "/api/v1/expositions", .object(body))
            print("✅ Exposition '\(expo["name"]?.stringValue ?? "?")' created successfully with ID: \(expo["id"]?.stringValue ?? "?")")
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/expositions"), output.output, columns: ExpoCommand.columns)
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One exposition, with its endpoint URLs.")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            showOne(try await listed("/api/v1/expositions", id: id, what: "exposition"), output.output, columns: ExpoCommand.columns)
        }
    }

    static let columns: [Column] = [
        ("ID", text("id")), ("NAME", text("name")), ("CONFIGURATION", text("configuration")), ("GATEWAY GROUP", text("gatewayGroup")),
        ("PATHS", { ($0["paths"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ") }),
        ("ENDPOINTS", { ($0["endpoints"]?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: " ") }),
    ]

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/expositions/\(id)")
            print("✅ Exposition \(id) deleted")
        }
    }
}

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "Live gateways.", subcommands: [List.self])
    struct List: AsyncParsableCommand {
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/gateways"), output.output,
                columns: [("ID", text("gatewayId")), ("LABELS", text("labels")), ("GROUPS", text("groups")), ("FQDNS", text("fqdns")), ("LAST HEARTBEAT", text("lastHeartbeat"))])
        }
    }
}

struct Export: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write the configuration directory a gateway of a group would receive (GitOps, air-gapped installs), as reshapr-sync writes it.")
    @Option(help: "Gateway group ID.") var gatewayGroup: String
    @Argument(help: "Directory to write.") var directory: String

    func run() async throws {
        let export = try await session().call(.GET, "/api/v1/gateway-groups/\(gatewayGroup)/export")
        var files: [String: Data] = [:]
        for file in export["files"]?.arrayValue ?? [] {
            guard let path = file["path"]?.stringValue, let content = file["contentBase64"]?.stringValue.flatMap({ Data(base64Encoded: $0) }) else { continue }
            files[path] = content
        }
        do {
            try AtomicDirectoryWriter(root: directory).publish(files, revision: Int64(Date().timeIntervalSince1970))
        } catch {
            throw ServerError(description: "cannot write \(directory): \(error)")
        }
        print("✅ \(files.count) file(s) of gateway group '\(export["gatewayGroup"]?.stringValue ?? "?")' written to \(directory)")
    }
}
