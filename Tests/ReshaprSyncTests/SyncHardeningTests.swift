import Foundation
import ReshaprSyncProtocol
import TestSupport
import Testing

@testable import ReshaprSync

/// What the control plane sends is hostile too: bad items are left out, not fatal, and what is
/// written (Secrets included) is readable by its owner only.
@Suite struct SyncHardeningTests {
    static func file(_ path: String, _ text: String) -> Reshapr_Gateway_V1_File {
        var file = Reshapr_Gateway_V1_File()
        file.path = path
        file.content = Data(text.utf8)
        file.sha256 = Reshapr_Gateway_V1_File.sha256Hex(file.content)
        return file
    }

    @Test func oneBadPathDoesNotStallTheRestOfTheSnapshot() throws {
        var event = Reshapr_Gateway_V1_ConfigurationEvent()
        event.revision = 3
        event.snapshot.files = [
            Self.file("ok.yaml", "a"), Self.file("../escape.yaml", "b"), Self.file(".hidden", "c"), Self.file("dir/ok.yaml", "d"),
            Self.file("ok.yaml/inside", "e"), Self.file(String(repeating: "a/", count: 20) + "deep", "f"),
        ]
        let outcome = try #require(try SnapshotApplier.apply(event, to: [:]))
        #expect(outcome.files.keys.sorted() == ["dir/ok.yaml", "ok.yaml"])
        #expect(outcome.refused == ["../escape.yaml", ".hidden", String(repeating: "a/", count: 20) + "deep", "ok.yaml/inside"])
    }

    @Test func aCorruptFileFailsTheEventAndChangesNothing() throws {
        var corrupt = Self.file("a.yaml", "x")
        corrupt.sha256 = String(repeating: "0", count: 64)
        var event = Reshapr_Gateway_V1_ConfigurationEvent()
        event.change.upserts = [corrupt]
        #expect(throws: (any Error).self) { try SnapshotApplier.apply(event, to: ["b.yaml": Data()]) }
    }

    @Test func filesAreWrittenForTheirOwnerOnly() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let root = dir.path + "/config"
        try AtomicDirectoryWriter(root: root).publish(["secrets/creds.yaml": Data("token".utf8)], revision: 1)
        func mode(_ path: String) throws -> Int {
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            return (attributes[.posixPermissions] as? Int ?? -1) & 0o777
        }
        let revision = try FileManager.default.destinationOfSymbolicLink(atPath: root + "/..data")
        #expect(try mode(root) == 0o700)
        #expect(try mode(root + "/" + revision) == 0o700)
        #expect(try mode(root + "/" + revision + "/secrets") == 0o700)
        #expect(try mode(root + "/" + revision + "/secrets/creds.yaml") == 0o600)
    }
}
