import Foundation
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprConfig

@Suite struct ConfigLoaderTests {
    @Test func bundledSamplesLoadCleanly() throws {
        let configuration = try ConfigLoader(root: Repository.samples).load()
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        #expect(configuration.expositions.map(\.path) == ["/mcp/default/bookstore/1.0", "/mcp/default/petstore-grpc/v1", "/mcp/default/petstore/1.0.0"])
        let exposition = try #require(configuration.expositions.first { $0.path == "/mcp/default/petstore/1.0.0" })
        #expect(exposition.plan.backend == .mock)
        #expect(exposition.plan.tools.exclude == ["uploadFile"])
        guard case .document(let spec) = exposition.service.artifacts.first?.content else {
            Issue.record("the sample artifact was not parsed as a document")
            return
        }
        #expect(spec["openapi"] == "3.0.3")
        let bookstore = try #require(configuration.expositions.first)
        #expect(bookstore.service.type == .graphql)
        #expect(bookstore.plan.tools.selectionDepth == 2)
        #expect(bookstore.plan.tools.overrides["books"]?.selection == "{ id title genre year author { name } }")
        guard case .binary(let descriptor) = configuration.expositions[1].service.artifacts.first?.content else {
            Issue.record("the gRPC sample's descriptor set was not read as bytes")
            return
        }
        #expect(!descriptor.isEmpty)
        #expect(configuration.gateway.port == 7777)
        #expect(configuration.gateway.labels == ["env": "dev", "team": "reshapr"])
    }

    @Test func validDirectoryResolvesEveryReference() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        let configuration = try load(dir)
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        let exposition = try #require(configuration.expositions.first)
        #expect(exposition.path == "/mcp/default/petstore/1.0.0")
        #expect(exposition.service.artifacts.first?.file == "openapi.yaml")
        guard case .http(let backend) = exposition.plan.backend else {
            Issue.record("expected an HTTP backend")
            return
        }
        #expect(backend.endpoint == "http://127.0.0.1:9/api")
        #expect(backend.timeout == .seconds(5))
        #expect(configuration.resourceCounts == [.service: 1, .configurationPlan: 1, .exposition: 1, .secret: 0, .gateway: 0])
    }

    @Test func danglingReferenceNamesFileDocumentAndField() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", Fixture.plan(version: "1.1"))
        let configuration = try load(dir)
        #expect(configuration.issueTexts.contains("plans/petstore.yaml#1 spec.service.version: service petstore 1.1 not found (versions: 1.0.0) (line 7)"))
        #expect(configuration.hasIssue("expositions/petstore.yaml#1 spec.plan: configuration plan petstore is invalid (see the errors at plans/petstore.yaml#1)"))
        #expect(configuration.expositions.isEmpty)
        #expect(configuration.failedExpositions == [ResourceName(org: "default", name: "petstore")])
    }

    @Test func everyKindOfDanglingReference() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/other.yaml", Fixture.plan(name: "other", service: "nope"))
        try dir.write("expositions/other.yaml", Fixture.exposition(name: "other", plan: "missing"))
        try dir.write(
            "plans/secured.yaml",
            Fixture.plan(
                name: "secured",
                extra: "  backendSecurity: {type: bearer, secretRef: {name: creds, key: token}}\n  clientSecurity: {type: apiKey, secretRef: {name: keys, key: nope}}"))
        try dir.write("secrets/keys.yaml", "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: keys}\nspec:\n  data: {primary: abc}\n")
        let configuration = try load(dir)
        #expect(configuration.hasIssue("plans/other.yaml#1 spec.service.name: service nope not found in org default"))
        #expect(configuration.hasIssue("expositions/other.yaml#1 spec.plan: configuration plan missing not found in org default"))
        #expect(configuration.hasIssue("plans/secured.yaml#1 spec.backendSecurity.secretRef.name: secret creds not found in org default"))
        #expect(configuration.hasIssue(#"plans/secured.yaml#1 spec.clientSecurity.secretRef.key: secret keys has no key "nope" (keys: primary)"#))
        // The valid exposition is still served.
        #expect(configuration.expositions.map(\.path) == ["/mcp/default/petstore/1.0.0"])
    }

    @Test func referencesDoNotCrossOrganizations() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("b/plan.yaml", Fixture.plan(name: "stolen", org: "acme"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("b/plan.yaml#1 spec.service.name: service petstore not found in org acme"))
    }

    @Test func malformedYAMLIsReportedAndOtherFilesStillLoad() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("broken.yaml", "apiVersion: reshapr.io/v1\nkind: Service\nmetadata: {name: x\nspec: {}\n")
        let configuration = try load(dir)
        let issue = try #require(configuration.issues.first { $0.file == "broken.yaml" })
        #expect(issue.description.hasPrefix("broken.yaml: malformed YAML at line"))
        #expect(issue.line != nil)
        #expect(configuration.unreadableFiles == ["broken.yaml"])
        #expect(configuration.expositions.count == 1)
    }

    @Test func unknownKindAndUnsupportedVersion() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a.yaml", "apiVersion: reshapr.io/v1\nkind: Servce\nmetadata: {name: a}\nspec: {}\n")
        try dir.write("b.yaml", "apiVersion: reshapr.io/v2\nkind: Service\nmetadata: {name: b}\nspec: {}\n")
        try dir.write("c.yaml", "apiVersion: reshapr.io/v1\nmetadata: {name: c}\n")
        let configuration = try load(dir)
        #expect(configuration.issueTexts.contains(#"a.yaml#1 kind: unknown kind "Servce"; did you mean "Service"? (known kinds: Service, ConfigurationPlan, Exposition, Secret, Gateway) (line 2)"#))
        #expect(configuration.hasIssue(#"b.yaml#1 apiVersion: unsupported apiVersion "reshapr.io/v2"; this gateway reads reshapr.io/v1"#))
        #expect(configuration.hasIssue("c.yaml#1 kind: required field is missing"))
    }

    @Test func missingFieldsAndWrongTypesAreAllReported() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write(
            "svc.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: svc, labels: {tier: 1}}
            spec:
              version: 1.0
              type: SOAP
              artifacts: []
            """)
        try dir.write("plan.json", #"{"apiVersion": "reshapr.io/v1", "kind": "ConfigurationPlan", "metadata": {"name": "p"}, "spec": {"backend": {"endpoint": "ftp://x", "timeout": "soon"}}}"#)
        let configuration = try load(dir)
        let texts = configuration.issueTexts
        #expect(texts.contains("svc.yaml#1 metadata.labels.tier: expected string, got number 1 (quote the value in YAML to make it a string) (line 3)"))
        #expect(texts.contains("svc.yaml#1 spec.version: expected string, got number 1.0 (quote the value in YAML to make it a string) (line 5)"))
        #expect(texts.contains(#"svc.yaml#1 spec.type: must be one of "REST", "GRAPHQL", "GRPC", got string "SOAP" (line 6)"#))
        #expect(texts.contains("svc.yaml#1 spec.artifacts: must have at least 1 item (line 7)"))
        #expect(texts.contains("plan.json#1 spec.service: required field is missing"))
        #expect(configuration.hasIssue("plan.json#1 spec.backend.endpoint: string \"ftp://x\" does not match the pattern"))
        #expect(configuration.hasIssue("plan.json#1 spec.backend.timeout: string \"soon\" does not match the pattern"))
    }

    @Test func pathsMustStayInsideTheRoot() throws {
        let outside = try TemporaryDirectory("reshapr-outside")
        defer { outside.remove() }
        try outside.write("spec.yaml", Fixture.openAPI)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("a/svc.yaml", Fixture.service(name: "up", artifact: "../../\((outside.path as NSString).lastPathComponent)/spec.yaml"))
        try dir.write("b.yaml", Fixture.service(name: "abs", artifact: outside.path + "/spec.yaml"))
        try dir.write("c.yaml", Fixture.service(name: "missing", artifact: "specs/none.yaml"))
        try dir.write("d/e/inside.yaml", Fixture.service(name: "inside", artifact: "../../specs/ok.yaml"))
        try dir.write("specs/ok.yaml", Fixture.openAPI)
        try dir.write(
            "secret.yaml", "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: s}\nspec:\n  files: {token: ../../etc/passwd}\n")
        let configuration = try load(dir)
        #expect(configuration.hasIssue("a/svc.yaml#1 spec.artifacts[0].path: path ../../"))
        #expect(configuration.hasIssue("escapes the configuration directory"))
        #expect(configuration.hasIssue("b.yaml#1 spec.artifacts[0].path: absolute paths are not allowed; write a path relative to b.yaml"))
        #expect(configuration.hasIssue("c.yaml#1 spec.artifacts[0].path: cannot read specs/none.yaml: file not found"))
        #expect(configuration.hasIssue(#"secret.yaml#1 spec.files.token: path ../../etc/passwd escapes the configuration directory"#))
        #expect(configuration.resourceCounts[.service] == 1, "\(configuration.issueTexts)")
    }

    @Test func unreadableFilesAreReportedWithoutBlocking() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.symlink("dangling.yaml", to: "nowhere.yaml")
        #expect(mkfifo(dir.path + "/pipe.yaml", 0o644) == 0)
        try dir.symlink("ignored-dangling.txt", to: "nowhere.txt")
        let configuration = try load(dir)
        #expect(configuration.issueTexts.contains("dangling.yaml: cannot read: broken symbolic link"))
        #expect(configuration.issueTexts.contains("pipe.yaml: cannot read: not a regular file"))
        #expect(configuration.unreadableFiles == ["dangling.yaml", "pipe.yaml"])
        #expect(configuration.expositions.count == 1)
    }

    @Test func emptyAndMissingDirectories() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let configuration = try load(dir)
        #expect(configuration.expositions.isEmpty)
        #expect(configuration.resourceDocuments == 0)
        #expect(configuration.issueTexts == ["(configuration directory): no YAML or JSON files found"])
        #expect(configuration.isValid)

        try dir.write("notes.yaml", "just: a file\n")
        #expect(try load(dir).issueTexts == ["(configuration directory): no reshapr.io/v1 resources found in 1 file"])

        #expect(throws: ConfigDirectoryError.self) { try ConfigLoader(root: dir.path + "/absent").load() }
        do {
            _ = try ConfigLoader(root: dir.path + "/notes.yaml").load()
        } catch {
            #expect(error.description.hasSuffix("notes.yaml: is not a directory"))
        }
    }

    @Test func tenMegabyteFilesAreRefusedOverTheLimitAndLoadUnderIt() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 10 * 1024 * 1024 / 27)
        try dir.write("huge.yaml", Fixture.service(name: "huge") + "\n  description: \"\(filler)\"\n")
        let refused = try load(dir, maxFileSize: 8 << 20)
        #expect(refused.issueTexts.contains("huge.yaml: cannot read: file is 10.0 MiB, over the 8.0 MiB limit (--max-file-size)"))
        #expect(refused.expositions.count == 1)

        let accepted = try load(dir)
        #expect(accepted.issues.isEmpty, "\(accepted.issueTexts)")
        #expect(accepted.resourceCounts[.service] == 2)
    }

    @Test func hostileYAMLFailsCleanly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        var bomb = "apiVersion: reshapr.io/v1\nkind: Service\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1..<9 { bomb += "a\(i): &a\(i) [*a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1), *a\(i - 1)]\n" }
        try dir.write("bomb.yaml", bomb)
        try dir.write("deep.yaml", "apiVersion: reshapr.io/v1\nkind: Service\nspec: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n")
        try dir.write("deep.json", #"{"apiVersion": "reshapr.io/v1", "x": "# + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}")
        try dir.write("binary.yaml", Data([0x61, 0x3A, 0x20, 0xFF, 0xFE, 0x00]) + Data("reshapr.io/v1".utf8))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("bomb.yaml: YAML aliases expand to more than 100000 values"))
        #expect(configuration.hasIssue("deep.yaml: malformed YAML"))
        #expect(configuration.hasIssue("deep.json: malformed JSON at line 1, column"))
        #expect(configuration.hasIssue("binary.yaml: file is not valid UTF-8 text"))
        #expect(configuration.unreadableFiles.count == 4)
    }

    @Test func duplicatesAreReportedAtEveryDefinition() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/copy.yaml", Fixture.plan())
        try dir.write("expositions/same-path.yaml", "---\n" + Fixture.exposition(name: "one", path: "/mcp/shared") + "\n---\n" + Fixture.exposition(name: "two", path: "/mcp/shared"))
        try dir.write("plans/ok.yaml", Fixture.plan(name: "ok"))
        try dir.write("expositions/three.yaml", Fixture.exposition(name: "three", plan: "ok", path: "/mcp/shared"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("plans/copy.yaml#1 metadata.name: duplicate ConfigurationPlan default/petstore: also defined at plans/petstore.yaml#1"))
        #expect(configuration.hasIssue("plans/petstore.yaml#1 metadata.name: duplicate ConfigurationPlan default/petstore: also defined at plans/copy.yaml#1"))
        #expect(configuration.hasIssue("expositions/petstore.yaml#1 spec.plan: configuration plan petstore is invalid"))
        // one and two reference the duplicated plan; three is the only one left on /mcp/shared.
        #expect(configuration.expositions.map(\.name.name) == ["three"])

        try dir.write("plans/copy.yaml", Fixture.plan(name: "copy"))
        let paths = try load(dir)
        #expect(paths.hasIssue("expositions/same-path.yaml#2 spec.path: endpoint path /mcp/shared is also used by exposition default/one (expositions/same-path.yaml#1), default/three (expositions/three.yaml#1) (line 18)"))
        #expect(paths.expositions.map(\.name.name) == ["petstore"])
        #expect(paths.failedExpositions == [ResourceName(org: "default", name: "one"), ResourceName(org: "default", name: "two"), ResourceName(org: "default", name: "three")])
    }

    @Test func reservedAndDotSegmentPathsAreRefused() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("expositions/health.yaml", Fixture.exposition(name: "h", path: "/health/mcp"))
        try dir.write("expositions/dots.yaml", Fixture.exposition(name: "d", path: "/mcp/../status"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("expositions/health.yaml#1 spec.path: path /health/mcp is reserved for the gateway's /health endpoint"))
        #expect(configuration.hasIssue("expositions/dots.yaml#1 spec.path: path segments . and .. are not allowed"))
    }

    @Test func dotEntriesAreIgnoredAndTheConfigMapLayoutLoads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // The Kubernetes ConfigMap volume layout: visible names are symlinks into ..data.
        try dir.write("..2026_11_25_07_00_00.123/openapi.yaml", Fixture.openAPI)
        try dir.write("..2026_11_25_07_00_00.123/service.yaml", Fixture.service())
        try dir.write("..2026_11_25_07_00_00.123/plan.yaml", Fixture.plan())
        try dir.write("..2026_11_25_07_00_00.123/exposition.yaml", Fixture.exposition())
        try dir.symlink("..data", to: "..2026_11_25_07_00_00.123")
        for name in ["openapi.yaml", "service.yaml", "plan.yaml", "exposition.yaml"] {
            try dir.symlink(name, to: "..data/" + name)
        }
        try dir.write(".editor.swp.yaml", "apiVersion: reshapr.io/v1\nkind: [broken")
        try dir.write(".git/config.yaml", "apiVersion: reshapr.io/v1\nkind: Nope\n")
        let configuration = try load(dir)
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        #expect(configuration.expositions.count == 1)
        #expect(configuration.expositions.first?.service.source.file == "service.yaml")
    }

    @Test func symlinkedDirectoriesAreFollowedAndLoopsAreNot() throws {
        let elsewhere = try TemporaryDirectory("reshapr-elsewhere")
        defer { elsewhere.remove() }
        try elsewhere.write("plan.yaml", Fixture.plan())
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("openapi.yaml", Fixture.openAPI)
        try dir.write("service.yaml", Fixture.service())
        try dir.write("expo/exposition.yaml", Fixture.exposition())
        try dir.symlink("linked", to: elsewhere.path)
        try dir.symlink("expo/loop", to: "..")
        let configuration = try load(dir)
        #expect(configuration.expositions.count == 1, "\(configuration.issueTexts)")
        #expect(configuration.issueTexts == ["expo/loop/: symbolic link loop; not followed"])
        #expect(configuration.issues.first?.severity == .warning)
    }

    @Test func multipleDocumentsJSONAndForeignDocuments() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("openapi.json", #"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#)
        try dir.write(
            "all.yaml",
            """
            # a foreign document is ignored
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: unrelated}
            ---
            \(Fixture.service(artifact: "openapi.json"))
            ---
            ---
            \(Fixture.plan())
            """)
        try dir.write(
            "exposition.json",
            #"{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "petstore", "org": "default"}, "spec": {"plan": "petstore", "path": "/agents/pets"}}"#)
        let configuration = try load(dir)
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        #expect(configuration.expositions.map(\.path) == ["/agents/pets"])
        #expect(configuration.expositions.first?.service.source.description == "all.yaml#2")
        #expect(configuration.expositions.first?.plan.source.description == "all.yaml#4")
        #expect(configuration.resourceDocuments == 3)
    }

    @Test func artifactsMustBeWhatTheirTypeSays() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("swagger.json", #"{"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}"#)
        try dir.write("bad.json", "{\"openapi\": \"3.0.0\",\n  \"paths\": {,}}")
        try dir.write("s1.yaml", Fixture.service(name: "s1", artifact: "swagger.json"))
        try dir.write("s2.yaml", Fixture.service(name: "s2", artifact: "bad.json"))
        try dir.write("s3.yaml", Fixture.service(name: "s3", artifact: "service.yaml"))
        try dir.write(
            "s4.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: s4}
            spec:
              version: "1"
              type: REST
              artifacts: [{type: SWAGGER, path: swagger.json}, {type: OPENAPI, inline: "openapi: 3.1.0\\ninfo: {title: t, version: '1'}\\npaths: {}"}]
            """)
        let configuration = try load(dir)
        #expect(configuration.hasIssue("s1.yaml#1 spec.artifacts[0].path: swagger.json: is a Swagger 2.0 document; declare the artifact with type: SWAGGER"))
        #expect(configuration.hasIssue("s2.yaml#1 spec.artifacts[0].path: bad.json: malformed JSON at line 2, column 13"))
        #expect(configuration.hasIssue("s3.yaml#1 spec.artifacts[0].path: service.yaml: is not an OpenAPI document"))
        #expect(configuration.resourceCounts[.service] == 2, "\(configuration.issueTexts)")
    }

    @Test func secretsResolveAndNeverPrint() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("secrets/token.txt", "s3cr3t-token-value\n")
        try dir.write(
            "secrets/creds.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Secret
            metadata: {name: creds}
            spec:
              data: {password: hunter2-password}
              files: {token: token.txt}
            """)
        try dir.write(
            "plans/petstore.yaml",
            Fixture.plan(extra: "  backendSecurity: {type: basic, username: admin, secretRef: {name: creds, key: password}}"))
        try dir.write("plans/bearer.yaml", Fixture.plan(name: "bearer", extra: "  backendSecurity: {type: bearer, secretRef: {name: creds, key: token}}"))
        let configuration = try load(dir)
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        let plan = try #require(configuration.expositions.first?.plan)
        guard case .basic(let username, let password) = plan.backendSecurity else {
            Issue.record("expected basic security, got \(plan.backendSecurity)")
            return
        }
        #expect(username == "admin")
        #expect(try password.resolve() == "hunter2-password")
        let dump = "\(configuration) \(String(reflecting: configuration))"
        #expect(!dump.contains("hunter2-password"))
        #expect(!dump.contains("s3cr3t-token-value"))
        #expect(dump.contains("<redacted>"))
    }

    @Test func gatewaySettingsComeFromTheSingleGatewayResource() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        let gateway = """
            apiVersion: reshapr.io/v1
            kind: Gateway
            metadata: {name: gw}
            spec:
              listen: "[::1]:8088"
              fqdns: [mcp.example.internal]
              limits: {maxBodyBytes: 65536, callTimeout: 1500ms, maxConcurrentCalls: 8, rateLimit: {requestsPerSecond: 2.5}}
              allowedOrigins: [https://console.example.internal]
            """
        try dir.write("gateway.yaml", gateway)
        let settings = try load(dir).gateway
        #expect(settings.host == "::1")
        #expect(settings.port == 8088)
        #expect(settings.fqdns == ["mcp.example.internal"])
        #expect(settings.maxBodyBytes == 65536)
        #expect(settings.callTimeout == .milliseconds(1500))
        #expect(settings.rateLimit == GatewaySettings.RateLimit(requestsPerSecond: 2.5, burst: 3))
        #expect(settings.allowedOrigins == ["https://console.example.internal"])

        try dir.write("gateway2.yaml", gateway.replacingOccurrences(of: "name: gw", with: "name: gw2"))
        let twice = try load(dir)
        #expect(twice.hasIssue("gateway.yaml#1: at most one Gateway resource is allowed; also defined at gateway2.yaml#1"))
        #expect(twice.gateway.port == GatewaySettings.defaultPort)
    }

    @Test func relativePathArithmetic() throws {
        #expect(try RelativePath.resolve("spec.yaml", from: "a/b/svc.yaml").get() == "a/b/spec.yaml")
        #expect(try RelativePath.resolve("../x/./spec.yaml", from: "a/b/svc.yaml").get() == "a/x/spec.yaml")
        #expect((try? RelativePath.resolve("../../spec.yaml", from: "a/svc.yaml").get()) == nil)
        #expect((try? RelativePath.resolve("/etc/passwd", from: "svc.yaml").get()) == nil)
        #expect((try? RelativePath.resolve(".", from: "svc.yaml").get()) == nil)
    }
}
