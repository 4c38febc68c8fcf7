import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import ReshaprSyncProtocol
import Synchronization

/// N syncs against reshapr-ctrl (one process, or several replicas on one PostgreSQL database,
/// the syncs spread over them), each on its own HTTP/2 connection: Register, then Watch.
/// Measures the time until every one has its snapshot, the control plane's memory per gateway,
/// its idle CPU, and how long a change made through the REST API (of the first replica) takes
/// to reach all of them.
@main
struct SyncLoad: AsyncParsableCommand {
    @Option(help: "Directory with the release binary reshapr-ctrl.") var bin: String
    @Option(help: "The bundled samples directory.") var samples: String
    @Option(help: "Syncs (gateways) to connect.") var gateways: Int = 1000
    @Option(help: "Changes to time once all are connected.") var changes: Int = 5
    @Option(help: "The control plane's gRPC port.") var grpcPort: Int = 5598
    @Option(help: "Syncs connecting at once (0: all at once, as after a control-plane restart).") var connectConcurrency: Int = 0
    @Option(help: "The store: a postgres:// URL (default: a SQLite file in a temporary folder).") var database: String?
    @Option(help: "Control-plane replicas on that database (gRPC ports from --grpc-port on).") var replicas: Int = 1
    @Flag(help: "Register and keep the connection, without Watch: the memory of a connection alone (no change is timed).")
    var registerOnly = false
    @Option(help: "Gateways sharing one connection, as behind a bastion sync (1: each its own).") var perConnection: Int = 1

    /// When each gateway got each of its events.
    final class Arrivals: Sendable {
        let times: Mutex<[[ContinuousClock.Instant]]>
        init(_ count: Int) { times = Mutex(Array(repeating: [], count: count)) }
        let registered = Atomic<Int>(0)
        func record(_ index: Int) { times.withLock { $0[index].append(.now) } }
        func count(atLeast events: Int) -> Int { times.withLock { $0.filter { $0.count >= events }.count } }
        func latencies(event: Int, since start: ContinuousClock.Instant) -> [Double] {
            times.withLock { $0.compactMap { $0.count > event ? micros($0[event] - start) / 1000 : nil } }
        }
    }

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reshapr-sync-load-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        setenv("RESHAPR_ADMIN_PASSWORD", "benchmark-password", 1)
        guard replicas >= 1, replicas == 1 || database != nil else { throw BenchError("--replicas above 1 needs a shared --database") }
        var controlPlanes: [(process: Process, restPort: Int)] = []
        defer { for ctrl in controlPlanes { ctrl.process.terminate() } }
        for replica in 0..<replicas {
            controlPlanes.append(
                try await startProcess(
                    bin + "/reshapr-ctrl",
                    [
                        "--host", "127.0.0.1", "--grpc-port", "\(grpcPort + replica)", "--http-port", "0", "--database", database ?? dir + "/ctrl.sqlite",
                        "--organization", "bench",
                    ],
                    waitingFor: "REST API listening"))
        }
        let pids = controlPlanes.map(\.process.processIdentifier)
        let replicas = self.replicas
        do {
            let api = "http://127.0.0.1:\(controlPlanes[0].restPort)/api/v1"
            let petstore = try await publishPetstore(http, api: api, samples: samples, password: "benchmark-password")
            let (session, token) = (petstore.session, petstore.token)
            let idleMemory = pids.map(residentBytes).reduce(0, +)

            let arrivals = Arrivals(gateways)
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                let perConnection = max(1, self.perConnection)
                for first in stride(from: 0, to: gateways, by: perConnection) {
                    while connectConcurrency > 0, first - arrivals.registered.load(ordering: .relaxed) >= connectConcurrency {
                        try await Task.sleep(for: .milliseconds(1))
                    }
                    let registerOnly = self.registerOnly
                    let indices = first..<min(gateways, first + perConnection)
                    let port = grpcPort + (first / perConnection) % replicas
                    group.addTask {
                        try await Self.connection(indices, port: port, token: token, arrivals: arrivals, registerOnly: registerOnly)
                    }
                }
                // All snapshots in.
                while arrivals.count(atLeast: 1) < gateways {
                    if ContinuousClock.now - started > .seconds(120) { throw BenchError("\(arrivals.count(atLeast: 1)) of \(gateways) got a snapshot in 120 s") }
                    try await Task.sleep(for: .milliseconds(5))
                }
                let connected = micros(ContinuousClock.now - started) / 1000
                try await Task.sleep(for: .seconds(1))
                let memory = pids.map(residentBytes).reduce(0, +)
                let cpuBefore = pids.map(cpuNanoseconds).reduce(0, +)
                try await Task.sleep(for: .seconds(5))
                let idleCPU = Double(pids.map(cpuNanoseconds).reduce(0, +) - cpuBefore) / 5e9 * 100

                var latencies: [Double] = []
                for change in 0..<(registerOnly ? 0 : changes) {
                    let exclude = change % 2 == 0 ? #"["uploadFile","deletePet"]"# : #"["uploadFile"]"#
                    let start = ContinuousClock.now
                    _ = try await restJSON(
                        http, .PUT, api + "/configuration-plans/\(petstore.planID)", #"{"backend":{"mock":true},"tools":{"exclude":\#(exclude)}}"#,
                        token: session)
                    while arrivals.count(atLeast: change + 2) < gateways {
                        if ContinuousClock.now - start > .seconds(30) { throw BenchError("change \(change) reached \(arrivals.count(atLeast: change + 2)) in 30 s") }
                        try await Task.sleep(for: .milliseconds(2))
                    }
                    latencies += arrivals.latencies(event: change + 1, since: start)
                }
                let sorted = latencies.sorted()
                let report: [String: Any] = [
                    "benchmark": "syncLoad", "gateways": gateways, "replicas": replicas, "perConnection": perConnection, "store": database == nil ? "sqlite" : "postgres",
                    "allSnapshotsMs": connected,
                    "ctrlMemoryPerGatewayKB": Double(memory - idleMemory) / 1024 / Double(gateways), "ctrlIdleCPUPercent": idleCPU,
                    "changes": changes, "changeMedianMs": percentile(sorted, 0.5), "changeP99Ms": percentile(sorted, 0.99), "changeMaxMs": sorted.last ?? 0,
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
                group.cancelAll()
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    /// One connection, and the syncs of `indices` on it (one, unless several share it).
    static func connection(_ indices: Range<Int>, port: Int, token: String, arrivals: Arrivals, registerOnly: Bool) async throws {
        let transport = try HTTP2ClientTransport.Posix(target: .ipv4(host: "127.0.0.1", port: port), transportSecurity: .plaintext)
        try await withGRPCClient(transport: transport) { client in
            let sync = Reshapr_Gateway_V1_GatewaySync.Client(wrapping: client)
            try await withThrowingDiscardingTaskGroup { group in
                for index in indices {
                    group.addTask { try await gateway(index, sync: sync, token: token, arrivals: arrivals, registerOnly: registerOnly) }
                }
            }
        }
    }

    /// One gateway's sync: Register, then Watch until cancelled.
    static func gateway(
        _ index: Int, sync: Reshapr_Gateway_V1_GatewaySync.Client<HTTP2ClientTransport.Posix>, token: String, arrivals: Arrivals, registerOnly: Bool
    ) async throws {
        var request = Reshapr_Gateway_V1_RegisterRequest()
        request.gatewayID = "load-\(index)"
        request.labels = ["env": "dev", "team": "reshapr"]
        let metadata: Metadata = ["authorization": "Bearer \(token)"]
        let registered = try await sync.register(request, metadata: metadata)
        arrivals.registered.wrappingAdd(1, ordering: .relaxed)
        if registerOnly {
            arrivals.record(index)
            try await Task.sleep(for: .seconds(3600))
        }
        var watch = Reshapr_Gateway_V1_WatchRequest()
        watch.sessionID = registered.sessionID
        try await sync.watch(watch, metadata: metadata) { response in
            for try await _ in response.messages { arrivals.record(index) }
        }
    }
}
