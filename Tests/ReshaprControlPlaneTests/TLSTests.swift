import Foundation
import GRPCCore
import ReshaprSyncProtocol
import TestSupport
import Testing

@testable import ReshaprControlPlane

/// A plan that uses a secret, exposed in the default group.
func publishWithSecret(_ store: Store, organization: Organization) async throws {
    let group = try #require(try await store.groups(of: organization).first)
    _ = try await store.createSecret(name: "creds", data: ["token": "s3cret-value"], organization: organization)
    let spec = "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
    let service = try await store.createService(
        name: "api", version: "1", type: "REST", description: nil, artifacts: [("OPENAPI", "openapi.yaml", Data(spec.utf8))], organization: organization)
    let plan = try await store.createPlan(
        name: "api", serviceID: service.id,
        spec: ["backend": ["endpoint": "https://api.internal"], "backendSecurity": ["type": "bearer", "secretRef": ["name": "creds", "key": "token"]]],
        organization: organization)
    _ = try await store.createExposition(planID: plan.id, groupID: group.id, path: nil, organization: organization)
}

@Suite struct TLSTests {
    @Test func gatewaysConnectOverTLSAndReceiveSecretsOnlyThere() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let tls = try await selfSignedCertificate(in: dir)
        try await withControlPlane(tls: tls) { plane, sync, _ in
            let org = try await plane.store.organization(named: "acme")
            try await publishWithSecret(plane.store, organization: org)
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let session = try await sync.register(registration("gw-tls"), metadata: bearer(token)).sessionID
            let log = EventLog()
            let stream = watch(sync, session: session, token: token, into: log)
            let files = try await log.waitFor(1).first?.snapshot.files ?? []
            let secret = try #require(files.first { $0.path == "secrets/creds.json" })
            #expect(String(decoding: secret.content, as: UTF8.self).contains("s3cret-value"))
            stream.cancel()
        }
        try await withControlPlane { plane, sync, _ in
            let org = try await plane.store.organization(named: "acme")
            try await publishWithSecret(plane.store, organization: org)
            let (_, token) = try await plane.store.createToken(name: "gw", days: 30, organization: org)
            let session = try await sync.register(registration("gw-plain"), metadata: bearer(token)).sessionID
            let log = EventLog()
            let stream = watch(sync, session: session, token: token, into: log)
            let files = try await log.waitFor(1).first?.snapshot.files ?? []
            #expect(files.contains { $0.path == "plans/api.json" })
            #expect(!files.contains { $0.path.hasPrefix("secrets/") }, "no secret over plaintext")
            stream.cancel()
        }
    }
}
