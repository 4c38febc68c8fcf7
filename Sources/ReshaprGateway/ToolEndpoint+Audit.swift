import Crypto
import Foundation
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP

/// Audit lines of plans with `audit`: one JSON object per tool call, never a credential.
extension ToolEndpoint {
    func auditLine(
        tool: String, arguments: JSONObject, call: CallOutcome, duration: Duration, context: MCPCallContext, settings: AuditSettings
    ) -> String {
        let canonical = JSONValue.object(arguments).serializedBytes()
        let digest = SHA256.hash(data: canonical).map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        var line: JSONObject = [
            "time": .string(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true))),
            "endpoint": .string(exposition.path),
            "exposition": .string(exposition.name.description),
            "tool": .string(tool),
            "client": context.client.map(JSONValue.string) ?? .null,
            "outcome": .string(call.outcome.rawValue),
            "durationMs": .number((milliseconds * 1000).rounded() / 1000),
            "requestId": .string(context.requestID),
            "argumentsSha256": .string(digest),
        ]
        if let status = call.backendStatus { line["backendStatus"] = .integer(status) }
        if settings.arguments { line["arguments"] = .object(arguments) }
        return JSONValue.object(line).serialized()
    }
}
