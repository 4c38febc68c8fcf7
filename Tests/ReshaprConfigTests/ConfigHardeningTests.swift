import Foundation
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprConfig

/// Values that pass a loose reading of the schemas and used to trap later (in the loader or in
/// the connection pool), or that would weaken a check.
@Suite struct ConfigHardeningTests {
    static func planWithBackend(_ backend: String) -> String {
        """
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata: {name: petstore}
        spec:
          service: {name: petstore, version: 1.0.0}
          backend: \(backend)
        """
    }

    static let outOfRange = "spec.backend.timeout: must be a duration between 1ms and 24h"
    static let malformed = "spec.backend.timeout: string \"1e400s\" does not match the pattern"

    @Test(arguments: [
        ("9999999999999999h", outOfRange), ("99999999999999999999", outOfRange), ("0.0001s", outOfRange), ("86401s", outOfRange), ("25h", outOfRange),
        ("1e400s", malformed),
    ])
    func backendTimeoutsOutOfRangeAreErrorsNamingTheField(timeout: String, message: String) throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", Self.planWithBackend("{endpoint: 'http://127.0.0.1:9/api', timeout: \(timeout)}"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("plans/petstore.yaml#1 " + message), "\(configuration.issueTexts)")
        #expect(configuration.expositions.isEmpty)
    }

    @Test func aDayIsTheLongestTimeout() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", Self.planWithBackend("{endpoint: 'http://127.0.0.1:9/api', timeout: 24h}"))
        let configuration = try load(dir)
        #expect(configuration.issues.isEmpty, "\(configuration.issueTexts)")
        guard case .http(let backend)? = configuration.expositions.first?.plan.backend else {
            Issue.record("no HTTP backend")
            return
        }
        #expect(backend.timeout == .seconds(86_400))
    }

    @Test func gatewayLimitsOutOfRangeAreErrorsAndLeaveTheDefaults() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write(
            "gateway.yaml",
            "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  limits: {callTimeout: 9999999999999999h, rateLimit: {requestsPerSecond: 1e300, burst: 99999999999}}\n")
        let configuration = try load(dir)
        #expect(configuration.hasIssue("gateway.yaml#1 spec.limits.rateLimit.requestsPerSecond: must be at most 1000000"), "\(configuration.issueTexts)")
        #expect(configuration.hasIssue("gateway.yaml#1 spec.limits.rateLimit.burst: must be at most 1000000"))
        try dir.write("gateway.yaml", "apiVersion: reshapr.io/v1\nkind: Gateway\nmetadata: {name: gw}\nspec:\n  limits: {callTimeout: 9999999999999999h}\n")
        let second = try load(dir)
        #expect(second.hasIssue("gateway.yaml#1 spec.limits.callTimeout: must be a duration between 1ms and 24h"), "\(second.issueTexts)")
        #expect(second.gateway.callTimeout == .seconds(30))
    }

    @Test(arguments: [("data: {key: ''}", "spec.data.key: a secret value must not be empty"), ("files: {key: key.txt}", "spec.files.key: key.txt is empty")])
    func emptySecretValuesAreRefused(spec: String, message: String) throws {
        for content in ["", "\n", "\r\n"] {
            let dir = try Fixture.validDirectory()
            defer { dir.remove() }
            try dir.write("key.txt", content)
            try dir.write("secret.yaml", "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: creds}\nspec: {\(spec)}\n")
            try dir.write(
                "plans/petstore.yaml",
                Fixture.plan(extra: "  clientSecurity: {type: apiKey, secretRef: {name: creds, key: key}}"))
            let configuration = try load(dir)
            #expect(configuration.hasIssue("secret.yaml#1 \(message)"), "\(configuration.issueTexts)")
            #expect(configuration.expositions.isEmpty)
        }
    }

    @Test func endpointsCarryingCredentialsAreRefusedWithoutQuotingThem() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", Self.planWithBackend("{endpoint: 'https://admin:hunter2@api.example.com/v1'}"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("plans/petstore.yaml#1 spec.backend.endpoint: must not carry credentials"), "\(configuration.issueTexts)")
        #expect(!configuration.issueTexts.joined().contains("hunter2"))
        #expect(HTTPBackend.withoutUserInfo("https://admin:hunter2@api.example.com/v1?x=@y") == "https://api.example.com/v1?x=@y")
        #expect(HTTPBackend.withoutUserInfo("http://api.example.com/a@b") == "http://api.example.com/a@b")
    }

    @Test func schemaErrorsAboutSecretsAndHeaderValuesDoNotQuoteThem() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("secret.yaml", "apiVersion: reshapr.io/v1\nkind: Secret\nmetadata: {name: creds}\nspec: {data: {token: 31415926535}}\n")
        try dir.write("plans/petstore.yaml", Self.planWithBackend("{endpoint: 'http://127.0.0.1:9/api', headers: {Authorization: 27182818284}}"))
        let configuration = try load(dir)
        #expect(configuration.hasIssue("secret.yaml#1 spec.data.token: expected string, got a number (value not shown)"), "\(configuration.issueTexts)")
        #expect(configuration.hasIssue("plans/petstore.yaml#1 spec.backend.headers.Authorization: expected string, got a number (value not shown)"))
        let all = configuration.issueTexts.joined(separator: "\n")
        #expect(!all.contains("31415926535"))
        #expect(!all.contains("27182818284"))
    }
}
