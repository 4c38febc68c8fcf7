/// A W3C Trace Context `traceparent` header (version 00): trace id, parent span id, flags.
public struct TraceParent: Sendable, Hashable, CustomStringConvertible {
    public var traceID: String
    public var parentID: String
    public var flags: String

    /// Parses a header value; nil when it is not a valid version-00 `traceparent`.
    public init?(_ header: String) {
        let parts = header.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16, parts[3].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isLowercaseHex) }),
            parts[1] != String(repeating: "0", count: 32), parts[2] != String(repeating: "0", count: 16),
            parts[0] != "00" || parts.count == 4
        else { return nil }
        traceID = String(parts[1])
        parentID = String(parts[2])
        flags = String(parts[3])
    }

    /// A new trace, not sampled: the gateway starts it so that the backend's logs can be joined
    /// with ours, without forcing sampling on anyone.
    public static func random() -> TraceParent {
        TraceParent(traceID: randomHex(words: 2), parentID: randomHex(words: 1), flags: "00")
    }

    init(traceID: String, parentID: String, flags: String) {
        self.traceID = traceID
        self.parentID = parentID
        self.flags = flags
    }

    public var description: String { "00-\(traceID)-\(parentID)-\(flags)" }

    /// `words` random 64-bit words in lowercase hex, none of them zero (an all-zero id is invalid).
    /// One `getrandom` per word: a byte at a time was 24 system calls per tool call.
    static func randomHex(words: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        var text: [UInt8] = []
        text.reserveCapacity(words * 16)
        for _ in 0..<words {
            var word: UInt64 = 0
            while word == 0 { word = generator.next() }
            for shift in stride(from: 60, through: 0, by: -4) {
                text.append(hexDigits[Int(truncatingIfNeeded: (word >> UInt64(shift)) & 0xF)])
            }
        }
        return String(decoding: text, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)
}

extension Character {
    fileprivate var isLowercaseHex: Bool { ("0"..."9").contains(self) || ("a"..."f").contains(self) }
}
