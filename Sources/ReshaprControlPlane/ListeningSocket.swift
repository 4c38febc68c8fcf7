import Foundation

/// A TCP socket bound and listening with a backlog of our choosing, for the gRPC server.
///
/// grpc-swift-nio-transport binds with SwiftNIO's default backlog of 128: thousands of syncs
/// reconnecting together (after a control-plane restart) overflow it, the kernel drops their
/// SYNs, and they wait for TCP's retransmission timers (1, 3, 7 s…). The transport takes a
/// socket that is already listening, so the backlog is set here.
enum ListeningSocket {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Pending connections the kernel queues before the server accepts them (Linux caps it at
    /// `net.core.somaxconn`, 4096 by default).
    static let backlog: Int32 = 4096

    /// A listening socket on `host` (an IPv4 or IPv6 literal, or `localhost`) and `port`.
    static func make(host: String, port: Int) throws(Failure) -> Int32 {
        guard (0...65535).contains(port) else { throw Failure(description: "port \(port) is out of range") }
        var v4 = in_addr()
        var v6 = in6_addr()
        let literal = host == "localhost" ? "127.0.0.1" : host
        let family: Int32
        if inet_pton(AF_INET, literal, &v4) == 1 {
            family = AF_INET
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            family = AF_INET6
        } else {
            throw Failure(description: "the listen host \(host) is not an IP address")
        }
        let descriptor = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "cannot create a socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if family == AF_INET {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr = v4
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        } else {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.sin6_addr = v6
            bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot listen on \(host):\(port): \(reason)")
        }
        return descriptor
    }
}
