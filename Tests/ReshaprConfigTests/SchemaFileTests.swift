import Foundation
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprConfig

/// The schemas in `schema/` are the contract: the binary embeds exactly them, they compile,
/// and the samples point editors at them.
@Suite struct SchemaFileTests {
    @Test func embeddedSchemasMatchTheSchemaDirectory() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repository.schemas).filter { $0.hasSuffix(".schema.json") }.sorted()
        #expect(EmbeddedSchemas.all.map(\.file) == files, "run scripts/embed-schemas.py")
        for (file, text) in EmbeddedSchemas.all {
            let onDisk = try String(contentsOfFile: Repository.schemas + "/" + file, encoding: .utf8)
            #expect(text == onDisk.trimmingCharacters(in: .newlines), "\(file) differs from its embedded copy: run scripts/embed-schemas.py")
        }
    }

    @Test func everyKindHasACompiledSchema() throws {
        let validators = try SchemaCatalog.validators.get()
        #expect(Set(validators.keys) == Set(ResourceKind.allCases))
    }

    @Test func editorSchemaDispatchesOnKind() throws {
        let documents = try EmbeddedSchemas.all.map { try JSONParser.parse($0.text) }
        let umbrella = try #require(documents.first { $0["$id"]?.stringValue?.hasSuffix("/resource.schema.json") == true })
        let validator = try JSONSchemaValidator(schema: umbrella, resources: documents)
        #expect(validator.validate(["apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": ["name": "e"], "spec": ["plan": "p"]]).isEmpty)
        #expect(validator.validate(["apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": ["name": "e"], "spec": [:]]).map(\.description) == [
            "spec.plan: required field is missing"
        ])
    }

    @Test func samplesDeclareSchemasThatExist() throws {
        let enumerator = FileManager.default.enumerator(atPath: Repository.samples)
        var checked = 0
        while let relative = enumerator?.nextObject() as? String {
            guard relative.hasSuffix(".yaml") else { continue }
            let path = Repository.samples + "/" + relative
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard text.contains("apiVersion: reshapr.io/v1") else { continue }
            let modeline = try #require(text.split(separator: "\n").first { $0.hasPrefix("# yaml-language-server: $schema=") }, "\(relative) has no schema modeline")
            let schema = String(modeline.dropFirst("# yaml-language-server: $schema=".count))
            let resolved = ((path as NSString).deletingLastPathComponent as NSString).appendingPathComponent(schema)
            #expect(FileManager.default.fileExists(atPath: resolved), "\(relative) points at \(schema), which does not exist")
            checked += 1
        }
        #expect(checked >= 3)
    }
}
