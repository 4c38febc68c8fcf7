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
