import Foundation
import TestSupport
import Testing

@testable import ReshaprFuzzing

/// Every input a fuzzer ever crashed on (`Fuzz/regressions/<target>/`), and every seed, replayed
/// through its target: a regression traps and fails this test process.
@Suite struct FuzzRegressionTests {
    /// Runs a target on a thread of its own, as libFuzzer does: the `mcp` target waits for a
    /// task, which must not hold one of the (few) threads of Swift's cooperative pool.
    static func run(_ target: FuzzTarget, _ input: [UInt8]) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread {
                target.run(input)
                done.resume()
            }.start()
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func committedCrashInputsNoLongerCrash(target: FuzzTarget) async throws {
        let folder = Repository.root + "/Fuzz/regressions/" + target.rawValue
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names.sorted() where !name.hasPrefix(".") {
            let input = try #require(FileManager.default.contents(atPath: folder + "/" + name))
            await Self.run(target, Array(input))
        }
    }

    @Test func everySeedRunsThroughItsTarget() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let corpus = (Repository.openAPICorpus as NSString).deletingLastPathComponent
        let counts = try FuzzSeeds.write(to: dir.path, corpus: corpus, samples: Repository.samples)
        for target in FuzzTarget.allCases {
            #expect((counts[target] ?? 0) > 0, "no seed for \(target)")
            let folder = dir.path + "/" + target.rawValue
            for name in try FileManager.default.contentsOfDirectory(atPath: folder).sorted() {
                let input = try #require(FileManager.default.contents(atPath: folder + "/" + name))
                // The openapi seeds are whole Twilio descriptions: a prefix keeps the test short.
                await Self.run(target, Array(input.prefix(target == .openapi ? 200_000 : input.count)))
            }
        }
    }

    @Test func theMCPTargetReachesTheSampleEndpoints() {
        let harness = FuzzTarget.mcpHarness
        #expect(harness?.paths.count == 3)
        #expect(harness?.sessions.count == 9)
    }
}
