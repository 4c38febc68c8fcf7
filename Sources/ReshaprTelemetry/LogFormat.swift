import Foundation
import Logging
import Synchronization

/// How the daemons write their logs to standard error.
public enum LogFormat: String, Sendable, CaseIterable {
    /// swift-log's human-readable lines.
    case text
    /// `key=value` pairs, one line per record (Heroku/Grafana Loki style).
    case logfmt
    /// One JSON object per line.
    case json
}

/// The logging setup shared by reshapr-gateway, reshapr-sync and reshapr-ctrl.
public enum LogSetup {
    /// Reads `--log-level` and `--log-format` (else `$RESHAPR_LOG_FORMAT`, else text); the error
    /// names the flag and the accepted values.
    public static func parse(level: String, format: String?, environment: [String: String]) throws(LogSetupError) -> (Logger.Level, LogFormat) {
        guard let parsedLevel = Logger.Level(rawValue: level) else {
            throw LogSetupError(message: "--log-level must be one of trace, debug, info, notice, warning, error, critical (got \(level))")
        }
        let formatName = format ?? environment["RESHAPR_LOG_FORMAT"] ?? "text"
        guard let parsedFormat = LogFormat(rawValue: formatName) else {
            let source = format == nil ? "RESHAPR_LOG_FORMAT" : "--log-format"
            throw LogSetupError(message: "\(source) must be one of text, logfmt, json (got \(formatName))")
        }
        return (parsedLevel, parsedFormat)
    }

    /// Bootstraps swift-log once for the process.
    public static func bootstrap(format: LogFormat, level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            switch format {
            case .text:
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            case .logfmt, .json:
                return StructuredLogHandler(label: label, format: format, level: level, sink: StandardErrorSink.shared)
            }
        }
    }
}

public struct LogSetupError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Where finished log lines go.
public protocol LogSink: Sendable {
    func write(_ line: String)
}

/// Standard error, one `write(2)` per line so that lines from threads never interleave.
public final class StandardErrorSink: LogSink {
    public static let shared = StandardErrorSink()

    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if written <= 0 { return }
                offset += written
            }
        }
    }
}

/// Writes records as logfmt or JSON lines: `ts`, `level`, `logger`, `msg`, then metadata
/// (sorted, for stable output). Values of keys that name credentials are replaced by
/// `<redacted>`, whatever the caller logged.
public struct StructuredLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let format: LogFormat
    let sink: any LogSink

    public init(label: String, format: LogFormat, level: Logger.Level, sink: any LogSink, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.sink = sink
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Key fragments whose values are never written.
    static let sensitiveKeys = ["authorization", "password", "secret", "token", "apikey", "api_key", "api-key", "cookie"]

    static func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        return sensitiveKeys.contains { lowered.contains($0) }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        var fields: [(String, String)] = [
            ("ts", Self.timestamp(Date())), ("level", event.level.rawValue), ("logger", label), ("msg", "\(event.message)"),
        ]
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            fields.append((key, Self.isSensitive(key) ? "<redacted>" : Self.flatten(value)))
        }
        sink.write(format == .json ? Self.json(fields) : Self.logfmt(fields))
    }

    static func flatten(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array(let values): return "[" + values.map(flatten).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            return "{" + dictionary.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\(flatten($0.value))" }.joined(separator: ",") + "}"
        }
    }

    static func logfmt(_ fields: [(String, String)]) -> String {
        fields.map { key, value in
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline || $0 == "\\" }
            guard needsQuotes else { return "\(key)=\(value)" }
            return "\(key)=\"\(escape(value))\""
        }.joined(separator: " ")
    }

    static func json(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\(escape($0.0))\":\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
    }

    /// JSON string escaping, also valid inside logfmt's quoted values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func timestamp(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
