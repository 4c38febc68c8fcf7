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

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The media type without parameters, lowercased: `application/json`.
    public var mediaType: String? {
        header("Content-Type")?.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
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
