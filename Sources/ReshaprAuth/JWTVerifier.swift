import Foundation
import JWTKit
import ReshaprJSON

/// Where the verification keys come from.
public enum JWKSSource: Sendable, Hashable {
    /// A JWKS document already read (from the plan's `jwksFile`).
    case document(String)
    /// A JWKS fetched over HTTP(S), cached, refreshed on expiry and on an unknown key id.
    case url(String)
}

/// What a JWT must satisfy besides its signature.
public struct JWTPolicy: Sendable, Hashable {
    public var issuer: String
    /// The token's `aud` must contain at least one of these.
    public var audiences: [String]
    /// Allowed `alg` header values; only RS256 and ES256 are supported.
    public var algorithms: [String]
    /// Clock skew tolerated on `exp` and `nbf`.
    public var leeway: TimeInterval
    /// False only with `disableAudienceValidation`: `aud` is not checked.
    public var checksAudience: Bool

    public static let supportedAlgorithms = ["RS256", "ES256"]

    public init(issuer: String, audiences: [String], algorithms: [String] = [], leeway: TimeInterval = 60, checksAudience: Bool = true) {
        self.issuer = issuer
        self.audiences = audiences
        self.checksAudience = checksAudience
        self.algorithms = algorithms.isEmpty ? Self.supportedAlgorithms : algorithms
        self.leeway = leeway
    }
}

/// Why a bearer token was refused. `description` is safe to return to the caller: it never
/// contains the token or key material.
public enum JWTVerificationError: Error, Sendable, Hashable, CustomStringConvertible {
    case malformed(String)
    case algorithmNotAllowed(String, allowed: [String])
    case badSignature
    case expired
    case notYetValid
    case missingExpiry
    case wrongIssuer(String)
    case wrongAudience([String])
    /// The keys could not be loaded: a server-side problem, not the caller's.
    case keysUnavailable(String)

    public var description: String {
        switch self {
        case .malformed(let reason): return "malformed token: \(reason)"
        case .algorithmNotAllowed(let alg, let allowed):
            return "token algorithm \(alg) is not allowed (allowed: \(allowed.joined(separator: ", ")))"
        case .badSignature: return "token signature does not verify against the issuer's keys"
        case .expired: return "token has expired"
        case .notYetValid: return "token is not valid yet (nbf)"
        case .missingExpiry: return "token has no exp claim"
        case .wrongIssuer(let issuer): return "token issuer \(issuer) is not the expected issuer"
        case .wrongAudience(let audiences):
            return audiences.isEmpty ? "token has no aud claim" : "token audience \(audiences.joined(separator: ", ")) is not accepted here"
        case .keysUnavailable(let reason): return "cannot check tokens now: \(reason)"
        }
    }

    /// True when the fault is the server's (keys unavailable), so the answer is 503, not 401.
    public var isServerSide: Bool {
        if case .keysUnavailable = self { return true }
        return false
    }
}

/// The claims a verified token carries that the gateway uses.
public struct VerifiedToken: Sendable, Hashable {
    public var subject: String?
    public var issuer: String
    public var expiresAt: Date
    /// OAuth2 scopes granted: the `scope` claim (space-separated) and the `scp` claim.
    public var scopes: Set<String> = []
    /// RFC 8707 resource indicators the token names (its `resource` claim).
    public var resources: [String] = []
}

/// Fetches a URL's body; the gateway passes its HTTP client.
public typealias JWKSFetcher = @Sendable (_ url: String) async throws -> [UInt8]

/// Verifies JWT bearer tokens (RS256, ES256) against a JWKS: signature, algorithm, issuer,
/// audience, expiry and not-before. The keys come from a `JWKSKeyStore`, which endpoints with
/// the same JWKS share (each endpoint has its own audience, but one issuer's keys are fetched once).
public struct JWTVerifier: Sendable {
    public let policy: JWTPolicy
    public let keys: JWKSKeyStore

    public var source: JWKSSource { keys.source }

    public init(policy: JWTPolicy, keys: JWKSKeyStore) {
        self.policy = policy
        self.keys = keys
    }

    /// A verifier with its own key store; see ``JWKSKeyStore/init(source:fetch:refreshInterval:minimumRefetch:)``.
    public init(
        policy: JWTPolicy, source: JWKSSource, fetch: JWKSFetcher? = nil, refreshInterval: Duration = .seconds(300),
        minimumRefetch: Duration = .seconds(30)
    ) {
        self.init(policy: policy, keys: JWKSKeyStore(source: source, fetch: fetch, refreshInterval: refreshInterval, minimumRefetch: minimumRefetch))
    }

    /// Why a JWKS document cannot verify RS256/ES256 tokens, or nil when it can.
    public static func problem(inDocument text: String) -> String? {
        do {
            _ = try signatureKeys(Array(text.utf8))
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// The JWKS reduced to the keys that can verify RS256/ES256 signatures. Other keys
    /// (symmetric, encryption-only, other curves) are dropped here: jwt-kit refuses a whole set
    /// that contains a key type it does not know.
    static func signatureKeys(_ bytes: [UInt8]) throws -> JWKS {
        let document: JSONValue
        do {
            document = try JSONParser.parse(bytes)
        } catch {
            throw JWKSLoadError(reason: "not a JWKS document (\(error))")
        }
        guard let keys = document["keys"]?.arrayValue else { throw JWKSLoadError(reason: "not a JWKS document (no keys array)") }
        let usable = keys.filter { key in
            if let use = key["use"]?.stringValue, use != "sig" { return false }
            if let alg = key["alg"]?.stringValue, !JWTPolicy.supportedAlgorithms.contains(alg) { return false }
            switch key["kty"]?.stringValue {
            case "RSA"?: return key["n"]?.stringValue != nil && key["e"]?.stringValue != nil
            case "EC"?: return key["crv"]?.stringValue == "P-256" && key["x"]?.stringValue != nil && key["y"]?.stringValue != nil
            default: return false
            }
        }
        guard !usable.isEmpty else { throw JWKSLoadError(reason: "the JWKS has no RSA or P-256 signature key") }
        do {
            return try JSONDecoder().decode(JWKS.self, from: Data(JSONValue.object(["keys": .array(usable)]).serialized().utf8))
        } catch {
            throw JWKSLoadError(reason: "the JWKS keys cannot be read (\(describe(error)))")
        }
    }

    /// Checks a token (the part after `Bearer `); returns its claims or the reason it is refused.
    public func verify(_ token: String) async throws(JWTVerificationError) -> VerifiedToken {
        let header = try Self.header(of: token)
        guard let alg = header.alg else { throw .malformed("header has no alg") }
        guard policy.algorithms.contains(alg) else { throw .algorithmNotAllowed(alg, allowed: policy.algorithms) }
        let loaded = try await keys.current(needing: header.kid)
        let claims: Claims
        do {
            claims = try await loaded.collection.verify(token, as: Claims.self)
        } catch let error as JWTError where error.errorType == .malformedToken {
            throw .malformed(error.reason ?? "cannot be decoded")
        } catch let error as DecodingError {
            throw .malformed("claims cannot be decoded (\(Self.describe(error)))")
        } catch {
            throw .badSignature
        }
        return try check(claims, now: Date())
    }

    func check(_ claims: Claims, now: Date) throws(JWTVerificationError) -> VerifiedToken {
        guard let exp = claims.exp?.value else { throw .missingExpiry }
        guard exp.addingTimeInterval(policy.leeway) > now else { throw .expired }
        if let nbf = claims.nbf?.value, nbf.addingTimeInterval(-policy.leeway) > now { throw .notYetValid }
        guard let issuer = claims.iss?.value, issuer == policy.issuer else { throw .wrongIssuer(claims.iss?.value ?? "(none)") }
        let audiences = claims.aud?.value ?? []
        guard !policy.checksAudience || audiences.contains(where: policy.audiences.contains) else { throw .wrongAudience(audiences) }
        var scopes = Set((claims.scope ?? "").split(separator: " ").map(String.init))
        scopes.formUnion(claims.scp?.values ?? [])
        return VerifiedToken(subject: claims.sub?.value, issuer: issuer, expiresAt: exp, scopes: scopes, resources: claims.resource?.values ?? [])
    }

    // MARK: - Token parts

    struct Header: Decodable {
        var alg: String?
        var kid: String?
    }

    static func header(of token: String) throws(JWTVerificationError) -> Header {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("expected three dot-separated parts, found \(parts.count)") }
        guard let bytes = Base64.decode(String(parts[0]), alphabet: .standardOrURL) else { throw .malformed("header is not base64url") }
        do {
            return try JSONDecoder().decode(Header.self, from: Data(bytes))
        } catch {
            throw .malformed("header is not a JSON object")
        }
    }

    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// The keys of one JWKS. From a URL they are cached for `refreshInterval` and fetched again
/// early when a token names an unknown key id (at most every `minimumRefetch`); concurrent
/// verifications share one fetch, and a failed fetch keeps the previous keys.
public actor JWKSKeyStore {
    public nonisolated let source: JWKSSource
    private let fetch: JWKSFetcher?
    private let refreshInterval: Duration
    private let minimumRefetch: Duration
    private var keys: LoadedKeys?
    private var loading: Task<LoadedKeys, any Error>?
    private var lastAttempt: ContinuousClock.Instant?

    struct LoadedKeys: Sendable {
        var collection: JWTKeyCollection
        var kids: Set<String>
        var loadedAt: ContinuousClock.Instant
    }

    /// Keys are loaded at the first verification; check a JWKS document beforehand with
    /// ``JWTVerifier/problem(inDocument:)``.
    public init(source: JWKSSource, fetch: JWKSFetcher? = nil, refreshInterval: Duration = .seconds(300), minimumRefetch: Duration = .seconds(30)) {
        self.source = source
        self.fetch = fetch
        self.refreshInterval = refreshInterval
        self.minimumRefetch = minimumRefetch
    }

    func current(needing kid: String?) async throws(JWTVerificationError) -> LoadedKeys {
        guard case .url(let url) = source else {
            if let keys { return keys }
            guard case .document(let text) = source else { throw .keysUnavailable("no keys") }
            do {
                let loaded = try await Self.load(Array(text.utf8))
                keys = loaded
                return loaded
            } catch {
                throw .keysUnavailable("\(error)")
            }
        }
        let now = ContinuousClock.now
        if let keys {
            let fresh = now - keys.loadedAt < refreshInterval
            let knowsKid = kid.map { keys.kids.contains($0) } ?? true
            let mayRefetch = lastAttempt.map { now - $0 >= minimumRefetch } ?? true
            if (fresh && knowsKid) || !mayRefetch { return keys }
        }
        do {
            let loaded = try await refresh(url)
            keys = loaded
            return loaded
        } catch {
            // A failed refresh keeps serving with the keys we had.
            if let keys { return keys }
            throw .keysUnavailable("JWKS \(url) could not be loaded: \(error)")
        }
    }

    private func refresh(_ url: String) async throws -> LoadedKeys {
        if let loading { return try await loading.value }
        guard let fetch else { throw JWTVerificationError.keysUnavailable("no HTTP client to fetch \(url)") }
        lastAttempt = .now
        let task = Task { try await Self.load(try await fetch(url)) }
        loading = task
        defer { loading = nil }
        return try await task.value
    }

    /// Parses a JWKS, keeping the RS256/ES256-capable signature keys; a key without `kid`
    /// gets a positional one so that a single-key set needs none.
    private static func load(_ bytes: [UInt8]) async throws -> LoadedKeys {
        let jwks = try JWTVerifier.signatureKeys(bytes)
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        var rejected: [String] = []
        for (index, var key) in jwks.keys.enumerated() {
            if key.keyIdentifier == nil { key.keyIdentifier = JWKIdentifier(string: "#\(index)") }
            let kid = key.keyIdentifier?.string ?? "#\(index)"
            do {
                try await collection.add(jwk: key)
                kids.insert(kid)
            } catch {
                rejected.append("\(kid): \(error)")
            }
        }
        guard !kids.isEmpty else {
            throw JWKSLoadError(reason: rejected.isEmpty ? "the JWKS has no keys" : "no usable key (\(rejected.joined(separator: "; ")))")
        }
        return LoadedKeys(collection: collection, kids: kids, loadedAt: .now)
    }
}

struct JWKSLoadError: Error, CustomStringConvertible {
    var reason: String
    var description: String { reason }
}

/// The registered claims the verifier checks; the checks are made by `JWTVerifier.check`
/// after the signature, so that each refusal gets its own message.
struct Claims: JWTPayload {
    var iss: IssuerClaim?
    var sub: SubjectClaim?
    var aud: AudienceClaim?
    var exp: ExpirationClaim?
    var nbf: NotBeforeClaim?
    var scope: String?
    var scp: StringOrList?
    var resource: StringOrList?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A claim that is a string or an array of strings (`scp`, `resource`).
struct StringOrList: Codable, Sendable {
    var values: [String]

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let one = try? container.decode(String.self) {
            values = one.split(separator: " ").map(String.init)
        } else {
            values = try container.decode([String].self)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
}
