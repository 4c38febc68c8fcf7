import Foundation
import NIOHTTP1
import ReshaprConfig
import ReshaprJSON
import Synchronization

/// OAuth2 client-credentials tokens, fetched on first use and kept until 30 seconds before
/// they expire; concurrent callers share one fetch.
final class OAuth2TokenCache: Sendable {
    /// Everything the token depends on, the client secret included: after a secret rotation
    /// (or with two plans sharing a client id), a token fetched with another secret is never
    /// handed out. `SecretValue` prints as `<redacted>`, so the key is safe in any dump.
    private struct Key: Hashable {
        var tokenURL: String
        var clientID: String
        var clientSecret: SecretValue
        var scopes: [String]
        var audience: String?
    }

    private struct Entry {
        var token: String
        var expires: ContinuousClock.Instant
    }

    private let entries = Mutex<[Key: Entry]>([:])
    private let pending = Mutex<[Key: Task<Entry, any Error>]>([:])
    private let client: HTTP1ConnectionPool

    init(client: HTTP1ConnectionPool) {
        self.client = client
    }

    private static func key(_ security: BackendSecurity) -> Key? {
        guard case .oauth2ClientCredentials(let url, let id, let secret, let scopes, let audience) = security else { return nil }
        return Key(tokenURL: url, clientID: id, clientSecret: secret, scopes: scopes, audience: audience)
    }

    func invalidate(_ security: BackendSecurity) {
        guard let key = Self.key(security) else { return }
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }

    func token(for security: BackendSecurity) async throws(BackendFailure) -> String {
        guard let key = Self.key(security) else { throw .credentials("not an OAuth2 configuration") }
        if let entry = entries.withLock({ $0[key] }), entry.expires > .now { return entry.token }
        let task: Task<Entry, any Error> = pending.withLock { pending in
            if let existing = pending[key] { return existing }
            let client = self.client
            let task = Task { try await Self.fetch(key, client: client) }
            pending[key] = task
            return task
        }
        do {
            let entry = try await task.value
            entries.withLock { $0[key] = entry }
            _ = pending.withLock { $0.removeValue(forKey: key) }
            return entry.token
        } catch {
            _ = pending.withLock { $0.removeValue(forKey: key) }
            throw .credentials("\(error)")
        }
    }

    private struct FetchError: Error, CustomStringConvertible {
        var description: String
    }

    /// Token lifetimes are kept within 1 s ... 1 day whatever `expires_in` says.
    static let lifetimes = 1...86_400

    private static func fetch(_ key: Key, client: HTTP1ConnectionPool) async throws -> Entry {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        headers.add(name: "Accept", value: "application/json")
        let credentials = Data("\(RequestBuilder.encode(key.clientID)):\(RequestBuilder.encode(try BackendClient.resolve(key.clientSecret)))".utf8).base64EncodedString()
        headers.add(name: "Authorization", value: "Basic " + credentials)
        var form = "grant_type=client_credentials"
        if !key.scopes.isEmpty { form += "&scope=" + RequestBuilder.encode(key.scopes.joined(separator: " ")) }
        if let audience = key.audience { form += "&audience=" + RequestBuilder.encode(audience) }
        let response = try await client.execute(
            method: .POST, target: try BackendTarget(endpoint: key.tokenURL), tls: nil, pathAndQuery: "", headers: headers, body: Array(form.utf8),
            timeout: .seconds(15), maxResponseBytes: 1 << 20)
        guard response.status == 200 else {
            throw FetchError(description: "token endpoint answered \(response.status)")
        }
        let document = try JSONParser.parse(response.body)
        guard let token = document["access_token"]?.stringValue else {
            throw FetchError(description: "token endpoint answer has no access_token")
        }
        let announced = min(max(document["expires_in"]?.intValue ?? 3600, lifetimes.lowerBound), lifetimes.upperBound)
        let lifetime = max(lifetimes.lowerBound, announced - 30)
        return Entry(token: token, expires: .now + .seconds(lifetime))
    }
}
