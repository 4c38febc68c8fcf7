import Foundation
import ReshaprBackend
import ReshaprJSON
import ReshaprMCP
import ReshaprOpenAPI

extension ToolEndpoint {
    /// Builds the request of an OpenAPI operation, sends it (or answers from the spec's examples
    /// with a mock backend) and maps the answer.
    func callHTTP(
        _ operation: HTTPOperation, name: String, arguments: JSONObject, outputValidator: JSONSchemaValidator?, context: MCPCallContext
    ) async -> CallOutcome {
        var request: BackendRequest
        do {
            request = try RequestBuilder.build(operation, arguments: arguments)
        } catch {
            return CallOutcome(
                result: Self.invalidArguments(name, "\(error)"),
                outcome: .invalidArguments, reachedBackend: false)
        }
        let response: BackendResponse
        switch exposition.plan.backend {
        case .mock:
            response = MockResponder.respond(to: operation)
        case .http(let http):
            let (trace, caller) = forwardedHeaders(context)
            request.headers.append(contentsOf: trace)
            do {
                response = try await backend.send(
                    request, to: http, security: backendSecurity(context), callerHeaders: caller, timeout: min(http.timeout, callTimeout))
            } catch {
                return failed(name, error, context: context)
            }
        }
        let (result, json) = ResultMapper.map(response, outputValidator: outputValidator)
        return CallOutcome(
            result: result, outcome: result.isError ? .toolError : .ok, answer: json, unauthorized: response.status == 401,
            backendError: Self.errorReason(status: response.status), backendStatus: response.status)
    }
}
