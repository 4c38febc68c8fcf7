import Foundation
import Hummingbird
import ReshaprJSON
import ReshaprTelemetry

/// Writes an audit line for every change made through the REST API (any method but GET and
/// HEAD): who (user and organization, from the session), what (method and path, with the ids
/// it names), when, and the answer's status. Logins are written by the login route, which
/// alone knows the user name. Never a request body: secrets and passwords stay out.
struct AuditMiddleware: RouterMiddleware {
    typealias Context = ControlPlaneRequestContext

    let audit: AuditLog
    let store: Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head, request.uri.path != "/api/v1/login" else { return try await next(request, context) }
        // Before the route: a logout ends the session it is asked with.
        var session: Store.Session?
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") { session = try? await store.session(String(header.dropFirst(7))) }
        let response = try await next(request, context)
        audit.write(
            Self.line(
                user: session?.username, organization: session?.organization.name, action: "\(request.method.rawValue) \(request.uri.path)",
                status: Int(response.status.code), address: context.remoteAddress?.ipAddress))
        return response
    }

    static func line(user: String?, organization: String?, action: String, status: Int, address: String?) -> String {
        let line: JSONObject = [
            "time": .string(AuditLog.timestamp()),
            "user": user.map(JSONValue.string) ?? .null,
            "organization": organization.map(JSONValue.string) ?? .null,
            "action": .string(action),
            "status": .integer(status),
            "remote": address.map(JSONValue.string) ?? .null,
        ]
        return JSONValue.object(line).serialized()
    }
}
