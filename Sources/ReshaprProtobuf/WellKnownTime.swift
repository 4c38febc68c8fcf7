import Foundation

/// `google.protobuf.Timestamp` and `google.protobuf.Duration` in their proto3 JSON forms,
/// within the ranges protobuf defines. Every conversion is checked: a value out of range is
/// `nil` (and so a tool error naming the field), never an arithmetic trap.
enum WellKnown {
    /// The largest magnitude of a Duration, in seconds: about 10,000 years.
    static let maxDurationSeconds: Int64 = 315_576_000_000
    /// 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59Z, in seconds since the Unix epoch.
    static let timestampSeconds: ClosedRange<Int64> = -62_135_596_800...253_402_300_799
    static let nanosPerSecond: Int32 = 1_000_000_000

    static func secondsAndNanos(_ seconds: Int64, _ nanos: Int32, into out: inout [UInt8]) {
        if seconds != 0 {
            Wire.tag(1, 0, into: &out)
            Wire.varint(UInt64(bitPattern: seconds), into: &out)
        }
        if nanos != 0 {
            Wire.tag(2, 0, into: &out)
            Wire.varint(UInt64(bitPattern: Int64(nanos)), into: &out)
        }
    }

    static func parseTimestamp(_ text: String) -> (Int64, Int32)? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        guard let date = formatter.date(from: text) ?? plain.date(from: text) else { return nil }
        let interval = date.timeIntervalSince1970
        guard let seconds = Int64(exactly: interval.rounded(.down)), timestampSeconds.contains(seconds) else { return nil }
        let nanos = Int32(exactly: ((interval - Double(seconds)) * 1e9).rounded()) ?? 0
        return nanos >= nanosPerSecond ? (seconds + 1, 0) : (seconds, max(0, nanos))
    }

    static func formatTimestamp(_ seconds: Int64, _ nanos: Int32) -> String? {
        guard timestampSeconds.contains(seconds), (0..<nanosPerSecond).contains(nanos) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = nanos == 0 ? [.withInternetDateTime] : [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9))
    }

    /// Parses `1.5s`, `-0.000000001s`, `315576000000s`: an optional sign, at most 12 digits of
    /// seconds, at most 9 of fraction, read exactly (no floating point).
    static func parseDuration(_ text: String) -> (Int64, Int32)? {
        var rest = Substring(text)
        guard rest.hasSuffix("s") else { return nil }
        rest = rest.dropLast()
        let negative = rest.hasPrefix("-")
        if negative { rest = rest.dropFirst() }
        let parts = rest.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, (1...12).contains(whole.utf8.count), whole.utf8.allSatisfy(isDigit),
            let seconds = Int64(whole), seconds <= maxDurationSeconds
        else { return nil }
        var nanos: Int32 = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...9).contains(fraction.utf8.count), fraction.utf8.allSatisfy(isDigit),
                let value = Int32(fraction + String(repeating: "0", count: 9 - fraction.utf8.count))
            else { return nil }
            nanos = value
        }
        if seconds == maxDurationSeconds, nanos != 0 { return nil }
        return negative ? (-seconds, -nanos) : (seconds, nanos)
    }

    /// The JSON form of a Duration; `nil` when out of range or when the signs of seconds and
    /// nanos disagree, as protobuf requires them to agree.
    static func formatDuration(_ seconds: Int64, _ nanos: Int32) -> String? {
        guard (-maxDurationSeconds...maxDurationSeconds).contains(seconds), nanos > -nanosPerSecond, nanos < nanosPerSecond,
            !(seconds < 0 && nanos > 0), !(seconds > 0 && nanos < 0)
        else { return nil }
        let sign = seconds < 0 || nanos < 0 ? "-" : ""
        guard nanos != 0 else { return "\(sign)\(seconds.magnitude)s" }
        var fraction = String(nanos.magnitude)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("000") { fraction.removeLast(3) }
        return "\(sign)\(seconds.magnitude).\(fraction)s"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
