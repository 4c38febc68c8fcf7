import Foundation
@testable import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

/// The `reshapr` binary against a real reshapr-ctrl, as an operator would use it.
@Suite struct CLITests {
    @Test func theGuideWorkflow() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let (ctrl, _, restPort) = try await EndToEndTests().startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        let environment = ["RESHAPR_CLI_CONFIG": dir.path + "/cli.json"]
        let binary = Repository.builtProduct("reshapr")
        func reshapr(_ arguments: String..., input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(binary, arguments, environment: environment, input: input)
        }
        func id(_ output: String) -> String { String(output.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") }

        let login = try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "--username", "admin", input: "correct horse\n")
        #expect(login.status == 0, "\(login.stderr)")
        let permissions = try FileManager.default.attributesOfItem(atPath: dir.path + "/cli.json")[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        // The hosted CLI's flags: -u/-p, --password-stdin; and info on the session.
        let wrong = try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "-u", "admin", "-p", "wrong")
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("wrong user name or password"), "\(wrong.stderr)")
        let both = try await reshapr("login", "-u", "admin", "-p", "x", "--password-stdin")
        #expect(both.status == 2)
        let scripted = try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "-u", "admin", "--password-stdin", input: "correct horse\n")
        #expect(scripted.status == 0, "\(scripted.stderr)")
        let info = try await reshapr("info")
        #expect(info.stdout.contains("Server: http://127.0.0.1:\(restPort)\nUser: admin\nOrganization: "), "\(info.stdout)\(info.stderr)")
        let infoJSON = try JSONParser.parse(try await reshapr("info", "-o", "json").stdout)
        #expect(infoJSON["username"] == "admin")
        #expect(infoJSON["expiresAt"]?.stringValue?.hasSuffix("Z") == true)

        let token = try await reshapr("api-token", "create", "gateways", "-v", "30")
        #expect(token.stdout.hasPrefix("The API Token to register Gateway is: rsh_"))
        let tooLong = try await reshapr("api-token", "create", "gateways", "-v", "91")
        #expect(tooLong.status == 2)
        #expect(tooLong.stderr.contains("-v must be between 1 and 90 days"))

        let group = try await reshapr("gateway-group", "create", "qa", "--labels", #"{"env":"qa"}"#)
        #expect(group.stdout.hasPrefix("✅ Gateway group 'qa' created successfully with ID: "))
        let groupID = id(group.stdout)
        let groups = try JSONParser.parse(try await reshapr("gateway-group", "list", "--output", "json").stdout)
        #expect(groups.arrayValue?.compactMap { $0["name"]?.stringValue } == ["Default Gateway Group", "qa"])
        #expect(try await reshapr("gateway-group", "list").stdout.contains("ID             ORG   NAME"))

        let imported = try await reshapr("import", "-f", Repository.samples + "/petstore/openapi.yaml")
        #expect(imported.stdout.hasPrefix("✅ Service 'swagger-petstore' 1.0.0 (REST) imported with ID: "), "\(imported.stderr)")
        let plan = try await reshapr("config", "create", id(imported.stdout), "--name", "petstore", "--mock", "--exclude", "uploadFile")
        #expect(plan.status == 0, "\(plan.stderr)")
        let expo = try await reshapr("expo", "create", "--configuration", id(plan.stdout), "--gateway-group", groupID)
        #expect(expo.stdout.hasPrefix("✅ Exposition 'swagger-petstore-1.0.0-petstore' created successfully with ID: "), "\(expo.stdout)")
        // Names are unique in the organization; --name gives another.
        let again = try await reshapr("expo", "create", "--configuration", id(plan.stdout), "--gateway-group", groupID)
        #expect(again.status == 1)
        #expect(again.stderr.contains("an exposition named swagger-petstore-1.0.0-petstore already exists"), "\(again.stderr)")
        let named = try await reshapr("expo", "create", "--configuration", id(plan.stdout), "--gateway-group", groupID, "--name", "pets", "--path", "/mcp/pets")
        #expect(named.stdout.hasPrefix("✅ Exposition 'pets' created"), "\(named.stderr)")
        let badName = try await reshapr("expo", "create", "--configuration", id(plan.stdout), "--gateway-group", groupID, "--name", "no spaces")
        #expect(badName.stderr.contains("exposition name no spaces:"), "\(badName.stderr)")
        let listedExpositions = try JSONParser.parse(try await reshapr("expo", "list", "-o", "json").stdout).arrayValue ?? []
        #expect(listedExpositions.count == 2)
        #expect(listedExpositions.first { $0["name"] == "pets" }?["paths"] == ["/mcp/pets"])
        let table = try await reshapr("expo", "list")
        #expect(table.stdout.contains("/mcp/acme/swagger-petstore/1.0.0 /mcp/acme/swagger-petstore-1.0.0-petstore /mcp/\(id(expo.stdout))"), "\(table.stdout)")
        _ = try await reshapr("expo", "delete", id(named.stdout))
        // get of one item, and -o yaml everywhere (read back as the JSON it stands for).
        let serviceGet = try await reshapr("service", "get", id(imported.stdout))
        #expect(serviceGet.stdout.contains("swagger-petstore  1.0.0"), "\(serviceGet.stdout)\(serviceGet.stderr)")
        let configJSON = try JSONParser.parse(try await reshapr("config", "get", id(plan.stdout), "-o", "json").stdout)
        #expect(configJSON["name"] == "petstore")
        let expoYAML = try await reshapr("expo", "get", id(expo.stdout), "-o", "yaml")
        let expoJSON = try JSONParser.parse(try await reshapr("expo", "get", id(expo.stdout), "-o", "json").stdout)
        #expect(try DocumentReader.parse(Array(expoYAML.stdout.utf8), keepNodes: false).first?.value == expoJSON, "\(expoYAML.stdout)")
        let groupsYAML = try await reshapr("gateway-group", "list", "-o", "yaml")
        #expect(try DocumentReader.parse(Array(groupsYAML.stdout.utf8), keepNodes: false).first?.value == groups, "\(groupsYAML.stdout)")
        // Secrets: created from a token, listed and read back without their values, deleted.
        let secret = try await reshapr(
            "secret", "create", "petstore-creds", "--token", "s3cr3t-value", "--token-header", "X-API-Key", "--description", "Petstore's API key")
        #expect(secret.stdout.hasPrefix("✅ Secret 'petstore-creds' created with ID: "), "\(secret.stderr)")
        let secrets = try await reshapr("secret", "list", "-o", "json")
        #expect(JSONValue.array((try JSONParser.parse(secrets.stdout).arrayValue ?? []).map { $0["name"] ?? .null }) == ["petstore-creds"])
        let secretGet = try await reshapr("secret", "get", id(secret.stdout), "-o", "yaml")
        #expect(secretGet.stdout.contains("name: petstore-creds") && !secretGet.stdout.contains("s3cr3t"), "\(secretGet.stdout)")
        #expect(secretGet.stdout.contains("description: \"Petstore's API key\""), "\(secretGet.stdout)")
        let secretTable = try await reshapr("secret", "list")
        #expect(secretTable.stdout.contains("token,tokenHeader  Petstore's API key"), "\(secretTable.stdout)")

        // config update changes what its flags name, and keeps the rest.
        let update = try await reshapr("config", "update", id(plan.stdout), "--backend-endpoint", "http://127.0.0.1:9/api", "--backend-security", "apiKey", "--secret", "petstore-creds/token")
        #expect(update.stdout == "✅ Configuration 'petstore' updated\n", "\(update.stderr)")
        let updated = try JSONParser.parse(try await reshapr("config", "get", id(plan.stdout), "-o", "json").stdout)
        #expect(updated["backend"] == ["endpoint": "http://127.0.0.1:9/api"])
        #expect(updated["tools"] == ["exclude": ["uploadFile"]])
        #expect(updated["backendSecurity"]?["secretRef"] == ["name": "petstore-creds", "key": "token"])
        let unsecured = try await reshapr("config", "update", id(plan.stdout), "--backend-security", "none", "--mock")
        #expect(unsecured.status == 0, "\(unsecured.stderr)")
        let mocked = try JSONParser.parse(try await reshapr("config", "get", id(plan.stdout), "-o", "json").stdout)
        #expect(mocked["backend"] == ["mock": true] && mocked["backendSecurity"] == nil, "\(mocked)")
        #expect(!secrets.stdout.contains("s3cr3t"))
        let twoKinds = try await reshapr("secret", "create", "x", "--token", "t", "--username", "u", "--password", "p")
        #expect(twoKinds.status == 2)
        #expect(twoKinds.stderr.contains("give one of --token, --username with --password, or --cert"), "\(twoKinds.stderr)")
        #expect(try await reshapr("secret", "delete", id(secret.stdout)).status == 0)
        let noSuchExpo = try await reshapr("expo", "get", "nope")
        #expect(noSuchExpo.status == 1)
        #expect(noSuchExpo.stderr.contains("no exposition with ID nope"), "\(noSuchExpo.stderr)")

        // Reshaping artifacts: attached, listed, read back, refused when they do not fit, deleted.
        let serviceID = id(imported.stdout)
        let filters = "apiVersion: reshapr.io/v1alpha1\nkind: ToolsOutputFilters\nservice: {name: swagger-petstore, version: 1.0.0}\nfilters:\n  getPetById: {jsonRetain: [/name]}\n"
        _ = try dir.write("filters.yaml", filters)
        let attached = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/filters.yaml")
        #expect(attached.stdout.hasPrefix("✅ RESHAPR_TOOLS_OUTPUT_FILTERS filters.yaml attached to service \(serviceID) with ID: "), "\(attached.stderr)")
        let artifacts = try JSONParser.parse(try await reshapr("artifact", "list", "-s", serviceID, "-o", "json").stdout)
        #expect(artifacts.arrayValue?.compactMap { $0["type"]?.stringValue } == ["OPENAPI", "RESHAPR_TOOLS_OUTPUT_FILTERS"])
        #expect(try await reshapr("artifact", "get", id(attached.stdout)).stdout == filters)
        let twice = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/filters.yaml")
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("filters.yaml defines getPetById, which artifact \(id(attached.stdout)) (filters.yaml) defines already"), "\(twice.stderr)")
        _ = try dir.write("other/filters.yaml", filters.replacingOccurrences(of: "getPetById", with: "findPetsByStatus"))
        let sameName = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/other/filters.yaml")
        #expect(sameName.stderr.contains("already has an artifact named filters.yaml"), "\(sameName.stderr)")
        _ = try dir.write("cats.yaml", filters.replacingOccurrences(of: "swagger-petstore", with: "cats"))
        let otherService = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/cats.yaml")
        #expect(otherService.stderr.contains("cats.yaml is for service cats 1.0.0 (its service field), not swagger-petstore 1.0.0"), "\(otherService.stderr)")
        _ = try dir.write("broken.yaml", filters.replacingOccurrences(of: "[/name]", with: "[name]"))
        let broken = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/broken.yaml")
        #expect(broken.stderr.contains("broken.yaml: filters.getPetById.jsonRetain[0]"), "\(broken.stderr)")
        _ = try dir.write(
            "resources.yaml",
            "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: swagger-petstore, version: 1.0.0}\nresources: {'docs:///a.md': {text: hi}}\n")
        let resources = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/resources.yaml")
        #expect(resources.stdout.hasPrefix("✅ RESHAPR_RESOURCES resources.yaml attached to service \(serviceID) with ID: "), "\(resources.stderr)")
        #expect(try await reshapr("artifact", "delete", id(resources.stdout)).status == 0)
        _ = try dir.write("unknown.yaml", "apiVersion: reshapr.io/v1alpha1\nkind: Agents\nservice: {name: swagger-petstore, version: 1.0.0}\n")
        let unknown = try await reshapr("attach", "-s", serviceID, "-f", dir.path + "/unknown.yaml")
        #expect(unknown.stderr.contains("kind must be one of CustomTools, Prompts, Resources, ToolsOutputFilters"), "\(unknown.stderr)")
        let description = try #require(artifacts.arrayValue?.first?["id"]?.stringValue)
        let keepsDescription = try await reshapr("artifact", "delete", description)
        #expect(keepsDescription.stderr.contains("delete the service instead"), "\(keepsDescription.stderr)")

        // export writes what a gateway of the group would receive, in the sync's layout.
        let export = try await reshapr("export", "--gateway-group", groupID, dir.path + "/gitops")
        #expect(export.status == 0, "\(export.stderr)")
        #expect(FileManager.default.contents(atPath: dir.path + "/gitops/services/swagger-petstore-1.0.0/filters.yaml") == Data(filters.utf8))
        let validate = try await ChildProcess.run(Repository.builtProduct("reshapr-gateway"), ["validate", dir.path + "/gitops"])
        #expect(validate.status == 0, "\(validate.stderr)")
        #expect(validate.stdout.contains("/mcp/acme/swagger-petstore/1.0.0"))
        #expect(try await reshapr("artifact", "delete", id(attached.stdout)).status == 0)
        #expect(try JSONParser.parse(try await reshapr("artifact", "list", "-s", serviceID, "-o", "json").stdout).arrayValue?.count == 1)

        // A secret that is only a reference: the CLI does not expand it, the control plane keeps
        // and ships it as it is, and the gateway alone resolves it.
        #expect(try await reshapr("secret", "create", "github", "--token", "Bearer ${env:GITHUB_TOKEN}").status == 0)
        #expect(try await reshapr("config", "update", id(plan.stdout), "--backend-endpoint", "http://127.0.0.1:9/api", "--backend-security", "apiKey", "--secret", "github/token").status == 0)
        #expect(try await reshapr("export", "--gateway-group", groupID, dir.path + "/referenced").status == 0)
        let shipped = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir.path + "/referenced/secrets/github.json"))))
        #expect(shipped["spec"]?["data"]?["token"] == "Bearer ${env:GITHUB_TOKEN}", "\(shipped)")

        #expect(try JSONParser.parse(try await reshapr("gateway", "list", "-o", "json").stdout) == [])
        let missing = try await reshapr("expo", "delete", "0000000000000")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("❌ no exposition 0000000000000"))
        let usage = try await reshapr("expo", "create")
        #expect(usage.status == 2)

        let deleted = try await reshapr("service", "delete", id(imported.stdout))
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try JSONParser.parse(try await reshapr("expo", "list", "-o", "json").stdout) == [], "expositions go with their service")

        #expect(try await reshapr("logout").status == 0)
        let loggedOut = try await reshapr("service", "list")
        #expect(loggedOut.status == 1)
        #expect(loggedOut.stderr.contains("not logged in: run reshapr login"))
        ctrl.terminate()
        _ = try await ctrl.waitForExit()
    }
}

/// The CLI against a control plane whose REST API is served over TLS.
@Suite struct CLITLSTests {
    @Test func theCLIVerifiesTheControlPlanesCertificate() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let tls = try await selfSignedCertificate(in: dir)
        let (ctrl, _, restPort) = try await EndToEndTests().startControlPlane(
            database: dir.path + "/ctrl.sqlite", extra: ["--tls-cert", tls.certificatePath, "--tls-key", tls.keyPath])
        defer { ctrl.terminate() }
        let binary = Repository.builtProduct("reshapr")
        func reshapr(_ arguments: [String], input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(binary, arguments, environment: ["RESHAPR_CLI_CONFIG": dir.path + "/cli.json"], input: input)
        }
        let server = "https://127.0.0.1:\(restPort)"
        // Not trusted by the system's CAs: refused, and no session is saved.
        let untrusted = try await reshapr(["login", "--server", server, "--username", "admin"], input: "correct horse\n")
        #expect(untrusted.status != 0)
        #expect(untrusted.stderr.contains("cannot reach the control plane at \(server)"), "\(untrusted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/cli.json"))
        // Plain HTTP to the TLS port gets nowhere either.
        let plain = try await reshapr(["login", "--server", "http://127.0.0.1:\(restPort)", "--username", "admin"], input: "correct horse\n")
        #expect(plain.status != 0)
        // With the CA, login works and later commands keep verifying against it.
        let login = try await reshapr(["login", "--server", server, "--username", "admin", "--ca-file", tls.certificatePath], input: "correct horse\n")
        #expect(login.status == 0, "\(login.stderr)")
        let groups = try JSONParser.parse(try await reshapr(["gateway-group", "list", "--output", "json"]).stdout)
        let groupID = try #require(groups.arrayValue?.first?["id"]?.stringValue)
        let bound = try await reshapr(["api-token", "create", "dev-gateways", "-v", "30", "--gateway-group", groupID])
        #expect(bound.status == 0, "\(bound.stderr)")
        let unbound = try await reshapr(["api-token", "create", "any-gateway", "-v", "30"])
        #expect(unbound.stdout.contains("It is not bound to a gateway group"))
        let list = try await reshapr(["api-token", "list"])
        #expect(list.stdout.contains("GATEWAY GROUP"))
        #expect(list.stdout.contains(groupID))
        #expect(list.stdout.contains("any labels (unbound)"))
    }
}
