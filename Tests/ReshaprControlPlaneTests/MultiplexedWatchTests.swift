import Foundation
import GRPCCore
import ReshaprSyncProtocol
import Testing

@testable import ReshaprControlPlane

/// A bastion sync serving several gateways: many Watch streams on one HTTP/2 connection. With
/// HTTP/2's default limit of 100 concurrent streams, the 101st RPC waited forever.
@Suite struct MultiplexedWatchTests {
    @Test(arguments: [150])
    func manyWatchStreamsShareOneConnection(streams: Int) async throws {
        try await withControlPlane { plane, sync in
            let org = try await plane.store.organization(named: "acme")
            let (_, token) = try await plane.store.createToken(name: "bastion", days: 1, organization: org)
            var logs: [EventLog] = []
            var tasks: [Task<Void, Never>] = []
            for index in 0..<streams {
                let registered = try await sync.register(registration("gw-\(index)"), metadata: bearer(token))
                let log = EventLog()
                logs.append(log)
                tasks.append(watch(sync, session: registered.sessionID, token: token, into: log))
            }
            for _ in 0..<300 where logs.contains(where: { $0.all.isEmpty && $0.endError == nil }) { try await Task.sleep(for: .milliseconds(20)) }
            let snapshots = logs.filter { $0.all.count >= 1 }.count
            let ended = logs.compactMap(\.endError).map { "\($0.code): \($0.message)" }
            #expect(snapshots == streams, "\(snapshots) of \(streams) streams got their snapshot; ended: \(Set(ended))")
            let group = try #require(try await plane.store.groups(of: org).first)
            try await publish(plane.store, organization: org, group: group)
            for _ in 0..<300 where logs.contains(where: { $0.all.count < 2 && $0.endError == nil }) { try await Task.sleep(for: .milliseconds(20)) }
            #expect(logs.filter { $0.all.count >= 2 }.count == streams, "\(Set(logs.compactMap(\.endError).map { "\($0.code): \($0.message)" }))")
            for task in tasks { task.cancel() }
        }
    }
}
