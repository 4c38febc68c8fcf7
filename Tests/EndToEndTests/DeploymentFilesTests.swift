import Foundation
import ReshaprSync
import TestSupport
import Testing
import Yams

/// The files of `deploy/` cannot be applied here (no Docker, no cluster): what can drift is
/// checked instead. Every program they start exists, every flag they pass is one the program
/// takes, every `RESHAPR_*` variable they set is one the programs read, and the sync's
/// control-plane addresses parse.
@Suite struct DeploymentFilesTests {
    static let programs = ["reshapr-ctrl", "reshapr-sync", "reshapr-gateway", "reshapr"]

    /// Every YAML document under deploy/.
    static func documents() throws -> [(file: String, document: Any)] {
        let root = Repository.root + "/deploy"
        var found: [(String, Any)] = []
        for case let relative as String in FileManager.default.enumerator(atPath: root) ?? NSEnumerator() where relative.hasSuffix(".yaml") {
            let text = try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            for document in try Yams.load_all(yaml: text) { found.append((relative, document)) }
        }
        return found
    }

    /// Containers (Kubernetes) and services (compose): the command line and the environment.
    static func processes(in document: Any) -> [(arguments: [String], environment: [String: String])] {
        guard let object = document as? [String: Any] else { return [] }
        var result: [([String], [String: String])] = []
        if let services = object["services"] as? [String: Any] {
            for case let service as [String: Any] in services.values {
                let environment = (service["environment"] as? [String: Any])?.mapValues { "\($0)" } ?? [:]
                result.append(((service["command"] as? [Any])?.map { "\($0)" } ?? [], environment))
            }
        }
        let spec = (((object["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any])
        for case let container as [String: Any] in (spec?["containers"] as? [Any]) ?? [] {
            var environment: [String: String] = [:]
            for case let variable as [String: Any] in (container["env"] as? [Any]) ?? [] {
                if let name = variable["name"] as? String { environment[name] = (variable["value"]).map { "\($0)" } ?? "" }
            }
            result.append(((container["args"] as? [Any])?.map { "\($0)" } ?? [], environment))
        }
        return result
    }

    /// The `RESHAPR_*` names the sources mention.
    static func variablesRead() throws -> Set<String> {
        var names: Set<String> = []
        let root = Repository.root + "/Sources"
        for case let relative as String in FileManager.default.enumerator(atPath: root) ?? NSEnumerator() where relative.hasSuffix(".swift") {
            let text = try String(contentsOfFile: root + "/" + relative, encoding: .utf8)
            var rest = Substring(text)
            while let range = rest.range(of: "\"RESHAPR_") {
                let name = rest[rest.index(after: range.lowerBound)...].prefix { $0.isUppercase || $0 == "_" || $0.isNumber }
                names.insert(String(name))
                rest = rest[range.upperBound...]
            }
        }
        return names.union(["RESHAPR_CONFIG_DIR"])
    }

    @Test func theDeploymentFilesMatchThePrograms() async throws {
        let documents = try Self.documents()
        #expect(Set(documents.map(\.file)) == ["compose/compose.yaml", "kubernetes/ctrl.yaml", "kubernetes/gateway.yaml", "kubernetes/gitops/gateway.yaml"])
        let known = try Self.variablesRead()
        var help: [String: String] = [:]
        var started: Set<String> = []
        for (file, document) in documents {
            for process in Self.processes(in: document) {
                for name in process.environment.keys where name.hasPrefix("RESHAPR_") {
                    #expect(known.contains(name), "\(file): \(name) is read by no program")
                }
                if let host = process.environment["RESHAPR_CTRL_HOST"] {
                    var environment = process.environment
                    environment["RESHAPR_CTRL_TOKEN"] = "rsh_x"
                    environment["RESHAPR_GATEWAY_ID"] = environment["RESHAPR_GATEWAY_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? "gw"
                    #expect(throws: Never.self, "\(file): \(host)") { try SyncConfiguration.from(environment: environment) }
                }
                guard let program = process.arguments.first else { continue }
                #expect(Self.programs.contains(program), "\(file): \(program) is not a program of the image")
                started.insert(program)
                if help[program] == nil {
                    let child = try ChildProcess(Repository.builtProduct(program), program == "reshapr-gateway" ? ["serve", "--help"] : ["--help"])
                    _ = try await child.waitForExit()
                    help[program] = child.stdout + child.stderr
                }
                for flag in process.arguments.dropFirst() where flag.hasPrefix("--") {
                    #expect(help[program]?.contains(flag) == true, "\(file): \(program) takes no \(flag)")
                }
            }
        }
        #expect(started == ["reshapr-ctrl", "reshapr-sync", "reshapr-gateway"])
    }
}
