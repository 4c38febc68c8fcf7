import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ReshaprJSON
import Synchronization
import TestSupport
import Testing

@testable import ReshaprBackend
@testable import ReshaprConfig

/// A backend on 127.0.0.1 whose answers are chosen by the request path's last segment, to drive
/// the pool through keep-alive, close, chunked and close-delimited answers, hang-ups and silence.
final class ScriptedBackend: Sendable {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    private final class ConnectionCounter: Sendable {
        let value = Atomic<Int>(0)
    }

    /// `tls`: serve HTTPS with this certificate and key (PEM files).
    init(tls: (certificatePath: String, keyPath: String)? = nil) async throws {
        let connections = ConnectionCounter()
        let sslContext = try tls.map { tls in
            try NIOSSLContext(
                configuration: .makeServerConfiguration(
                    certificateChain: try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { .certificate($0) },
                    privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyPath, format: .pem))))
        }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let index = connections.value.wrappingAdd(1, ordering: .relaxed).newValue
                    if let sslContext { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext)) }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(connection: index))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func stop() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let connection: Int
        var requests = 0
        var head: HTTPRequestHead?
        var body = ""

        init(connection: Int) {
            self.connection = connection
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                self.head = head
                body = ""
            case .body(let chunk):
                body += String(buffer: chunk)
            case .end:
                guard let head else { return }
                requests += 1
                answer(head, context: context)
            }
        }

        func answer(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
            let name = head.uri.split(separator: "?").first?.split(separator: "/").last.map(String.init) ?? ""
            func send(_ text: String, version: HTTPVersion = .http1_1, headers extra: [(String, String)] = [], length: Bool = true) {
                var headers = HTTPHeaders(extra)
                if length { headers.add(name: "Content-Length", value: String(text.utf8.count)) }
                headers.add(name: "Content-Type", value: "application/json")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
            switch name {
            case "echo":
                let echo: JSONValue = [
                    "method": .string(head.method.rawValue), "uri": .string(head.uri), "host": .string(head.headers["Host"].first ?? ""),
                    "contentLength": .string(head.headers["Content-Length"].first ?? "none"), "body": .string(body),
                    "connection": .integer(connection),
                ]
                send(echo.serialized())
            case "chunked":
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok))), promise: nil)
                for part in ["[1,", "2,", "3]"] { context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: part)))), promise: nil) }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case "close":
                send(#"{"closing":true}"#, headers: [("Connection", "close")])
                context.close(promise: nil)
            case "eof":
                // An HTTP/1.0 answer without a length: its body ends when the connection does.
                send(#"{"eof":true}"#, version: .http1_0, length: false)
                context.close(promise: nil)
            case "drop":
                send(#"{"dropping":true}"#)
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(20)) { context.close(promise: nil) }
            case "hangup-second":
                // A backend that closes kept-alive connections as a request arrives on them.
                if requests > 1 { context.close(promise: nil) } else { send(#"{"first":true}"#) }
            case "big":
                send(String(repeating: "x", count: 100_000))
            case "slow":
                break
            default:
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: ["Content-Length": "0"]))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

@Suite struct HTTP1ConnectionPoolTests {
    let pool = HTTP1ConnectionPool()

    func call(
        _ backend: ScriptedBackend, _ path: String, method: HTTPMethod = .GET, body: String? = nil, base: String = "",
        timeout: Duration = .seconds(30), limit: Int = 1 << 20
    ) async throws(BackendFailure) -> BackendResponse {
        try await pool.execute(
            method: method, target: try BackendTarget(endpoint: "http://127.0.0.1:\(backend.port)\(base)"), tls: nil, pathAndQuery: path,
            headers: [:], body: body.map { Array($0.utf8) }, timeout: timeout, maxResponseBytes: limit)
    }

    func echo(_ response: BackendResponse) throws -> JSONValue {
        try JSONParser.parse(response.body)
    }

    @Test func keptAliveConnectionsAreReused() async throws {
        let backend = try await ScriptedBackend()
        var seen: Set<Int> = []
        for _ in 0..<5 {
            let answer = try echo(try await call(backend, "/echo?x=1", base: "/base/"))
            #expect(answer["uri"] == "/base/echo?x=1")
            #expect(answer["host"] == .string("127.0.0.1:\(backend.port)"))
            seen.insert(answer["connection"]?.intValue ?? 0)
        }
        #expect(seen.count == 1)
        await pool.shutdown()
        await backend.stop()
    }

    @Test func bodiesCarryTheirLength() async throws {
        let backend = try await ScriptedBackend()
        let posted = try echo(try await call(backend, "/echo", method: .POST, body: #"{"a":1}"#))
        #expect(posted["method"] == "POST")
        #expect(posted["contentLength"] == "7")
        #expect(posted["body"] == #"{"a":1}"#)
        let empty = try echo(try await call(backend, "/echo", method: .POST))
        #expect(empty["contentLength"] == "0")
        let get = try echo(try await call(backend, "/echo"))
        #expect(get["contentLength"] == "none")
        await pool.shutdown()
        await backend.stop()
    }

    @Test func chunkedCloseDelimitedAndClosingAnswers() async throws {
        let backend = try await ScriptedBackend()
        #expect(String(decoding: try await call(backend, "/chunked").body, as: UTF8.self) == "[1,2,3]")
        #expect(String(decoding: try await call(backend, "/eof").body, as: UTF8.self) == #"{"eof":true}"#)
        let afterEOF = try echo(try await call(backend, "/echo"))["connection"]?.intValue
        #expect(String(decoding: try await call(backend, "/close").body, as: UTF8.self) == #"{"closing":true}"#)
        let afterClose = try echo(try await call(backend, "/echo"))["connection"]?.intValue
        #expect(afterEOF != afterClose, "a connection the backend closed is not reused")
        await pool.shutdown()
        await backend.stop()
    }

    @Test func aConnectionTheBackendDropsWhileIdleIsNotUsed() async throws {
        let backend = try await ScriptedBackend()
        _ = try await call(backend, "/drop")
        try await Task.sleep(for: .milliseconds(100))
        let answer = try echo(try await call(backend, "/echo"))
        #expect(answer["connection"] == 2)
        await pool.shutdown()
        await backend.stop()
    }

    @Test func aHangUpOnAReusedConnectionIsRetriedWhenReplayable() async throws {
        let backend = try await ScriptedBackend()
        _ = try await call(backend, "/hangup-second")
        let retried = try await call(backend, "/hangup-second")
        #expect(String(decoding: retried.body, as: UTF8.self) == #"{"first":true}"#, "a GET is sent again on a new connection")
        await pool.shutdown()
        await backend.stop()
    }

    @Test func aHangUpOnAReusedConnectionFailsAPost() async throws {
        let backend = try await ScriptedBackend()
        _ = try await call(backend, "/hangup-second", method: .POST, body: "{}")
        await #expect {
            _ = try await call(backend, "/hangup-second", method: .POST, body: "{}")
        } throws: { error in
            "\(error)".contains("closed the connection before answering")
        }
        await pool.shutdown()
        await backend.stop()
    }

    @Test func timeoutsLimitsAndRefusals() async throws {
        let backend = try await ScriptedBackend()
        await #expect {
            _ = try await call(backend, "/slow", timeout: .milliseconds(200))
        } throws: { error in
            if case BackendFailure.timeout(.milliseconds(200)) = error { return true }
            return false
        }
        await #expect {
            _ = try await call(backend, "/big", limit: 1000)
        } throws: { error in
            if case BackendFailure.responseTooLarge(limit: 1000) = error { return true }
            return false
        }
        // The pool still answers after those.
        #expect(try echo(try await call(backend, "/echo"))["method"] == "GET")
        await backend.stop()
        // A port held by a socket that does not listen: connecting is refused, and no other
        // test's server can take the port meanwhile.
        let held = try HeldPort()
        defer { held.close() }
        let port = held.port
        await #expect {
            _ = try await pool.execute(
                method: .GET, target: try BackendTarget(endpoint: "http://127.0.0.1:\(port)"), tls: nil, pathAndQuery: "/echo", headers: [:], body: nil,
                timeout: .seconds(30), maxResponseBytes: 1000)
        } throws: { error in
            "\(error)".contains("connection refused")
        }
        await pool.shutdown()
    }

    @Test func cancellingTheCallingTaskEndsTheCall() async throws {
        let backend = try await ScriptedBackend()
        let task = Task { try await call(backend, "/slow", timeout: .seconds(30)) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        await #expect {
            _ = try await task.value
        } throws: { error in
            if case BackendFailure.cancelled = error { return true }
            return false
        }
        await pool.shutdown()
        await backend.stop()
    }

    @Test func httpsBackendsAreVerifiedAgainstTheirCA() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let certificate = try await selfSignedCertificate(in: dir)
        let backend = try await ScriptedBackend(tls: certificate)
        let ca = try String(contentsOfFile: certificate.certificatePath, encoding: .utf8)
        func call(_ host: String, _ tls: TLSSettings?) async throws(BackendFailure) -> JSONValue {
            let response = try await pool.execute(
                method: .GET, target: try BackendTarget(endpoint: "https://\(host):\(backend.port)"), tls: tls, pathAndQuery: "/echo", headers: [:],
                body: nil, timeout: .seconds(30), maxResponseBytes: 1 << 20)
            return (try? JSONParser.parse(response.body)) ?? .null
        }
        #expect(try await call("localhost", TLSSettings(caPEM: ca, insecureSkipVerify: false))["method"] == "GET")
        #expect(try await call("127.0.0.1", TLSSettings(caPEM: ca, insecureSkipVerify: false))["host"] == .string("127.0.0.1:\(backend.port)"))
        #expect(try await call("127.0.0.1", TLSSettings(caPEM: nil, insecureSkipVerify: true))["method"] == "GET")
        await #expect {
            _ = try await call("localhost", nil)
        } throws: { error in
            "\(error)".contains("TLS failed")
        }
        await pool.shutdown()
        await backend.stop()
    }

    @Test func endpointsAreParsed() throws {
        let plain = try BackendTarget(endpoint: "http://api.internal/v1/")
        #expect(plain.host == "api.internal" && plain.port == 80 && plain.basePath == "/v1" && !plain.usesTLS && plain.hostHeader == "api.internal")
        let tls = try BackendTarget(endpoint: "https://api.internal:8443")
        #expect(tls.port == 8443 && tls.usesTLS && tls.basePath == "" && tls.hostHeader == "api.internal:8443")
        let v6 = try BackendTarget(endpoint: "http://[::1]:9000/x")
        #expect(v6.host == "::1" && v6.port == 9000 && v6.hostHeader == "[::1]:9000")
        for bad in ["ftp://x", "http://user:pw@x/", "http://x:0", "http://x:99999", "http://", "http://[::1"] {
            #expect(throws: BackendFailure.self, "\(bad)") { try BackendTarget(endpoint: bad) }
        }
    }
}
