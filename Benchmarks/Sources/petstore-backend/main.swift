import ArgumentParser
import Hummingbird
import Logging
import NIOCore

/// The backend both MCP servers call in the comparison: the Petstore's `GET /pet/{petId}`,
/// answered from memory so that the backend costs as little as possible.
@main
struct PetstoreBackend: AsyncParsableCommand {
    @Option var host = "127.0.0.1"
    @Option var port = 7792

    func run() async throws {
        let router = Router()
        router.get("/api/v3/pet/:petId") { _, context -> Response in
            let id = context.parameters.get("petId", as: Int.self) ?? 0
            let body = #"{"id":\#(id),"name":"doggie","category":{"id":1,"name":"Dogs"},"photoUrls":["string"],"tags":[{"id":1,"name":"string"}],"status":"available"}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        var logger = Logger(label: "petstore-backend")
        logger.logLevel = .warning
        try await Application(router: router, configuration: .init(address: .hostname(host, port: port)), logger: logger).runService()
    }
}
