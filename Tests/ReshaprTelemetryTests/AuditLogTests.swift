import Foundation
import ReshaprTelemetry
import Testing

@Suite struct AuditLogTests {
    @Test func linesAreAppendedAndTheFileIsRotatedBySize() throws {
        let dir = FileManager.default.temporaryDirectory.path + "/reshapr-audit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/audit.log"
        let log = try AuditLog(path: path, maxBytes: 4096, keep: 2)
        let line = String(repeating: "x", count: 999)
        for _ in 0..<20 { log.write(line) }
        #expect(log.failedWrites == 0)
        let sizes = try [path, path + ".1", path + ".2"].map { try FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int ?? -1 }
        #expect(sizes.allSatisfy { $0 > 0 && $0 <= 4096 }, "\(sizes)")
        #expect(!FileManager.default.fileExists(atPath: path + ".3"), "two rotated files are kept")
        #expect(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").allSatisfy { $0 == line })
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        // An existing file is appended to, its size counted.
        let reopened = try AuditLog(path: path, maxBytes: 4096, keep: 2)
        reopened.write("{}")
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasSuffix(line + "\n{}\n") || (try String(contentsOfFile: path, encoding: .utf8)) == "{}\n")
    }

    @Test func aFolderThatCannotBeWrittenIsAnError() {
        #expect(throws: AuditLog.Failure.self) { try AuditLog(path: "/nonexistent-folder/audit.log") }
    }
}
