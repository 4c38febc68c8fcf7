import CryptoExtras
import Foundation
import JWTKit

/// An issuer for tests: an RSA (RS256) and a P-256 (ES256) key pair, the JWKS that publishes
/// them, and tokens signed with either, with whatever claims a test needs.
public struct TokenMint: Sendable {
    public struct Claims: JWTPayload {
        public var iss: String?
        public var sub: String?
        public var aud: [String]?
        public var exp: Int?
        public var nbf: Int?
        /// OAuth2 scopes, space-separated.
        public var scope: String?
        /// RFC 8707 resource indicators.
        public var resource: [String]?

        public func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    public let issuer: String
    public let keys: JWTKeyCollection
    public let jwks: String

    public init(issuer: String = "https://idp.example.test") async throws {
        self.issuer = issuer
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let ec = ES256PrivateKey()
        keys = JWTKeyCollection()
        await keys.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa-1")
        await keys.add(ecdsa: ec, kid: "ec-1")
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        guard let (x, y) = ec.publicKey.parameters else { throw MintError.noParameters }
        jwks = """
            {"keys":[{"kty":"RSA","kid":"rsa-1","use":"sig","alg":"RS256","n":"\(modulus.base64URL)","e":"\(exponent.base64URL)"},\
            {"kty":"EC","kid":"ec-1","use":"sig","crv":"P-256","x":"\(x)","y":"\(y)"}]}
            """
    }

    enum MintError: Error { case noParameters }

    /// A token valid for `lifetime` seconds (negative: already expired) for `audience`.
    public func token(
        audience: String?, subject: String = "agent-1", lifetime: Int = 300, kid: String = "rsa-1", issuer: String? = nil, notBefore: Int? = nil,
        scope: String? = nil, resource: [String]? = nil
    ) async throws -> String {
        let now = Int(Date().timeIntervalSince1970)
        let claims = Claims(
            iss: issuer ?? self.issuer, sub: subject, aud: audience.map { [$0] }, exp: now + lifetime, nbf: notBefore.map { now + $0 }, scope: scope,
            resource: resource)
        return try await keys.sign(claims, kid: JWKIdentifier(string: kid))
    }
}

extension Data {
    public var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
