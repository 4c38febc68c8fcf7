import Foundation

/// A value from a Secret. Its description never shows the value, so it cannot leak through
/// logs, interpolation or `/status` by accident.
///
/// A Secret's `data` value may hold references resolved on the gateway at each use, so that
/// the credential itself never leaves the gateway's environment and a rotation needs no reload:
/// `${env:NAME}` (an environment variable) and `${file:/path}` (a mounted file, its final
/// newline dropped), alone or inside a longer value (`Bearer ${env:TOKEN}`). `$${` stands for
/// a literal `${`. Files are read only under the policy's roots, and the gateway's own
/// `RESHAPR_` variables are never read, so that whoever writes a Secret (through the control
/// plane, say) cannot make the gateway send its host's files or settings to a backend.
public struct SecretValue: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    enum Piece: Sendable, Hashable {
        case literal(String)
        case environment(String)
        case file(String)
    }

    let pieces: [Piece]
    let policy: SecretReferencePolicy

    /// A value used as it is, whatever it holds (a user's answer, a file's content).
    public init(_ value: String) {
        pieces = [.literal(value)]
        policy = SecretReferencePolicy()
    }

    /// A value that may hold references; a malformed one is an error naming it.
    public init(template: String, policy: SecretReferencePolicy) throws(SecretReferenceError) {
        self.pieces = try Self.parse(template)
        self.policy = policy
    }

    public var description: String { "<redacted>" }
    public var debugDescription: String { "<redacted>" }

    /// Whether the value depends on the gateway's environment or files.
    public var hasReferences: Bool {
        pieces.contains { if case .literal = $0 { false } else { true } }
    }

    /// The value for one use, its references resolved now. Never empty: a reference that
    /// resolves to nothing is an error, not an empty credential.
    public func resolve() throws(SecretReferenceError) -> String {
        if pieces.count == 1, case .literal(let text) = pieces[0] { return text }
        var value = ""
        for piece in pieces {
            switch piece {
            case .literal(let text):
                value += text
            case .environment(let name):
                guard !name.hasPrefix("RESHAPR_") else { throw SecretReferenceError(description: "${env:\(name)}: the gateway's own RESHAPR_ variables cannot be read") }
                guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else {
                    throw SecretReferenceError(description: "environment variable \(name) is not set or empty")
                }
                value += text
            case .file(let path):
                value += try policy.read(path)
            }
        }
        return value
    }

    static func parse(_ template: String) throws(SecretReferenceError) -> [Piece] {
        var pieces: [Piece] = []
        var literal = ""
        var rest = Substring(template)
        while let start = rest.range(of: "${") {
            if rest[..<start.lowerBound].hasSuffix("$") {
                literal += rest[..<rest.index(before: start.lowerBound)] + "${"
                rest = rest[start.upperBound...]
                continue
            }
            let afterBrace = rest[start.upperBound...]
            let kind: String
            if afterBrace.hasPrefix("env:") {
                kind = "env"
            } else if afterBrace.hasPrefix("file:") {
                kind = "file"
            } else {
                literal += rest[..<start.upperBound]
                rest = afterBrace
                continue
            }
            guard let end = afterBrace.firstIndex(of: "}") else {
                throw SecretReferenceError(description: "${\(kind): has no closing }")
            }
            let argument = String(afterBrace[afterBrace.index(afterBrace.startIndex, offsetBy: kind.count + 1)..<end])
            literal += rest[..<start.lowerBound]
            if !literal.isEmpty { pieces.append(.literal(literal)) }
            literal = ""
            if kind == "env" {
                guard let first = argument.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                    argument.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) })
                else { throw SecretReferenceError(description: "${env:\(argument)}: a variable name is letters, digits and _, not starting with a digit") }
                pieces.append(.environment(argument))
            } else {
                guard argument.hasPrefix("/"), !argument.contains("\0"), !argument.split(separator: "/").contains("..") else {
                    throw SecretReferenceError(description: "${file:\(argument)}: the path must be absolute, without ..")
                }
                pieces.append(.file(argument))
            }
            rest = afterBrace[afterBrace.index(after: end)...]
        }
        literal += rest
        if !literal.isEmpty || pieces.isEmpty { pieces.append(.literal(literal)) }
        return pieces
    }
}

/// Why a secret reference cannot be used; names the variable or file, never a value.
public struct SecretReferenceError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// Where `${file:…}` references may read: under these folders only (the places container
/// platforms mount secrets, by default).
public struct SecretReferencePolicy: Sendable, Hashable {
    public var fileRoots: [String]

    public static let defaultFileRoots = ["/run/secrets", "/var/run/secrets"]

    public init(fileRoots: [String] = SecretReferencePolicy.defaultFileRoots) {
        self.fileRoots = fileRoots.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// A mounted secret file's text, its final newline dropped; at most 64 KiB.
    func read(_ path: String) throws(SecretReferenceError) -> String {
        guard fileRoots.contains(where: { !$0.isEmpty && path.hasPrefix($0 + "/") }) else {
            throw SecretReferenceError(
                description: "${file:\(path)}: files are read only under \(fileRoots.joined(separator: ", ")) (reshapr-gateway --secret-file-root)")
        }
        let bytes: [UInt8]
        do {
            bytes = try FileAccess.readAll(path, limit: 64 << 10)
        } catch {
            throw SecretReferenceError(description: "cannot read \(path): \(error)")
        }
        guard var text = String(validating: bytes, as: UTF8.self) else { throw SecretReferenceError(description: "\(path) is not UTF-8 text") }
        if text.unicodeScalars.last == "\n" {
            text.unicodeScalars.removeLast()
            if text.unicodeScalars.last == "\r" { text.unicodeScalars.removeLast() }
        }
        guard !text.isEmpty else { throw SecretReferenceError(description: "\(path) is empty") }
        return text
    }
}
