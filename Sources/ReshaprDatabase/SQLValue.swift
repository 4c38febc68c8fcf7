import Foundation

/// A value bound to, or read from, a SQL statement: the few types the store uses, the same on
/// SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case text(String)
    case blob(Data)
    case date(Date)
}

/// Swift values that bind as a `SQLValue`.
public protocol SQLBindable: Sendable {
    var sqlValue: SQLValue { get }
}

extension String: SQLBindable { public var sqlValue: SQLValue { .text(self) } }
extension Int64: SQLBindable { public var sqlValue: SQLValue { .integer(self) } }
extension Int: SQLBindable { public var sqlValue: SQLValue { .integer(Int64(self)) } }
extension Data: SQLBindable { public var sqlValue: SQLValue { .blob(self) } }
extension Date: SQLBindable { public var sqlValue: SQLValue { .date(self) } }
extension Bool: SQLBindable { public var sqlValue: SQLValue { .integer(self ? 1 : 0) } }
extension SQLValue: SQLBindable { public var sqlValue: SQLValue { self } }
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public var sqlValue: SQLValue { self?.sqlValue ?? .null }
}

/// A row of a result, by column name. Accessors throw `SQLError.decoding`, naming the column,
/// when a value is missing or of another type: a database edited by hand cannot crash the reader.
public struct SQLRow: Sendable {
    public var values: [String: SQLValue]

    public init(values: [String: SQLValue]) {
        self.values = values
    }

    public func string(_ column: String) throws(SQLError) -> String {
        guard let value = try optionalString(column) else { throw .decoding(column: column, expected: "text", found: "NULL") }
        return value
    }

    public func optionalString(_ column: String) throws(SQLError) -> String? {
        switch values[column] {
        case .text(let text): return text
        case .null, nil: return nil
        case .integer(let number): return String(number)
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        case .date: throw .decoding(column: column, expected: "text", found: "a timestamp")
        }
    }

    public func data(_ column: String) throws(SQLError) -> Data {
        switch values[column] {
        case .blob(let data): return data
        case .text(let text): return Data(text.utf8)
        default: throw .decoding(column: column, expected: "bytes", found: Self.kind(values[column]))
        }
    }

    public func integer(_ column: String) throws(SQLError) -> Int64 {
        switch values[column] {
        case .integer(let number): return number
        case .text(let text):
            guard let number = Int64(text) else { throw .decoding(column: column, expected: "an integer", found: "text") }
            return number
        default: throw .decoding(column: column, expected: "an integer", found: Self.kind(values[column]))
        }
    }

    public func date(_ column: String) throws(SQLError) -> Date {
        guard let date = try optionalDate(column) else { throw .decoding(column: column, expected: "a timestamp", found: "NULL") }
        return date
    }

    /// Dates are `timestamptz` on PostgreSQL and `yyyy-MM-dd HH:mm:ss.SSS` text (UTC) on SQLite.
    public func optionalDate(_ column: String) throws(SQLError) -> Date? {
        switch values[column] {
        case .date(let date): return date
        case .null, nil: return nil
        case .text(let text):
            guard let date = SQLDateText.parse(text) else { throw .decoding(column: column, expected: "a timestamp", found: "text \(text.prefix(40))") }
            return date
        case .integer(let seconds): return Date(timeIntervalSince1970: Double(seconds))
        case .blob: throw .decoding(column: column, expected: "a timestamp", found: "bytes")
        }
    }

    static func kind(_ value: SQLValue?) -> String {
        switch value {
        case .null, nil: return "NULL"
        case .integer: return "an integer"
        case .text: return "text"
        case .blob: return "bytes"
        case .date: return "a timestamp"
        }
    }
}

/// Timestamps as SQLite holds them: `yyyy-MM-dd HH:mm:ss.SSS` in UTC (the format GRDB wrote, so
/// that databases created by earlier versions read the same).
public enum SQLDateText {
    public static func format(_ date: Date) -> String {
        let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
        let whole = Date(timeIntervalSince1970: (milliseconds / 1000).rounded(.down))
        let components = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: whole)
        let fraction = Int(milliseconds.truncatingRemainder(dividingBy: 1000))
        func pad(_ value: Int?, _ width: Int) -> String {
            let text = String(value ?? 0)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(components.year, 4))-\(pad(components.month, 2))-\(pad(components.day, 2)) "
            + "\(pad(components.hour, 2)):\(pad(components.minute, 2)):\(pad(components.second, 2)).\(pad(fraction < 0 ? fraction + 1000 : fraction, 3))"
    }

    /// `yyyy-MM-dd HH:mm[:ss[.SSS]]`, a `T` allowed between date and time; `nil` otherwise.
    public static func parse(_ text: String) -> Date? {
        let scalars = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= scalars.count else { return nil }
            var value = 0
            for byte in scalars[range] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard scalars.count >= 16, let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
            let hour = number(11..<13), let minute = number(14..<16)
        else { return nil }
        var second = 0
        var nanosecond = 0
        if scalars.count >= 19 {
            guard let value = number(17..<19) else { return nil }
            second = value
            if scalars.count > 20, scalars[19] == UInt8(ascii: ".") {
                let digits = scalars[20...].prefix { (48...57).contains($0) }.prefix(9)
                var fraction = 0
                for byte in digits { fraction = fraction * 10 + Int(byte - 48) }
                for _ in digits.count..<9 { fraction *= 10 }
                nanosecond = fraction
            }
        }
        let components = DateComponents(
            calendar: .utc, timeZone: TimeZone(identifier: "UTC"), year: year, month: month, day: day, hour: hour, minute: minute,
            second: second)
        guard components.isValidDate, let date = Calendar.utc.date(from: components) else { return nil }
        return date.addingTimeInterval(Double(nanosecond) / 1e9)
    }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? calendar.timeZone
        return calendar
    }()
}

/// What went wrong with the database, worded for an operator; never holds a password.
public enum SQLError: Error, Sendable, CustomStringConvertible {
    /// A UNIQUE or FOREIGN KEY constraint refused the statement.
    case constraint(String)
    /// A column held something the reader did not expect.
    case decoding(column: String, expected: String, found: String)
    /// The database could not be reached or refused a statement.
    case failed(String)
    /// The `--database` setting is not a path nor a `postgres://` URL the store can use.
    case invalidLocation(String)

    public var description: String {
        switch self {
        case .constraint(let message): return "constraint violated: \(message)"
        case .decoding(let column, let expected, let found): return "column \(column) holds \(found), expected \(expected)"
        case .failed(let message): return message
        case .invalidLocation(let message): return message
        }
    }
}
