import Foundation

/// A self-signed certificate for 127.0.0.1 and localhost, made with the openssl command.
public func selfSignedCertificate(in dir: TemporaryDirectory) async throws -> (certificatePath: String, keyPath: String) {
    struct OpenSSLFailed: Error, CustomStringConvertible {
        var description: String
    }
    let cert = dir.path + "/cert.pem"
    let key = dir.path + "/key.pem"
    let result = try await ChildProcess.run(
        "/usr/bin/env",
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
    guard result.status == 0 else { throw OpenSSLFailed(description: "openssl failed: \(result.stderr)") }
    return (cert, key)
}

/// A throwaway certificate authority and two certificates it signed, made with the openssl
/// command: a server one for 127.0.0.1 and localhost, and a client one (CN=gateway) for
/// mutual TLS. Paths of PEM files in `dir`.
public struct TestPKI: Sendable {
    public var caCertificate: String
    public var serverCertificate: String
    public var serverKey: String
    public var clientCertificate: String
    public var clientKey: String

    public init(in dir: TemporaryDirectory) async throws {
        struct OpenSSLFailed: Error, CustomStringConvertible {
            var description: String
        }
        func openssl(_ arguments: [String]) async throws {
            let result = try await ChildProcess.run("/usr/bin/env", ["openssl"] + arguments)
            guard result.status == 0 else { throw OpenSSLFailed(description: "openssl \(arguments.first ?? "") failed: \(result.stderr)") }
        }
        let p = dir.path + "/pki-"
        caCertificate = p + "ca.pem"
        serverCertificate = p + "server.pem"
        serverKey = p + "server.key"
        clientCertificate = p + "client.pem"
        clientKey = p + "client.key"
        try await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p + "ca.key", "-out", caCertificate, "-days", "1", "-subj", "/CN=reshapr-test-ca"])
        _ = try dir.write("pki-server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        for (name, subject, extensions) in [("server", "/CN=localhost", ["-extfile", p + "server.ext"]), ("client", "/CN=gateway", [])] {
            try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", p + name + ".key", "-out", p + name + ".csr", "-subj", subject])
            try await openssl(
                ["x509", "-req", "-in", p + name + ".csr", "-CA", caCertificate, "-CAkey", p + "ca.key", "-CAcreateserial", "-out", p + name + ".pem", "-days", "1"]
                    + extensions)
        }
    }
}
