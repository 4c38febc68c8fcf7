import Foundation
import Synchronization
import TestSupport
import Testing

@testable import ReshaprAuth

@Suite struct JWTVerifierTests {
    static let audience = "https://gw.example.test/mcp/default/petstore/1.0.0"

    func verifier(_ mint: TokenMint, algorithms: [String] = []) -> JWTVerifier {
        JWTVerifier(policy: JWTPolicy(issuer: mint.issuer, audiences: [Self.audience], algorithms: algorithms), source: .document(mint.jwks))
    }

    @Test func acceptsRS256AndES256() async throws {
        let mint = try await TokenMint()
        let verifier = verifier(mint)
        let rsa = try await verifier.verify(try await mint.token(audience: Self.audience))
        #expect(rsa.subject == "agent-1")
        let ec = try await verifier.verify(try await mint.token(audience: Self.audience, subject: "agent-2", kid: "ec-1"))
        #expect(ec.subject == "agent-2")
    }

    @Test func refusesEachBadClaimWithItsReason() async throws {
        let mint = try await TokenMint()
        let verifier = verifier(mint)
        await #expect(throws: JWTVerificationError.expired) { try await verifier.verify(try await mint.token(audience: Self.audience, lifetime: -120)) }
        await #expect(throws: JWTVerificationError.wrongAudience(["https://other.example.test"])) {
            try await verifier.verify(try await mint.token(audience: "https://other.example.test"))
        }
        await #expect(throws: JWTVerificationError.wrongIssuer("https://evil.example.test")) {
            try await verifier.verify(try await mint.token(audience: Self.audience, issuer: "https://evil.example.test"))
        }
        await #expect(throws: JWTVerificationError.notYetValid) {
            try await verifier.verify(try await mint.token(audience: Self.audience, notBefore: 600))
        }
        await #expect(throws: JWTVerificationError.wrongAudience([])) { try await verifier.verify(try await mint.token(audience: nil)) }
    }

    @Test func refusesForgedAndMalformedTokens() async throws {
        let mint = try await TokenMint()
        let other = try await TokenMint()
        let verifier = verifier(mint)
        // Same kid, same claims, signed by another key.
        await #expect(throws: JWTVerificationError.badSignature) { try await verifier.verify(try await other.token(audience: Self.audience)) }
        // A valid token whose payload was edited.
        let token = try await mint.token(audience: Self.audience)
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Data(#"{"iss":"https://idp.example.test","sub":"admin","aud":["\#(Self.audience)"],"exp":9999999999}"#.utf8).base64URL
        await #expect(throws: JWTVerificationError.badSignature) { try await verifier.verify(parts.joined(separator: ".")) }
        await #expect(throws: JWTVerificationError.malformed("expected three dot-separated parts, found 1")) { try await verifier.verify("abc") }
        // alg none and HS256 are refused before any key is looked at.
        let none = Data(#"{"alg":"none","typ":"JWT"}"#.utf8).base64URL + "." + parts[1] + "."
        await #expect(throws: JWTVerificationError.algorithmNotAllowed("none", allowed: ["RS256", "ES256"])) { try await verifier.verify(none) }
        let onlyRSA = self.verifier(mint, algorithms: ["RS256"])
        await #expect(throws: JWTVerificationError.algorithmNotAllowed("ES256", allowed: ["RS256"])) {
            try await onlyRSA.verify(try await mint.token(audience: Self.audience, kid: "ec-1"))
        }
    }

    @Test func jwksDocumentProblemsAreNamed() {
        #expect(JWTVerifier.problem(inDocument: "{") != nil)
        #expect(JWTVerifier.problem(inDocument: #"{"keys":[]}"#) == "the JWKS has no RSA or P-256 signature key")
        #expect(JWTVerifier.problem(inDocument: #"{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}"#) == "the JWKS has no RSA or P-256 signature key")
    }

    @Test func foreignKeysInTheSetAreSkipped() async throws {
        let mint = try await TokenMint()
        let mixed = mint.jwks.replacingOccurrences(of: #"{"keys":["#, with: #"{"keys":[{"kty":"oct","k":"c2VjcmV0"},{"kty":"RSA","use":"enc","n":"AQAB","e":"AQAB"},"#)
        #expect(JWTVerifier.problem(inDocument: mixed) == nil)
        let verifier = JWTVerifier(policy: JWTPolicy(issuer: mint.issuer, audiences: [Self.audience]), source: .document(mixed))
        #expect(try await verifier.verify(try await mint.token(audience: Self.audience)).subject == "agent-1")
    }

    @Test func urlKeysAreCachedAndRefetchedForUnknownKid() async throws {
        let first = try await TokenMint()
        let rotated = try await TokenMint()
        let fetches = Mutex(0)
        let served = Mutex(first.jwks)
        let verifier = JWTVerifier(
            policy: JWTPolicy(issuer: first.issuer, audiences: [Self.audience]), source: .url("https://idp.example.test/jwks"),
            fetch: { _ in
                fetches.withLock { $0 += 1 }
                return Array(served.withLock { $0 }.utf8)
            }, minimumRefetch: .zero)
        _ = try await verifier.verify(try await first.token(audience: Self.audience))
        _ = try await verifier.verify(try await first.token(audience: Self.audience))
        #expect(fetches.withLock { $0 } == 1)
        // The issuer rotates to keys with new ids: an unknown kid makes the verifier fetch again.
        served.withLock { $0 = rotated.jwks.replacingOccurrences(of: "rsa-1", with: "rsa-2") }
        _ = try await verifier.verify(try await rotated.token(audience: Self.audience, kid: "rsa-2"))
        #expect(fetches.withLock { $0 } == 2)
    }

    @Test func unreachableJWKSIsAServerSideError() async throws {
        let mint = try await TokenMint()
        let verifier = JWTVerifier(
            policy: JWTPolicy(issuer: mint.issuer, audiences: [Self.audience]), source: .url("https://idp.example.test/jwks"),
            fetch: { _ in throw URLError(.cannotConnectToHost) })
        do {
            _ = try await verifier.verify(try await mint.token(audience: Self.audience))
            Issue.record("verified without keys")
        } catch let error as JWTVerificationError {
            #expect(error.isServerSide)
            #expect(error.description.contains("https://idp.example.test/jwks"))
        }
    }

    @Test func apiKeyComparison() {
        #expect(APIKey.matches("s3cret", "s3cret"))
        #expect(!APIKey.matches("s3cres", "s3cret"))
        #expect(!APIKey.matches("s3cret-longer", "s3cret"))
        #expect(!APIKey.matches("", "s3cret"))
    }
}
