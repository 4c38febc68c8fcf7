import Foundation
import TestSupport
import Testing

/// The first thing a new user types: `--help` on every command and subcommand of the four
/// binaries answers on standard output with exit 0, and `--version` answers too.
struct HelpTests {
    /// The subcommands a help text lists under SUBCOMMANDS.
    static func subcommands(in help: String) -> [String] {
        guard let start = help.range(of: "SUBCOMMANDS:\n") else { return [] }
        var names: [String] = []
        for line in help[start.upperBound...].split(separator: "\n", omittingEmptySubsequences: false) {
            if line.trimmingCharacters(in: .whitespaces).isEmpty { break }
            // Names start two spaces in; wrapped descriptions start further in.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { continue }
            names.append(String(name))
        }
        return names
    }

    @Test(arguments: ["reshapr", "reshapr-gateway", "reshapr-ctrl", "reshapr-sync"])
    func everyCommandAnswersHelpAndVersion(binary: String) async throws {
        let path = Repository.builtProduct(binary)
        var pending: [[String]] = [[]]
        var visited = 0
        while let command = pending.popLast() {
            let result = try await ChildProcess.run(path, command + ["--help"])
            let name = ([binary] + command).joined(separator: " ")
            #expect(result.status == 0, "\(name) --help: \(result.stderr)")
            #expect(result.stdout.contains("USAGE: \(name)"), "\(name) --help: \(result.stdout)")
            #expect(result.stderr.isEmpty, "\(name) --help wrote to standard error: \(result.stderr)")
            pending += Self.subcommands(in: result.stdout).map { command + [$0] }
            visited += 1
        }
        #expect(visited >= (binary == "reshapr" ? 20 : binary == "reshapr-gateway" ? 3 : 1))
        let version = try await ChildProcess.run(path, ["--version"])
        #expect(version.status == 0 && version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0.1.0", "\(binary): \(version.stdout)\(version.stderr)")
    }

    @Test func aCommandGroupAloneShowsItsHelpAndABadCommandIsAUsageError() async throws {
        let reshapr = Repository.builtProduct("reshapr")
        for group in [[], ["expo"], ["service"]] {
            let result = try await ChildProcess.run(reshapr, group)
            #expect(result.status == 0, "\(group): \(result.stderr)")
            #expect(result.stdout.contains("SUBCOMMANDS:"))
        }
        let bogus = try await ChildProcess.run(reshapr, ["bogus"])
        #expect(bogus.status == 2)
        #expect(bogus.stderr.contains("Unexpected argument 'bogus'"))
        let missing = try await ChildProcess.run(reshapr, ["expo", "get"])
        #expect(missing.status == 2, "\(missing.stdout)\(missing.stderr)")
    }
}
