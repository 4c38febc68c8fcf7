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

    /// Parses RFC 3339 (`2026-01-31T12:00:00.5Z`, `...+02:00`) exactly: up to 9 fraction
    /// digits, years 1 to 9999, no floating point.
    static func parseTimestamp(_ text: String) -> (Int64, Int32)? {
        let b = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= b.count, !range.isEmpty, b[range].allSatisfy(isDigit) else { return nil }
            return b[range].reduce(0) { $0 * 10 + Int64($1 - UInt8(ascii: "0")) }
        }
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            b[13] == UInt8(ascii: ":"), b[16] == UInt8(ascii: ":"),
            let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13), let minute = number(14..<16),
            let second = number(17..<19), (1...9999).contains(year), (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if b[index] == UInt8(ascii: ".") {
            let start = index + 1
            var end = start
            while end < b.count, isDigit(b[end]) { end += 1 }
            guard (1...9).contains(end - start), let fraction = number(start..<end) else { return nil }
            nanos = fraction * Int64(pow10[9 - (end - start)])
            index = end
        }
        var offset: Int64 = 0
        guard index < b.count else { return nil }
        switch b[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard index + 1 == b.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == b.count, b[index + 3] == UInt8(ascii: ":"), let hours = number((index + 1)..<(index + 3)),
                let minutes = number((index + 4)..<(index + 6)), hours < 24, minutes < 60
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (b[index] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        let seconds = daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offset
        guard timestampSeconds.contains(seconds) else { return nil }
        return (seconds, Int32(nanos))
    }

    /// RFC 3339 in UTC with 0, 3, 6 or 9 fraction digits, as protobuf writes it.
    static func formatTimestamp(_ seconds: Int64, _ nanos: Int32) -> String? {
        guard timestampSeconds.contains(seconds), (0..<nanosPerSecond).contains(nanos) else { return nil }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civilFromDays(days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        var text = String(repeating: "0", count: max(0, 4 - String(year).count)) + "\(year)-\(two(month))-\(two(day))T"
        text += "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return text + fractionText(nanos) + "Z"
    }

    /// `.5` as `.500`: the nanoseconds in groups of 3 digits, trailing groups of zeros dropped.
    static func fractionText(_ nanos: Int32) -> String {
        guard nanos != 0 else { return "" }
        var fraction = String(nanos.magnitude)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.hasSuffix("000") { fraction.removeLast(3) }
        return "." + fraction
    }

    static let pow10: [Int32] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000]

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    static func civilFromDays(_ days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
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
        return "\(sign)\(seconds.magnitude)\(fractionText(Int32(nanos.magnitude)))s"
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
