import Foundation
import ReshaprAuth
import ReshaprConfig
import ReshaprJSON
import ReshaprMCP
import ReshaprTelemetry

/// Audit lines of plans with `audit`: one JSON object per tool call, never a credential.
extension ToolEndpoint {
    func auditLine(
        tool: String, arguments: JSONObject, call: CallOutcome, duration: Duration, context: MCPCallContext, settings: AuditSettings
    ) -> String {
        let digest = APIKey.sha256Hex(JSONValue.object(arguments).serializedBytes())
        let milliseconds = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        var line: JSONObject = [
            "time": .string(AuditLog.timestamp()),
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
