import Foundation
import ReshaprBackend
import ReshaprJSON
import ReshaprMCP

/// Turns a backend answer into an MCP tool result.
enum ResultMapper {
    static let excerptLength = 2000
    static let maxImageBytes = 5 << 20

    static func result(for response: BackendResponse, outputValidator: JSONSchemaValidator?) -> MCPToolResult {
        map(response, outputValidator: outputValidator).result
    }

    /// The MCP result of a backend answer, and its canonical JSON when it is a successful JSON
    /// answer (what output filters work on).
    static func map(_ response: BackendResponse, outputValidator: JSONSchemaValidator?) -> (result: MCPToolResult, json: JSONValue?) {
        let result = plainResult(for: response, outputValidator: outputValidator)
        guard !result.isError else { return (result, nil) }
        if let structured = result.structuredContent { return (result, structured) }
        guard (200..<300).contains(response.status), response.mediaType?.hasSuffix("json") == true, let value = try? JSONParser.parse(response.body) else {
            return (result, nil)
        }
        return (result, value)
    }

    private static func plainResult(for response: BackendResponse, outputValidator: JSONSchemaValidator?) -> MCPToolResult {
        let status = response.status
        let reason = HTTPStatusText.text(for: status)
        guard (200..<300).contains(status) else {
            var text = "The backend answered \(status) \(reason)"
            if (300..<400).contains(status), let location = response.header("Location") { text += " (redirect to \(location), not followed)" }
            let body = excerpt(response.body)
            if !body.isEmpty { text += ": " + body }
            return .text(text, isError: true)
        }
        if response.body.isEmpty { return .text("\(status) \(reason)") }
        let mediaType = response.mediaType ?? "application/octet-stream"
        if mediaType.hasSuffix("json"), let value = try? JSONParser.parse(response.body) {
            guard case .object = value else { return .text(value.serialized()) }
            if let outputValidator {
                let violations = outputValidator.validate(value)
                if !violations.isEmpty {
                    let details = violations.prefix(5).map(\.description).joined(separator: "; ")
                    return .text(
                        "The backend answer does not match the documented response schema (\(details)). Answer: " + excerpt(response.body),
                        isError: true)
                }
            }
            // The text block repeats the answer for clients without structured output: the backend's own JSON text, not re-serialized.
            return MCPToolResult(content: [["type": "text", "text": .string(String(decoding: response.body, as: UTF8.self))]], structuredContent: value)
        }
        if mediaType.hasPrefix("image/") {
            guard response.body.count <= maxImageBytes else { return .text("The backend answered an image of \(response.body.count) bytes, too large to return.") }
            return MCPToolResult(content: [["type": "image", "data": .string(Data(response.body).base64EncodedString()), "mimeType": .string(mediaType)]])
        }
        if let text = String(validating: response.body, as: UTF8.self) {
            return .text(text)
        }
        return .text("The backend answered \(response.body.count) bytes of \(mediaType), which cannot be shown as text.")
    }

    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(excerptLength * 4), as: UTF8.self)
        return text.count > excerptLength ? String(text.prefix(excerptLength)) + "…" : text
    }
}

/// Reason phrases for messages.
enum HTTPStatusText {
    static func text(for status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 301: return "Moved Permanently"
        case 302: return "Found"
        case 304: return "Not Modified"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return ""
        }
    }
}
