import Hummingbird

/// Routes requests whose path is an MCP endpoint to the MCP server; everything else goes on.
/// `resolve` gives the endpoint's own path for a path it answers at (an alias), which its
/// sessions and notifications belong to.
public struct MCPMiddleware<Context: RemoteAddressRequestContext>: RouterMiddleware {
    let server: MCPServer
    let resolve: @Sendable (String) -> (path: String, provider: any MCPToolProvider)?

    public init(server: MCPServer, resolve: @escaping @Sendable (String) -> (path: String, provider: any MCPToolProvider)?) {
        self.server = server
        self.resolve = resolve
    }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let (path, provider) = resolve(MCPServer.endpointPath(request.uri.path)) else { return try await next(request, context) }
        return await server.handle(request, path: path, provider: provider, remoteAddress: context.remoteAddress?.ipAddress)
    }
}
