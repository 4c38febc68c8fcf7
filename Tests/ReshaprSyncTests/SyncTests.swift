import Foundation
import ReshaprConfig
import Synchronization
import TestSupport
import Testing

@testable import ReshaprSync

@Suite struct SyncConfigurationTests {
    let base = ["RESHAPR_CTRL_HOST": "ctrl.internal", "RESHAPR_CTRL_TOKEN": "rsh_x", "RESHAPR_GATEWAY_ID": "gw-1"]

    @Test func readsTheGuideVariablesWithDefaults() throws {
        let configuration = try SyncConfiguration.from(environment: base.merging(["RESHAPR_GATEWAY_LABELS": "env=qa, team=pets"]) { $1 })
        #expect(configuration.addresses == [.init(host: "ctrl.internal", port: 5555)])
        #expect(!configuration.plaintext)
        #expect(configuration.fqdns == ["localhost"])
        #expect(configuration.labels == ["env": "qa", "team": "pets"])
        let overridden = try SyncConfiguration.from(environment: base, overrides: ["RESHAPR_CTRL_PORT": "7000", "RESHAPR_CTRL_TLS_PLAINTEXT": "true"])
        #expect(overridden.addresses == [.init(host: "ctrl.internal", port: 7000)])
        #expect(overridden.plaintext)
    }

    @Test func severalReplicasAreTriedInTurn() throws {
        let configuration = try SyncConfiguration.from(
            environment: base, overrides: ["RESHAPR_CTRL_HOST": "ctrl-a, ctrl-b:6000,[fd00::1]:7000,[fd00::2]", "RESHAPR_CTRL_PORT": "5000"])
        #expect(
            configuration.addresses == [
                .init(host: "ctrl-a", port: 5000), .init(host: "ctrl-b", port: 6000), .init(host: "fd00::1", port: 7000), .init(host: "fd00::2", port: 5000),
            ])
        for bad in ["ctrl-a,ctrl-b:http", "ctrl:0", "[fd00::1", "[fd00::1]x", ",,", "a/b"] {
            #expect(throws: SyncConfiguration.Problem.self, "\(bad)") {
                try SyncConfiguration.from(environment: base, overrides: ["RESHAPR_CTRL_HOST": bad])
            }
        }
    }

    @Test func badSettingsNameTheVariable() {
        let cases = [
            ("RESHAPR_CTRL_HOST", "", "RESHAPR_CTRL_HOST: is required"),
            ("RESHAPR_CTRL_PORT", "http", "RESHAPR_CTRL_PORT: must be a port number between 1 and 65535, got \"http\""),
            ("RESHAPR_CTRL_TLS_PLAINTEXT", "maybe", "RESHAPR_CTRL_TLS_PLAINTEXT: must be true or false, got \"maybe\""),
            ("RESHAPR_GATEWAY_LABELS", "env", "RESHAPR_GATEWAY_LABELS: expected key=value pairs separated by commas, got \"env\""),
            ("RESHAPR_CTRL_TOKEN", "", "RESHAPR_CTRL_TOKEN: is required"),
        ]
        for (variable, value, message) in cases {
            var environment = base
            environment[variable] = value
            do {
                _ = try SyncConfiguration.from(environment: environment)
                Issue.record("\(variable)=\(value) was accepted")
            } catch {
                #expect(error.description == message)
            }
        }
    }
}

@Suite struct AtomicDirectoryWriterTests {
    func files(_ revision: Int) -> [String: Data] {
        [
            "services/api-1/service.json": Data(#"{"apiVersion": "reshapr.io/v1", "kind": "Service", "metadata": {"name": "api"}, "spec": {"version": "1", "type": "REST", "artifacts": [{"type": "OPENAPI", "path": "openapi.json"}]}}"#.utf8),
            "services/api-1/openapi.json": Data(#"{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}"#.utf8),
            "plans/api.json": Data(#"{"apiVersion": "reshapr.io/v1", "kind": "ConfigurationPlan", "metadata": {"name": "api"}, "spec": {"service": {"name": "api", "version": "1"}, "backend": {"mock": true}, "description": "revision \#(revision)"}}"#.utf8),
            "expositions/e\(revision % 2).json": Data(#"{"apiVersion": "reshapr.io/v1", "kind": "Exposition", "metadata": {"name": "e"}, "spec": {"plan": "api"}}"#.utf8),
        ]
    }

    @Test func publishesTheKubernetesLayoutTheGatewayLoads() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = AtomicDirectoryWriter(root: dir.path)
        try writer.publish(files(1), revision: 1)
        try writer.publish(files(2), revision: 2)
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(names.filter { !$0.hasPrefix("..") } == ["expositions", "plans", "services"])
        try writer.publish(files(3), revision: 3)
        try writer.publish(files(4), revision: 4)
        let after = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect(after.filter { $0.hasPrefix("..") && $0 != "..data" }.count == 3, "the current revision and the two previous ones remain: \(after)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir.path + "/plans") == "..data/plans")
        #expect(writer.currentFiles() == files(4))
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.issues.isEmpty, "\(configuration.issues)")
        #expect(configuration.expositions.count == 1)
        #expect(configuration.expositions.first?.plan.description == "revision 4")
    }

    @Test func aWriterKilledMidWriteLeavesALoadableDirectory() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = AtomicDirectoryWriter(root: dir.path)
        try writer.publish(files(1), revision: 1)
        // What a SIGKILL before the swap leaves: a half-written revision and a stray temporary link.
        try dir.write("..2_99999999999999/plans/api.json", "{\"apiVersion\": \"reshapr.io/v1\", \"kind\": \"Configur")
        try dir.symlink("..data_tmp", to: "..2_99999999999999")
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.isValid, "\(configuration.issues)")
        #expect(configuration.expositions.first?.plan.description == "revision 1")
        // The next publish replaces the stray link; old folders go in later publishes.
        try writer.publish(files(3), revision: 3)
        #expect(try ConfigLoader(root: dir.path).load().expositions.first?.plan.description == "revision 3")
    }

    @Test func refusesPathsThatLeaveOrHide() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = AtomicDirectoryWriter(root: dir.path)
        for bad in ["../x.json", "/etc/x.json", "a/../../x.json", ".hidden.json", "a//b.json", ""] {
            #expect(throws: WriteError.self) { try writer.publish([bad: Data("x".utf8)], revision: 1) }
        }
        try dir.write("plans", "a file where the sync wants a link")
        #expect(throws: WriteError.self) { try writer.publish(files(1), revision: 1) }
    }

    @Test func aReaderNeverSeesHalfARevision() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let writer = AtomicDirectoryWriter(root: dir.path)
        try writer.publish(files(0), revision: 0)
        let shared = RaceState()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var revision: Int64 = 1
                // A change every 10 ms: far more often than a control plane changes.
                while revision < 100 {
                    try? writer.publish(self.files(Int(revision)), revision: revision)
                    revision += 1
                    try? await Task.sleep(for: .milliseconds(10))
                }
                shared.stop.store(true, ordering: .relaxed)
            }
            group.addTask {
                while !shared.stop.load(ordering: .relaxed) {
                    guard let configuration = try? ConfigLoader(root: dir.path).load() else { continue }
                    // Valid, and one revision only: the exposition file name and the plan agree.
                    let exposition = configuration.expositions.first
                    let revision = Int(exposition?.plan.description?.dropFirst("revision ".count) ?? "") ?? -1
                    if !configuration.isValid || configuration.expositions.count != 1
                        || exposition?.exposition.source.file != "expositions/e\(revision % 2).json"
                    {
                        shared.problems.withLock { $0.append("\(configuration.errors) \(String(describing: exposition?.exposition.source))") }
                    }
                }
            }
        }
        #expect(shared.problems.withLock { $0 }.isEmpty)
    }
}

/// Shared by the writer and the reader of the race test.
final class RaceState: Sendable {
    let stop = Atomic<Bool>(false)
    let problems = Mutex<[String]>([])
}
