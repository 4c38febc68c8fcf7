import Foundation
import ReshaprJSON
import TestSupport
import Testing

/// `reshapr import` of a description split over files, from disk (`-f root.yaml`, `-f folder`,
/// `--bundle` for remote refs) and by URL on the control plane (`-u URL -s SECRET`); the sync
/// writes the same tree and the gateway serves every operation.
@Suite struct MultiFileImportTests {
    /// Serves a folder on an ephemeral port; under `/protected/` only with `Authorization: Bearer s3cret`.
    static let server = """
        import http.server, functools, sys
        class Files(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/protected/"):
                    if self.headers.get("Authorization") != "Bearer s3cret":
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.path = self.path[len("/protected"):]
                super().do_GET()
            def log_message(self, *args):
                pass
        handler = functools.partial(Files, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(f"listening on 127.0.0.1:{server.server_address[1]}", file=sys.stderr, flush=True)
        server.serve_forever()
        """

    @Test(.enabled(if: Python.canImport("http.server") || Python.required))
    func aSplitDescriptionIsImportedFromFilesAndByURLAndServed() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        for (path, content) in SplitSpec.files { _ = try dir.write("spec/" + path, content) }
        // A ref out of the root's folder, and one to another host.
        _ = try dir.write("spec/api/schemas/limits.yaml", "Limit: {$ref: '../../shared/limit.yaml'}")
        _ = try dir.write("spec/shared/limit.yaml", "{type: integer, minimum: 1, maximum: 100}")
        _ = try dir.write("served/address.yaml", "type: object\nproperties: {street: {$ref: 'common.yaml#/Street'}}")
        _ = try dir.write("served/common.yaml", "Street: {type: string}")
        _ = try dir.write("server.py", Self.server)
        let files = try ChildProcess("/usr/bin/env", ["python3", dir.path + "/server.py", dir.path + "/served"])
        defer { files.terminate() }
        let filesPort = try #require(EndToEndTests.port(try await files.waitForStderr(containing: "listening on 127.0.0.1:")))
        let owner = "type: object\nproperties:\n  name: {type: string}\n  pets: {type: array, items: {$ref: 'pet.yaml'}}\n"
        _ = try dir.write("spec/api/schemas/owner.yaml", owner + "  address: {$ref: 'http://127.0.0.1:\(filesPort)/address.yaml'}\n")

        let (ctrl, grpcPort, restPort) = try await EndToEndTests().startControlPlane(database: dir.path + "/ctrl.sqlite")
        defer { ctrl.terminate() }
        func reshapr(_ arguments: String..., input: String? = nil) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await ChildProcess.run(Repository.builtProduct("reshapr"), arguments, environment: ["RESHAPR_CLI_CONFIG": dir.path + "/cli.json"], input: input)
        }
        #expect(try await reshapr("login", "--server", "http://127.0.0.1:\(restPort)", "--password-stdin", input: "correct horse\n").status == 0)

        // A remote ref is refused, saying how to bundle it.
        let refused = try await reshapr("import", "-f", dir.path + "/spec/api/openapi.yaml", "--sn", "split", "--sv", "1")
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("owner.yaml: $ref http://127.0.0.1:\(filesPort)/address.yaml is remote"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--bundle"))

        // From the folder, with the remote parts bundled.
        let imported = try await reshapr("import", "-f", dir.path + "/spec/api", "--bundle", "--sn", "split", "--sv", "1", "--be", "http://127.0.0.1:9/")
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.contains("📦 api/openapi.yaml and the 10 files its $refs name"), "\(imported.stdout)")
        let serviceID = try #require(imported.stdout.split(separator: "\n").first { $0.contains("Service 'split'") }?.split(separator: " ").last.map(String.init))
        let artifacts = try JSONParser.parse(try await reshapr("artifact", "list", "-s", serviceID, "-o", "json").stdout)
        #expect(artifacts.arrayValue?.count == 11)
        #expect(artifacts.arrayValue?.contains { $0["fileName"] == .string("_remote/127.0.0.1_\(filesPort)/common.yaml") && $0["type"] == "FILE" } == true, "\(artifacts)")

        // From a .zip of the folder (deflated, with a macOS resource fork), and a .zip that climbs out.
        let zip = """
            import sys, zipfile, os
            source, target = sys.argv[1], sys.argv[2]
            with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
                for folder, _, names in os.walk(source):
                    for name in names:
                        path = os.path.join(folder, name)
                        archive.write(path, os.path.relpath(path, source))
                archive.writestr("__MACOSX/spec/._openapi.yaml", "junk")
            with zipfile.ZipFile(target + ".evil.zip", "w") as archive:
                archive.writestr("openapi.yaml", "openapi: 3.0.3")
                archive.writestr("../../evil.yaml", "x: 1")
            """
        _ = try dir.write("zip.py", zip)
        #expect(try await ChildProcess.run("/usr/bin/env", ["python3", dir.path + "/zip.py", dir.path + "/spec", dir.path + "/spec.zip"]).status == 0)
        let zipped = try await reshapr("import", "-f", dir.path + "/spec.zip", "--bundle", "--sn", "zipped", "--sv", "1")
        #expect(zipped.status == 0, "\(zipped.stderr)")
        #expect(zipped.stdout.contains("📦 api/openapi.yaml and the 10 files its $refs name"), "\(zipped.stdout)")
        let evil = try await reshapr("import", "-f", dir.path + "/spec.zip.evil.zip", "--sn", "evil", "--sv", "1")
        #expect(evil.status == 2)
        #expect(evil.stderr.contains("entry ../../evil.yaml would be written outside the folder"), "\(evil.stderr)")

        // By URL, on the control plane, with the secret the URL needs.
        #expect(try await reshapr("secret", "create", "specs", "--token", "s3cret").status == 0)
        for (path, content) in SplitSpec.files { _ = try dir.write("served/" + path, content) }
        let byURL = "http://127.0.0.1:\(filesPort)/protected/api/openapi.yaml"
        let unauthorized = try await reshapr("import", "-u", byURL, "--sn", "byurl", "--sv", "1")
        #expect(unauthorized.status == 1)
        #expect(unauthorized.stderr.contains("answered 401"), "\(unauthorized.stderr)")
        let fetched = try await reshapr("import", "-u", byURL, "-s", "specs", "--sn", "byurl", "--sv", "1", "--be", "http://127.0.0.1:9/")
        #expect(fetched.status == 0, "\(fetched.stderr)")

        // The sync writes both trees; the gateway reads every operation of both.
        let token = try await reshapr("api-token", "create", "mirror", "-v", "1")
        let apiToken = String(token.stdout.split(whereSeparator: \.isWhitespace).first { $0.hasPrefix("rsh_") } ?? "")
        let environment = [
            "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": apiToken,
            "RESHAPR_GATEWAY_ID": "mirror", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
        ]
        let once = try await ChildProcess.run(Repository.builtProduct("reshapr-sync"), ["--config-dir", dir.path + "/mirror", "--once"], environment: environment)
        #expect(once.status == 0, "\(once.stderr)")
        for path in ["split-1/api/paths/pets.yaml", "split-1/shared/limit.yaml", "split-1/_remote/127.0.0.1_\(filesPort)/address.yaml", "byurl-1/openapi.yaml", "byurl-1/schemas/owner.yaml"] {
            #expect(FileManager.default.fileExists(atPath: dir.path + "/mirror/services/" + path), "\(path)")
        }
        let validate = try await ChildProcess.run(Repository.builtProduct("reshapr-gateway"), ["validate", dir.path + "/mirror", "--format", "json"])
        let report = try JSONParser.parse(validate.stdout)
        #expect(report["valid"] == true, "\(validate.stdout)")
        #expect(report["warnings"] == [], "\(validate.stdout)")
        #expect(report["endpoints"] == ["/mcp/acme/byurl/1", "/mcp/acme/split/1"], "\(validate.stdout)")
        let table = try await ChildProcess.run(Repository.builtProduct("reshapr-gateway"), ["validate", dir.path + "/mirror"])
        #expect(table.stdout.split(separator: "\n").filter { $0.contains("/mcp/acme/") && $0.contains(" 3 ") }.count == 2, "\(table.stdout)")
    }
}
