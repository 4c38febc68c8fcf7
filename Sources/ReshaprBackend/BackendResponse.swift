import Foundation

/// What the backend (or the mock) answered.
public struct BackendResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of the header `name`, matched without regard to ASCII case.
    public func header(_ name: String) -> String? {
        headers.first { Self.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// The media type without parameters, lowercased: `application/json`.
    public var mediaType: String? {
        guard let value = header("Content-Type") else { return nil }
        let type = value.utf8.prefix { $0 != UInt8(ascii: ";") }
        let trimmed = type.drop { $0 == 0x20 || $0 == 0x09 }.reversed().drop { $0 == 0x20 || $0 == 0x09 }.reversed()
        return String(decoding: trimmed.map(Self.lowercased), as: UTF8.self)
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
    }

    private static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && zip(a.utf8, b.utf8).allSatisfy { lowercased($0) == lowercased($1) }
    }
}

/// Why a backend call produced no response. Messages are written for the model that made the call.
public enum BackendFailure: Error, Sendable, CustomStringConvertible {
    case unreachable(String)
    case timeout(Duration)
    case responseTooLarge(limit: Int)
    case credentials(String)
    case cancelled

    public var description: String {
        switch self {
        case .unreachable(let reason): return "the backend could not be reached: \(reason)"
        case .timeout(let duration): return "the backend did not answer within \(duration)"
        case .responseTooLarge(let limit): return "the backend response exceeds \(limit) bytes"
        case .credentials(let reason): return "could not obtain backend credentials: \(reason)"
        case .cancelled: return "the call was cancelled"
        }
    }
}
