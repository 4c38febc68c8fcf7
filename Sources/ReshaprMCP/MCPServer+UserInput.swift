import Hummingbird
import NIOCore
import ReshaprJSON

/// Asking the user for what a tool needs (``MCPUserInput``): the multi round-trip requests of
/// 2026-07-28, and server-initiated `elicitation/create` requests on legacy sessions.
extension MCPServer {
    /// Where a modern `tools/call` stands with the input its tool needs.
    enum InputStep {
        case provided(String)
        case refused(String)
        /// The client declares no elicitation capability: it cannot be asked.
        case cannotAsk
        case ask
    }

    /// How long a legacy session's client has to answer an `elicitation/create`.
    static let elicitationTimeout = Duration.seconds(600)

    /// The answer in a modern retry's `inputResponses`, taken only with the `requestState` we
    /// sealed for this tool and caller; otherwise the user is (asked again).
    func inputStep(_ need: MCPUserInput, tool: String, params: JSONValue, meta: JSONObject, principal: String) -> InputStep {
        if let response = params["inputResponses"]?[need.key], let state = params["requestState"]?.stringValue,
            requestStates.verify(state, method: "tools/call", name: tool, principal: principal)
        {
            switch MCPUserInput.answer(response) {
            case .accepted(let value): return .provided(value)
            case .refused(let why): return .refused(why)
            case .unusable: break
            }
        }
        guard case .object? = meta[MCPMetaKey.clientCapabilities]?["elicitation"] else { return .cannotAsk }
        return .ask
    }

    /// The `InputRequiredResult` that asks for `need`.
    func inputRequired(id: JSONValue, _ need: MCPUserInput, tool: String, principal: String, provider: any MCPToolProvider) -> Response {
        let result: JSONValue = [
            "resultType": "input_required",
            "inputRequests": .object([need.key: need.elicitation]),
            "requestState": .string(requestStates.seal(method: "tools/call", name: tool, principal: principal)),
            "_meta": [MCPMetaKey.serverInfo: provider.serverInfo],
        ]
        return Self.json(JSONRPC.result(id: id, result))
    }

    static func refusedInput(_ need: MCPUserInput, tool: String, _ why: String) -> MCPToolResult {
        .text("\(tool) needs \(need.message.lowercasedFirst) from the user, who \(why) to give it. The tool was not called.", isError: true)
    }

    static func cannotAskModern(id: JSONValue, _ need: MCPUserInput, tool: String) -> Response {
        modernError(
            id: id, JSONRPCErrorCode.missingRequiredClientCapability,
            "\(tool) needs \(need.message.lowercasedFirst) from the user, and this client does not declare the elicitation capability",
            data: ["requiredCapabilities": ["elicitation": ["form": [:]]]])
    }

    /// A legacy `tools/call` whose tool needs input the session has not got yet: answered as an
    /// SSE stream that carries our `elicitation/create`, waits for the client's response (a
    /// POST of its own), then calls the tool with the answer, which the session keeps.
    func elicitThenCall(
        id: JSONValue, tool: String, need: MCPUserInput, params: JSONValue, provider: any MCPToolProvider, context: MCPCallContext, session: String
    ) -> Response {
        guard case .object? = sessions.clientCapabilities(session)?["elicitation"] else {
            let result = MCPToolResult.text(
                "\(tool) needs \(need.message.lowercasedFirst) from the user, and this client cannot ask: it declared no elicitation capability at initialize.",
                isError: true)
            return Self.json(JSONRPC.result(id: id, result.json))
        }
        let sessions = self.sessions
        return Response(
            status: .ok, headers: Self.eventStreamHeaders,
            body: ResponseBody { writer in
                let requestID = "reshapr-input-" + SessionStore.newSessionID()
                var request = need.elicitation
                if case .object(var members) = request {
                    members["jsonrpc"] = "2.0"
                    members["id"] = .string(requestID)
                    request = .object(members)
                }
                try await writer.write(SSE.event(request))
                let response = await sessions.awaitResponse(session, requestID: requestID, timeout: Self.elicitationTimeout)
                let answer: JSONValue
                switch MCPUserInput.answer(response?["result"]) {
                case .accepted(let value):
                    sessions.setUserInput(session, key: need.key, value: value)
                    var context = context
                    context.userInputs[need.key] = value
                    answer = await self.callTool(id: id, params: params, provider: provider, context: context)
                case .refused(let why):
                    answer = JSONRPC.result(id: id, Self.refusedInput(need, tool: tool, why).json)
                case .unusable:
                    let why = response == nil ? "did not answer in time" : "gave no usable answer"
                    answer = JSONRPC.result(id: id, Self.refusedInput(need, tool: tool, why).json)
                }
                try await writer.write(SSE.event(answer))
                try await writer.finish(nil)
            })
    }
}

extension String {
    /// "The API token" → "the API token", for messages that quote a configured sentence.
    var lowercasedFirst: String {
        guard let first, first.isUppercase, dropFirst().first?.isUppercase != true else { return self }
        return first.lowercased() + dropFirst()
    }
}
