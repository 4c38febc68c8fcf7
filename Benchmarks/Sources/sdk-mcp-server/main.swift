import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import NIOCore
import Synchronization

/// The Petstore `getPetById` tool, answered with the same JSON as the gateway's mock, served by
/// the MCP Swift SDK: one `Server` and one `StatefulHTTPServerTransport` per session, as the SDK
/// documents, behind Hummingbird.
@main
struct SDKMCPServer: AsyncParsableCommand {
    @Option var host = "127.0.0.1"
    @Option var port = 7790

    static let pet: Value = [
        "id": 10, "name": "doggie", "category": ["id": 1, "name": "Dogs"], "photoUrls": ["string"], "status": "available",
        "tags": [["id": 1, "name": "string"]],
    ]

    func run() async throws {
        let sessions = Sessions()
        let router = Router()
        router.post("/mcp") { request, _ in try await sessions.handle(request) }
        router.get("/mcp") { request, _ in try await sessions.handle(request) }
        router.delete("/mcp") { request, _ in try await sessions.handle(request) }
        var logger = Logger(label: "sdk-mcp-server")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger)
        try await app.runService()
    }
}

final class Sessions: Sendable {
    private let transports = Mutex<[String: StatefulHTTPServerTransport]>([:])

    func handle(_ request: Hummingbird.Request) async throws -> Hummingbird.Response {
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let body = try await request.body.collect(upTo: 4 << 20)
        let sdkRequest = MCP.HTTPRequest(method: request.method.rawValue, headers: headers, body: Data(buffer: body), path: request.uri.path)
        let transport: StatefulHTTPServerTransport
        if let id = request.headers[HTTPField.Name("Mcp-Session-Id")!], let existing = transports.withLock({ $0[id] }) {
            transport = existing
        } else {
            transport = StatefulHTTPServerTransport()
            let server = Server(name: "sdk-petstore", version: "1.0.0", capabilities: .init(tools: .init(listChanged: true)))
            await server.withMethodHandler(ListTools.self) { _ in
                .init(tools: [Tool(name: "getPetById", description: "Find a pet by ID", inputSchema: ["type": "object", "properties": ["petId": ["type": "integer"]], "required": ["petId"]])])
            }
            await server.withMethodHandler(CallTool.self) { params in
                let text = String(decoding: try JSONEncoder().encode(SDKMCPServer.pet), as: UTF8.self)
                return try .init(content: [.text(text: text, annotations: nil, _meta: nil)], structuredContent: SDKMCPServer.pet, isError: false)
            }
            try await server.start(transport: transport)
        }
        let response = await transport.handleRequest(sdkRequest)
        if let id = response.headers.first(where: { $0.key.lowercased() == "mcp-session-id" })?.value {
            transports.withLock { $0[id] = transport }
        }
        var fields = HTTPFields()
        for (name, value) in response.headers {
            if let fieldName = HTTPField.Name(name) { fields[fieldName] = value }
        }
        let status = HTTPTypes.HTTPResponse.Status(code: response.statusCode)
        switch response {
        case .stream(let stream, _):
            return Hummingbird.Response(status: status, headers: fields, body: ResponseBody { writer in
                for try await chunk in stream { try await writer.write(ByteBuffer(bytes: chunk)) }
                try await writer.finish(nil)
            })
        case .data(let data, _):
            return Hummingbird.Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        default:
            return Hummingbird.Response(status: status, headers: fields)
        }
    }
}
