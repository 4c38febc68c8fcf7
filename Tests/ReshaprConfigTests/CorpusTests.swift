import Foundation
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprConfig

/// Every public API description of `../shared/corpus/openapi` loads as an artifact.
@Suite struct CorpusTests {
    static let files: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: Repository.openAPICorpus)) ?? []
        return names.filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
    }()

    @Test func corpusIsPresent() {
        #expect(Self.files.count >= 30, "expected the OpenAPI corpus at \(Repository.openAPICorpus)")
    }

    @Test func everyCorpusSpecLoadsAsAnArtifact() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (index, file) in Self.files.enumerated() {
            // Services reference the corpus through symlinks inside the root, as an operator would.
            try dir.symlink("specs/\(file)", to: Repository.openAPICorpus + "/" + file)
            try dir.write(
                "services/\(index).yaml",
                """
                apiVersion: reshapr.io/v1
                kind: Service
                metadata: {name: corpus-\(index)}
                spec:
                  version: "1"
                  type: REST
                  artifacts: [{type: OPENAPI, path: ../specs/\(file)}]
                """)
        }
        let started = ContinuousClock.now
        let configuration = try ConfigLoader(root: dir.path).load()
        let elapsed = ContinuousClock.now - started
        #expect(configuration.errors.isEmpty, "\(configuration.errors.map(\.description))")
        #expect(configuration.resourceCounts[.service] == Self.files.count)
        print("corpus: \(Self.files.count) specs loaded as artifacts in \(elapsed)")
    }

    @Test func swaggerTwoDocumentsLoadWithTheirType() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "swagger.yaml",
            """
            swagger: "2.0"
            info: {title: Legacy, version: "1"}
            basePath: /v1
            paths:
              /items:
                get:
                  operationId: listItems
                  responses: {"200": {description: ok}}
            """)
        try dir.write(
            "service.yaml",
            "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: legacy}\nspec:\n  version: \"1\"\n  type: REST\n  artifacts: [{type: SWAGGER, path: swagger.yaml}]\n")
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.errors.isEmpty, "\(configuration.errors.map(\.description))")
        #expect(configuration.resourceCounts[.service] == 1)
    }
}
