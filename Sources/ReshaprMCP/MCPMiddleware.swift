import Hummingbird

/// Routes requests whose path is an MCP endpoint to the MCP server; everything else goes on.
public struct MCPMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let server: MCPServer
    let resolve: @Sendable (String) -> (any MCPToolProvider)?

    public init(server: MCPServer, resolve: @escaping @Sendable (String) -> (any MCPToolProvider)?) {
        self.server = server
        self.resolve = resolve
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = MCPServer.endpointPath(request.uri.path)
        guard let provider = resolve(path) else { return try await next(request, context) }
        return await server.handle(request, path: path, provider: provider, remoteAddress: context.remoteAddress?.ipAddress)
    }
}
