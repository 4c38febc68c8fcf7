import Crypto
import Foundation
import GRPCCore
import Logging
import ReshaprSync
import HTTPTypes
import HummingbirdTesting
import NIOCore
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprControlPlane

/// The REST API against guessing and bad names.
@Suite struct ControlPlaneHardeningTests {
    static let spec = "openapi: 3.0.3\ninfo: {title: Pets, version: '1'}\npaths: {}\n"

    @Test func repeatedWrongPasswordsAreThrottledPerUserBeforeAnyCheck() async throws {
        try await withREST { _, _, rest in
            var anonymous = rest
            anonymous.token = ""
            for _ in 0..<5 {
                #expect(try await anonymous.call(.post, "/api/v1/login", ["username": "admin", "password": "guess"]).0 == .unauthorized)
            }
            // Even the right password is refused until the window has passed.
            let response = try await rest.client.execute(
                .init(
                    "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"username": "admin", "password": "correct horse"}"#)))
            #expect(response.status == .tooManyRequests)
            #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 800)
            let body = try JSONParser.parse(String(buffer: response.body ?? ByteBuffer()))
            #expect(body["error"]?.stringValue?.hasPrefix("too many failed logins for this user or address; retry in") == true)
            // Another user is not locked out by them (5 failures are under the address limit).
            #expect(try await anonymous.call(.post, "/api/v1/login", ["username": "nobody", "password": "x"]).0 == .unauthorized)
        }
    }

    @Test func anAddressGuessingManyUsersIsThrottled() {
        let throttle = LoginThrottle(limits: .init(failuresPerUser: 5, failuresPerAddress: 3, window: .seconds(60)))
        let start = ContinuousClock.now
        for user in ["a", "b", "c"] { throttle.failed(user: user, address: "10.0.0.1", now: start) }
        #expect(throttle.retryAfter(user: "d", address: "10.0.0.1", now: start) == .seconds(60))
        #expect(throttle.retryAfter(user: "d", address: "10.0.0.2", now: start) == nil)
        #expect(throttle.retryAfter(user: "d", address: "10.0.0.1", now: start + .seconds(61)) == nil)
    }

    @Test func aNewPasswordEndsTheUsersSessions() async throws {
        try await withREST { plane, _, rest in
            #expect(try await rest.call(.get, "/api/v1/api-tokens").0 == .ok)
            // The same password again (a restart) keeps the session; a new one ends it.
            try await plane.bootstrap(organization: "acme", username: "admin", password: "correct horse")
            #expect(try await rest.call(.get, "/api/v1/api-tokens").0 == .ok)
            try await plane.bootstrap(organization: "acme", username: "admin", password: "another horse")
            let (status, body) = try await rest.call(.get, "/api/v1/api-tokens")
            #expect(status == .unauthorized)
            #expect(body["error"] == "not logged in or session expired: run reshapr login")
        }
    }

    @Test(arguments: [
        ("../escape", "1", "service name:"), ("a/b", "1", "service name:"), (String(repeating: "n", count: 129), "1", "service name:"),
        ("pets", "1/../../x", "service version:"), ("pets", "1 0", "service version:"), ("pets", String(repeating: "9", count: 65), "service version:"),
    ])
    func importedNamesAndVersionsAreCheckedAtImport(name: String, version: String, message: String) async throws {
        try await withREST { _, _, rest in
            let (status, body) = try await rest.call(
                .post, "/api/v1/services", ["name": .string(name), "version": .string(version), "artifacts": [["fileName": "pets.yaml", "content": .string(Self.spec)]]])
            #expect(status == .badRequest)
            #expect(body["error"]?.stringValue?.hasPrefix(message) == true, "\(body)")
            #expect(try await rest.call(.get, "/api/v1/services").1 == [])
        }
    }
}

/// API tokens bound to a gateway group, over a real gRPC connection.
@Suite struct TokenBindingTests {
    @Test func aTokenBoundToAGroupRegistersOnlyThatGroupsGatewaysAndRendersOnlyIt() async throws {
        try await withControlPlane { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let dev = try await plane.store.createGroup(name: "dev", labels: ["env": "dev"], organization: org)
            let prod = try await plane.store.createGroup(name: "prod", labels: ["tier": "prod"], organization: org)
            _ = try await publish(plane.store, organization: org, group: dev, name: "devpets")
            _ = try await publish(plane.store, organization: org, group: prod, name: "prodpets")
            let (record, token) = try await plane.store.createToken(name: "dev-gw", days: 30, organization: org, gatewayGroupID: dev.id)
            #expect(record.gatewayGroupID == dev.id)

            // Claiming prod's labels is refused with a message naming the bound group.
            do {
                _ = try await sync.register(registration("gw-prod", labels: ["tier": "prod"]), metadata: bearer(token))
                Issue.record("a dev token registered a prod gateway")
            } catch let error as RPCError {
                #expect(error.code == .permissionDenied)
                #expect(error.message == "this API token is bound to gateway group dev (env=dev); the gateway's labels do not match it")
            }
            // Adding prod's label to dev's does not reach prod either: the gateway gets dev alone.
            let response = try await sync.register(registration("gw-dev", labels: ["env": "dev", "tier": "prod"]), metadata: bearer(token))
            #expect(response.groups.map(\.name) == ["dev"])
            let info = try #require(try await plane.registry.gateways().first { $0.gatewayID == "gw-dev" })
            let paths = try await plane.registry.render(info).files.keys.sorted()
            #expect(paths.contains { $0.hasPrefix("plans/devpets") })
            #expect(!paths.contains { $0.contains("prodpets") })

            // An unbound token keeps today's behaviour.
            let (_, unbound) = try await plane.store.createToken(name: "any", days: 30, organization: org)
            let both = try await sync.register(registration("gw-any", labels: ["env": "dev", "tier": "prod"]), metadata: bearer(unbound))
            #expect(Set(both.groups.map(\.name)) == ["dev", "prod"])
            // A group of another organization cannot be bound.
            let other = try await plane.store.organization(named: "other")
            await #expect(throws: StoreError.self) { try await plane.store.createToken(name: "x", days: 1, organization: other, gatewayGroupID: dev.id) }
        }
    }
}

/// Snapshots far past gRPC's 4 MiB default message size reach the sync whole.
@Suite struct LargeSnapshotTests {
    @Test func aSnapshotOf100MBOfArtifactsIsWrittenWhole() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try await withControlPlane { plane, _, _, grpcPort in
            let org = try await plane.store.organization(named: "acme")
            let group = try #require(try await plane.store.groups(of: org).first)
            // 20 artifacts of 5 MiB: 100 MiB in one snapshot message.
            let chunk = Data(repeating: UInt8(ascii: "x"), count: 5 << 20)
            let artifacts = (0..<20).map { (type: "OPENAPI", fileName: "part\($0).yaml", content: chunk) }
            let service = try await plane.store.createService(name: "big", version: "1", type: "REST", description: nil, artifacts: artifacts, organization: org)
            let plan = try await plane.store.createPlan(name: "big", serviceID: service.id, spec: ["backend": ["mock": true]], organization: org)
            _ = try await plane.store.createExposition(planID: plan.id, groupID: group.id, path: nil, organization: org)
            let (_, token) = try await plane.store.createToken(name: "gw", days: 1, organization: org)
            let configuration = try SyncConfiguration.from(environment: [
                "RESHAPR_CTRL_HOST": "127.0.0.1", "RESHAPR_CTRL_PORT": "\(grpcPort)", "RESHAPR_CTRL_TLS_PLAINTEXT": "true", "RESHAPR_CTRL_TOKEN": token,
                "RESHAPR_GATEWAY_ID": "gw-big", "RESHAPR_GATEWAY_LABELS": "env=dev,team=reshapr",
            ])
            var logger = Logger(label: "test.sync")
            logger.logLevel = .warning
            try await SyncAgent(configuration: configuration, directory: dir.path, logger: logger).runOnce()
            var total = 0
            for index in 0..<20 {
                let path = dir.path + "/services/big-1/part\(index).yaml"
                total += (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            }
            #expect(total == 100 << 20)
        }
    }
}

/// Password hashing moved to BoringSSL's PBKDF2: the same answers as before, so stored hashes stay valid.
@Suite struct PasswordHashTests {
    /// PBKDF2-HMAC-SHA256 with one 32-byte block, as the control plane computed it before.
    static func reference(password: String, salt: Data, iterations: Int) -> Data {
        let key = SymmetricKey(data: Data(password.utf8))
        var u = Data(HMAC<SHA256>.authenticationCode(for: salt + [0, 0, 0, 1], using: key))
        var result = u
        for _ in 1..<iterations {
            u = Data(HMAC<SHA256>.authenticationCode(for: u, using: key))
            for i in 0..<result.count { result[i] ^= u[i] }
        }
        return result
    }

    @Test func matchesRFC7914AndThePreviousImplementation() throws {
        let vector = try Secrets.pbkdf2(password: "passwd", salt: Data("salt".utf8), iterations: 1)
        #expect(vector.map { String(format: "%02x", $0) }.joined() == "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc")
        for (password, salt) in [("correct horse", "0123456789abcdef"), ("", "s"), ("pâsswörd 🔑", "another salt")] {
            #expect(try Secrets.pbkdf2(password: password, salt: Data(salt.utf8), iterations: 1_000) == Self.reference(password: password, salt: Data(salt.utf8), iterations: 1_000))
        }
    }
}
