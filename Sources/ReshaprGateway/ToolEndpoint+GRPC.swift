import ReshaprBackend
import ReshaprJSON
import ReshaprMCP
import ReshaprProtobuf

extension ToolEndpoint {
    /// Transcodes the arguments into the request message, calls the unary method with the
    /// plan's credentials and the trace context as metadata, and answers the response message
    /// as JSON. A non-OK status is a tool error naming the status and its message.
    func callGRPC(_ method: GRPCMethodBinding, name: String, arguments: JSONObject, context: MCPCallContext) async -> CallOutcome {
        guard let transcoder = toolSet.transcoder else {
            return CallOutcome(result: .text("\(name) has no protobuf descriptors.", isError: true), outcome: .toolError, reachedBackend: false)
        }
        let request: [UInt8]
        do {
            request = try transcoder.encode(.object(arguments), as: method.inputType)
        } catch {
            return CallOutcome(
                result: Self.invalidArguments(name, "\(error)"),
                outcome: .invalidArguments, reachedBackend: false)
        }
        let answer: JSONValue
        switch exposition.plan.backend {
        case .mock:
            answer = method.mockResponse
        case .http(let http):
            let (trace, caller) = forwardedHeaders(context)
            let bytes: [UInt8]
            do {
                let credentials = try await backend.credentials(backendSecurity(context), callerHeaders: caller)
                bytes = try await backend.grpc.unary(
                    request, service: method.service, method: method.method, backend: http,
                    metadata: try BackendClient.pinnedHeaders(http) + trace + credentials,
                    timeout: min(http.timeout, callTimeout))
            } catch let failure as GRPCCallFailure {
                switch failure {
                case .cancelled:
                    return CallOutcome(result: .text("The call to \(name) was cancelled.", isError: true), outcome: .cancelled, reachedBackend: false)
                case .status(let code, _):
                    let reason = code == "UNAVAILABLE" ? "unreachable" : code == "DEADLINE_EXCEEDED" ? "timeout" : "grpc_status"
                    context.logger.info("gRPC call failed", metadata: ["endpoint": "\(exposition.path)", "tool": "\(name)", "status": "\(code)"])
                    return CallOutcome(
                        result: .text("The gRPC backend answered \(failure).", isError: true), outcome: reason == "grpc_status" ? .toolError : .backendError,
                        unauthorized: code == "UNAUTHENTICATED", backendError: reason)
                case .invalidEndpoint:
                    return CallOutcome(result: .text("Calling \(name) failed: \(failure).", isError: true), outcome: .backendError, backendError: "unreachable")
                }
            } catch let failure as BackendFailure {
                return failed(name, failure, context: context)
            } catch {
                return CallOutcome(result: .text("Calling \(name) failed: \(error).", isError: true), outcome: .backendError, backendError: "unreachable")
            }
            do {
                answer = try transcoder.decode(bytes, as: method.outputType)
            } catch {
                return CallOutcome(
                    result: .text("The gRPC backend answered a message that is not a \(method.outputType): \(error).", isError: true), outcome: .toolError,
                    backendError: "bad_response")
            }
        }
        return CallOutcome(result: .structured(answer), outcome: .ok, answer: answer)
    }
}
