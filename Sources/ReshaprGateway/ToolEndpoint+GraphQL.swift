import ReshaprBackend
import ReshaprGraphQL
import ReshaprJSON
import ReshaprMCP

extension ToolEndpoint {
    /// POSTs `{query, variables, operationName}` to the backend endpoint. GraphQL `errors` make
    /// an error result with their messages; `data` is the structured content.
    func callGraphQL(_ operation: GraphQLOperation, name: String, arguments: JSONObject, context: MCPCallContext) async -> CallOutcome {
        let answer: JSONValue
        switch exposition.plan.backend {
        case .mock:
            answer = ["data": operation.mockData]
        case .http(let http):
            var variables: JSONObject = [:]
            for variable in operation.variables { variables[variable] = arguments[variable] }
            let body: JSONValue = ["query": .string(operation.document), "variables": .object(variables), "operationName": .string(operation.operationName)]
            var request = BackendRequest(
                method: "POST", pathAndQuery: "", headers: [("Content-Type", "application/json"), ("Accept", "application/graphql-response+json, application/json")],
                body: Array(body.serialized().utf8))
            let (trace, caller) = forwardedHeaders(context)
            request.headers.append(contentsOf: trace)
            let response: BackendResponse
            do {
                response = try await backend.send(
                    request, to: http, security: backendSecurity(context), callerHeaders: caller, timeout: min(http.timeout, callTimeout))
            } catch {
                return failed(name, error, context: context)
            }
            // GraphQL servers answer errors with 200 or 4xx/5xx; a JSON body with errors says more than the status.
            guard let parsed = try? JSONParser.parse(response.body), case .object = parsed, parsed["data"] != nil || parsed["errors"] != nil else {
                let result = ResultMapper.result(for: response, outputValidator: nil)
                let backendError = Self.errorReason(status: response.status) ?? "not_graphql"
                return CallOutcome(
                    result: result.isError ? result : .text("The backend did not answer a GraphQL response: " + ResultMapper.excerpt(response.body), isError: true),
                    outcome: .toolError, backendError: backendError)
            }
            answer = parsed
        }
        let errors = GraphQLResponse.errorMessages(answer)
        if !errors.isEmpty {
            var text = "The GraphQL backend answered errors: " + errors.joined(separator: "; ")
            if let data = answer["data"], data != .null { text += ". Partial data: " + data.serialized() }
            return CallOutcome(result: .text(text, isError: true), outcome: .toolError, backendError: "graphql_errors")
        }
        guard let data = answer["data"], case .object = data else {
            return CallOutcome(result: .text("The GraphQL backend answered no data.", isError: true), outcome: .toolError, backendError: "graphql_errors")
        }
        return CallOutcome(result: .structured(data), outcome: .ok, answer: data)
    }
}
