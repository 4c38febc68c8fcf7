import Hummingbird
import NIOCore

/// The request context of the REST API: Hummingbird's basics plus the peer's address, which
/// login throttling counts failures against.
public struct ControlPlaneRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }
}
