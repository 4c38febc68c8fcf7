import Foundation

/// How reshapr-sync reaches the control plane and presents its gateway, from the environment
/// variables of the hybrid-deployment guide (flags may override each of them).
public struct SyncConfiguration: Sendable, Equatable {
    /// A control-plane replica (or a load-balanced name for several).
    public struct Address: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// The control-plane replicas, tried in turn: when one cannot be reached or goes away, the
    /// sync registers with the next.
    public var addresses: [Address]
    public var plaintext: Bool
    /// A CA bundle to trust for the control plane's certificate (else the system's).
    public var caFile: String?
    public var token: String
    public var gatewayID: String
    public var fqdns: [String]
    public var labels: [String: String]

    /// A missing or malformed setting, naming the variable.
    public struct Problem: Error, Sendable, CustomStringConvertible, Equatable {
        public var variable: String
        public var message: String
        public var description: String { "\(variable): \(message)" }
    }

    public static let defaultPort = 5555

    /// Reads `environment`, letting `overrides` (from flags, same keys) win.
    public static func from(environment: [String: String], overrides: [String: String] = [:]) throws(Problem) -> SyncConfiguration {
        func value(_ key: String) -> String? {
            let found = overrides[key] ?? environment[key]
            return found?.isEmpty == false ? found : nil
        }
        func required(_ key: String) throws(Problem) -> String {
            guard let found = value(key) else { throw Problem(variable: key, message: "is required") }
            return found
        }
        let hosts = try required("RESHAPR_CTRL_HOST")
        var port = defaultPort
        if let text = value("RESHAPR_CTRL_PORT") {
            guard let number = Int(text), (1...65535).contains(number) else {
                throw Problem(variable: "RESHAPR_CTRL_PORT", message: "must be a port number between 1 and 65535, got \"\(text)\"")
            }
            port = number
        }
        var plaintext = false
        if let text = value("RESHAPR_CTRL_TLS_PLAINTEXT") {
            switch text.lowercased() {
            case "true", "1", "yes": plaintext = true
            case "false", "0", "no": plaintext = false
            default: throw Problem(variable: "RESHAPR_CTRL_TLS_PLAINTEXT", message: "must be true or false, got \"\(text)\"")
            }
        }
        var addresses: [Address] = []
        for entry in hosts.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            addresses.append(try address(entry, defaultPort: port))
        }
        guard !addresses.isEmpty else { throw Problem(variable: "RESHAPR_CTRL_HOST", message: "names no host") }
        let token = try required("RESHAPR_CTRL_TOKEN")
        let gatewayID = try required("RESHAPR_GATEWAY_ID")
        let fqdns = (value("RESHAPR_GATEWAY_FQDNS") ?? "localhost").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var labels: [String: String] = [:]
        if let text = value("RESHAPR_GATEWAY_LABELS") {
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw Problem(variable: "RESHAPR_GATEWAY_LABELS", message: "expected key=value pairs separated by commas, got \"\(pair)\"")
                }
                labels[parts[0]] = parts[1]
            }
        }
        return SyncConfiguration(
            addresses: addresses, plaintext: plaintext, caFile: value("RESHAPR_CTRL_CA_FILE"), token: token, gatewayID: gatewayID, fqdns: fqdns,
            labels: labels)
    }

    /// `host`, `host:port` or `[v6]:port`.
    static func address(_ entry: String, defaultPort: Int) throws(Problem) -> Address {
        let problem = Problem(variable: "RESHAPR_CTRL_HOST", message: "expected host, host:port or [ipv6]:port separated by commas, got \"\(entry)\"")
        var host = entry
        var portText: Substring?
        if entry.hasPrefix("[") {
            guard let close = entry.firstIndex(of: "]") else { throw problem }
            host = String(entry[entry.index(after: entry.startIndex)..<close])
            let rest = entry[entry.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw problem }
                portText = rest.dropFirst()
            }
        } else if entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
            host = String(entry[..<colon])
            portText = entry[entry.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "/" || $0 == " " }) else { throw problem }
        guard let portText else { return Address(host: host, port: defaultPort) }
        guard let port = Int(portText), (1...65535).contains(port) else { throw problem }
        return Address(host: host, port: port)
    }
}
