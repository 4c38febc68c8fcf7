import Logging
import Metrics
import Synchronization
import Testing

@testable import ReshaprTelemetry

final class CapturingSink: LogSink {
    private let lines = Mutex<[String]>([])

    func write(_ line: String) {
        lines.withLock { $0.append(line) }
    }

    var captured: [String] { lines.withLock { $0 } }
}

@Suite struct LogFormatTests {
    @Test func logfmtQuotesAndRedacts() {
        let sink = CapturingSink()
        var logger = Logger(label: "reshapr.test") { label in StructuredLogHandler(label: label, format: .logfmt, level: .info, sink: sink) }
        logger[metadataKey: "request_id"] = "abc123"
        logger.info("tool called", metadata: ["tool": "get pet", "Authorization": "Bearer secret-value", "apiKey": "k"])
        logger.debug("not written")
        let lines = sink.captured
        #expect(lines.count == 1)
        let line = lines[0]
        #expect(line.hasPrefix("ts="))
        #expect(line.contains(" level=info logger=reshapr.test msg=\"tool called\" "))
        #expect(line.contains("Authorization=<redacted>"))
        #expect(line.contains("apiKey=<redacted>"))
        #expect(line.contains("request_id=abc123"))
        #expect(line.contains("tool=\"get pet\""))
        #expect(!line.contains("secret-value"))
    }

    @Test func jsonLinesAreEscapedObjects() throws {
        let sink = CapturingSink()
        let logger = Logger(label: "reshapr.test") { label in StructuredLogHandler(label: label, format: .json, level: .debug, sink: sink) }
        logger.warning("line\nbreak \"quoted\"", metadata: ["path": "/mcp/a", "token": "t0k"])
        let line = try #require(sink.captured.first)
        #expect(!line.contains("\n"))
        #expect(line.contains(#""msg":"line\nbreak \"quoted\"""#))
        #expect(line.contains(#""level":"warning""#))
        #expect(line.contains(#""token":"<redacted>""#))
        #expect(line.hasPrefix("{\"ts\":\""))
        #expect(line.hasSuffix("}"))
    }

    @Test func registryRendersSwiftMetrics() {
        let metrics = MetricsRegistry()
        Counter(label: "reshapr_test_total", dimensions: [("outcome", "ok")], factory: metrics.factory).increment(by: 3)
        Timer(label: "reshapr_test_seconds", factory: metrics.factory).recordMicroseconds(300)
        let text = String(decoding: metrics.render(), as: UTF8.self)
        #expect(text.contains(#"reshapr_test_total{outcome="ok"} 3"#))
        #expect(text.contains(#"reshapr_test_seconds_bucket{le="0.0005"} 1"#))
        #expect(text.contains(#"reshapr_test_seconds_bucket{le="0.00025"} 0"#))
    }
}
