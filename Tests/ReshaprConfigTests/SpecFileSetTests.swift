import Foundation
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprConfig

/// Collecting the files of a split description, as `reshapr import -f` and `-u` do.
@Suite struct SpecFileSetTests {
    static func directory() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (path, content) in SplitSpec.files { _ = try dir.write(path, content) }
        return dir
    }

    static func readLocal(_ url: URL) throws -> [UInt8] {
        guard url.isFileURL, let data = FileManager.default.contents(atPath: url.path) else { throw CocoaError(.fileNoSuchFile) }
        return [UInt8](data)
    }

    @Test func collectsEveryReferencedFileAndNothingElse() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        _ = try dir.write("api/unused.yaml", "not: referenced")
        let set = try await SpecFileSet.collect(root: URL(fileURLWithPath: dir.path + "/api/openapi.yaml"), remote: .refuse(advice: "bundle it")) {
            try Self.readLocal($0)
        }
        #expect(set.root == "openapi.yaml")
        #expect(set.files.first?.path == "openapi.yaml")
        let expected = SplitSpec.files.map { String($0.0.dropFirst("api/".count)) }
        #expect(Set(set.files.map(\.path)) == Set(expected))
        // Files are sent as they are, byte for byte.
        let pet = try #require(set.files.first { $0.path == "schemas/pet.yaml" })
        #expect(String(decoding: pet.content, as: UTF8.self) == SplitSpec.files.first { $0.0 == "api/schemas/pet.yaml" }?.1)
        // The stored tree holds together, as the control plane checks.
        #expect(SpecFileSet.problem(root: set.root, files: Dictionary(uniqueKeysWithValues: set.files.map { ($0.path, $0.content) })) == nil)
    }

    @Test func refsClimbingOutOfTheRootFolderMoveTheBase() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        _ = try dir.write("api/schemas/limits.yaml", "Limit: {$ref: '../../shared/limit.yaml'}")
        _ = try dir.write("shared/limit.yaml", "{type: integer, maximum: 7}")
        let set = try await SpecFileSet.collect(root: URL(fileURLWithPath: dir.path + "/api/openapi.yaml"), remote: .refuse(advice: "bundle it")) {
            try Self.readLocal($0)
        }
        #expect(set.root == "api/openapi.yaml")
        #expect(set.files.contains { $0.path == "shared/limit.yaml" })
        #expect(set.files.contains { $0.path == "api/paths/pets.yaml" })
        #expect(SpecFileSet.problem(root: set.root, files: Dictionary(uniqueKeysWithValues: set.files.map { ($0.path, $0.content) })) == nil)
    }

    @Test func aRemoteRefIsRefusedWithTheAdviceOrFetchedAndRewritten() async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        _ = try dir.write("api/schemas/limits.yaml", "Limit: {$ref: 'https://schemas.example.com/v1/limit.yaml#/Limit'}")
        let root = URL(fileURLWithPath: dir.path + "/api/openapi.yaml")
        await #expect {
            _ = try await SpecFileSet.collect(root: root, remote: .refuse(advice: "import with --bundle")) { try Self.readLocal($0) }
        } throws: { error in
            "\(error)".contains("limits.yaml: $ref https://schemas.example.com/v1/limit.yaml#/Limit is remote; import with --bundle")
        }
        // Fetched: stored under _remote/, its own relative ref followed on its host.
        let remote: [String: String] = [
            "https://schemas.example.com/v1/limit.yaml": "Limit: {$ref: 'common.yaml#/Int'}",
            "https://schemas.example.com/v1/common.yaml": "Int: {type: integer, maximum: 9}",
        ]
        let set = try await SpecFileSet.collect(root: root, remote: .fetch) { url in
            if url.isFileURL { return try Self.readLocal(url) }
            guard let text = remote[url.absoluteString] else { throw CocoaError(.fileNoSuchFile) }
            return Array(text.utf8)
        }
        #expect(set.files.contains { $0.path == "_remote/schemas.example.com/v1/limit.yaml" })
        #expect(set.files.contains { $0.path == "_remote/schemas.example.com/v1/common.yaml" })
        let limits = try #require(set.files.first { $0.path == "schemas/limits.yaml" })
        #expect(try JSONParser.parse(limits.content)["Limit"]?["$ref"] == "../_remote/schemas.example.com/v1/limit.yaml#/Limit")
        let files = Dictionary(uniqueKeysWithValues: set.files.map { ($0.path, $0.content) })
        #expect(SpecFileSet.problem(root: set.root, files: files) == nil)
        // And the gateway's bundler reads the whole tree.
        var withoutCommon = files
        withoutCommon["_remote/schemas.example.com/v1/common.yaml"] = nil
        #expect(SpecFileSet.problem(root: set.root, files: withoutCommon)?.contains("refers to _remote/schemas.example.com/v1/common.yaml, which cannot be read") == true)
    }

    @Test(arguments: [
        ("api/schemas/pet.yaml", "$ref: '/etc/passwd'", "is an absolute path"),
        ("api/schemas/pet.yaml", "$ref: 'missing.yaml'", "refers to"),
        ("api/schemas/pet.yaml", "$ref: 'ftp://example.com/x.yaml'", "is remote"),
        ("api/schemas/pet.yaml", "$ref: '../.hidden/x.yaml'", "cannot be read"),
    ])
    func aBadRefIsAnErrorNamingTheFile(file: String, content: String, expected: String) async throws {
        let dir = try Self.directory()
        defer { dir.remove() }
        _ = try dir.write(file, content)
        await #expect {
            _ = try await SpecFileSet.collect(root: URL(fileURLWithPath: dir.path + "/api/openapi.yaml"), remote: .refuse(advice: "bundle it")) { try Self.readLocal($0) }
        } throws: { error in
            "\(error)".contains(expected) && "\(error)".contains("pet.yaml")
        }
    }

    @Test func aRootThatIsNotJSONOrYAMLIsAloneInItsSet() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        _ = try dir.write("schema.graphql", "type Query { hello: String }")
        let set = try await SpecFileSet.collect(root: URL(fileURLWithPath: dir.path + "/schema.graphql"), remote: .refuse(advice: "")) { try Self.readLocal($0) }
        #expect(set.files.map(\.path) == ["schema.graphql"])
    }

    @Test(arguments: ["a/../b.yaml", "/etc/x", ".hidden/x", "a//b", "a/.b", ""])
    func unsafeStoredPathsAreRefused(_ path: String) {
        #expect(!SpecFileSet.isStorablePath(path))
    }

    @Test func relativePaths() {
        #expect(SpecFileSet.relativePath(from: "a/b/root.yaml", to: "a/c/x.yaml") == "../c/x.yaml")
        #expect(SpecFileSet.relativePath(from: "root.yaml", to: "_remote/h/x.yaml") == "_remote/h/x.yaml")
        #expect(SpecFileSet.relativePath(from: "a/root.yaml", to: "a/x.yaml") == "x.yaml")
    }
}
