import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A GET of an API description file over http(s), bounded in size and time: what the CLI uses
/// to bundle remote `$ref`s and the control plane to import a description by URL.
public struct Download: Sendable {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Headers sent with every request to `host` (a credential), and to no other host.
    public var credentialHost: String?
    public var credentialHeaders: [(String, String)]
    public var maxBytes: Int
    public var timeout: TimeAmount

    public init(credentialHost: String? = nil, credentialHeaders: [(String, String)] = [], maxBytes: Int = 32 << 20, timeout: TimeAmount = .seconds(30)) {
        self.credentialHost = credentialHost
        self.credentialHeaders = credentialHeaders
        self.maxBytes = maxBytes
        self.timeout = timeout
    }

    /// The headers a reShapr secret stands for: `token` (in `tokenHeader`, else as a bearer
    /// token) or `username` and `password` (basic); `nil` when it holds neither.
    public static func credentialHeaders(fromSecret data: [String: String]) -> [(String, String)]? {
        if let token = data["token"] {
            if let header = data["tokenHeader"], !header.isEmpty { return [(header, token)] }
            return [("Authorization", "Bearer " + token)]
        }
        if let username = data["username"], let password = data["password"] {
            return [("Authorization", "Basic " + Data((username + ":" + password).utf8).base64EncodedString())]
        }
        return nil
    }

    /// The body of `url`; anything but a 2xx answer is a failure naming the status. Redirects
    /// are followed only when no credential is sent, so that a credential never goes elsewhere.
    public func get(_ url: URL) async throws(Failure) -> [UInt8] {
        guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw Failure(description: "only http and https URLs can be fetched")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: "application/json, application/yaml, text/yaml, */*")
        var sendsCredential = false
        if let credentialHost, url.host?.lowercased() == credentialHost.lowercased() {
            for (name, value) in credentialHeaders { request.headers.add(name: name, value: value) }
            sendsCredential = !credentialHeaders.isEmpty
        }
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = sendsCredential ? .disallow : .follow(max: 5, allowCycles: false)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let result: Result<[UInt8], Failure>
        do {
            let response = try await client.execute(request, timeout: timeout)
            if (200..<300).contains(response.status.code) {
                result = .success(Array(try await response.body.collect(upTo: maxBytes).readableBytesView))
            } else {
                result = .failure(Failure(description: "\(url.absoluteString) answered \(response.status.code) \(response.status.reasonPhrase)"))
            }
        } catch is NIOTooManyBytesError {
            result = .failure(Failure(description: "\(url.absoluteString) is larger than \(maxBytes >> 20) MiB"))
        } catch {
            result = .failure(Failure(description: "cannot fetch \(url.absoluteString): \(error)"))
        }
        try? await client.shutdown()
        return try result.get()
    }
}
