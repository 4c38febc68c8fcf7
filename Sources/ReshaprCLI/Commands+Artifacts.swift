import ArgumentParser
import Foundation
import ReshaprJSON

/// `reshapr attach`: adds a CustomTools, ToolsOutputFilters, Prompts or Resources file to a service.
struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach a CustomTools, ToolsOutputFilters, Prompts or Resources file (reshapr.io/v1alpha1) to a service; the type is read from its kind.")
    @Option(name: .shortAndLong, help: "The service ID.") var service: String
    @Option(name: .shortAndLong, help: "The artifact file (YAML or JSON).") var file: String

    func run() async throws {
        let artifact = try await session().call(.POST, "/api/v1/services/\(service)/artifacts", .object(try artifactPayload(file)))
        print("✅ \(artifact["type"]?.stringValue ?? "Artifact") \(artifact["fileName"]?.stringValue ?? "") attached to service \(service) with ID: \(artifact["id"]?.stringValue ?? "?")")
    }
}

struct ArtifactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "artifact", abstract: "Artifacts of services.", subcommands: [List.self, Get.self, Delete.self])

    struct List: AsyncParsableCommand {
        @Option(name: .shortAndLong, help: "The service ID.") var service: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            show(try await session().call(.GET, "/api/v1/services/\(service)/artifacts"), output.output,
                columns: [("ID", text("id")), ("TYPE", text("type")), ("FILE", text("fileName")), ("BYTES", text("size"))])
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an artifact's content (its JSON description with -o json).")
        @Argument var id: String
        @OptionGroup var output: OutputOptions
        func run() async throws {
            let artifact = try await session().call(.GET, "/api/v1/artifacts/\(id)")
            if output.output == .json {
                print(artifact.serialized(pretty: true))
            } else if output.output == .yaml {
                print(YAMLOutput.text(artifact), terminator: "")
            } else if let content = artifact["content"]?.stringValue {
                print(content, terminator: content.hasSuffix("\n") ? "" : "\n")
            } else {
                print(artifact["contentBase64"]?.stringValue ?? "")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        @Argument var id: String
        func run() async throws {
            _ = try await session().call(.DELETE, "/api/v1/artifacts/\(id)")
            print("✅ Artifact \(id) deleted")
        }
    }
}
