import Hummingbird
import NIOCore

/// The request context of a server with MCP endpoints: Hummingbird's basics plus the peer's
/// address, which per-client rate limits fall back on for anonymous endpoints.
public struct MCPRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
