import Foundation
import ReshaprFuzzing

/// The target this process fuzzes, from `RESHAPR_FUZZ_TARGET` (libFuzzer owns the arguments).
let fuzzTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["RESHAPR_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTarget(rawValue: name) else {
        FileHandle.standardError.write(Data("RESHAPR_FUZZ_TARGET must be one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    return target
}()

/// libFuzzer's callback; built with `-sanitize=fuzzer -DFUZZING` (Fuzz/run.sh).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzTarget.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

#if FUZZING
/// libFuzzer's driver, for executables that keep their own `main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`: here it hands over to libFuzzer.
@_cdecl("reshapr_fuzz_main")
func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer: `reshapr-fuzz TARGET FILE...` replays files through a target, to
/// reproduce a crash the fuzzer found; `reshapr-fuzz --seeds DIR CORPUS SAMPLES` writes the
/// starting inputs of every target.
@main struct Replay {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "--seeds", arguments.count == 4 {
            do {
                let counts = try FuzzSeeds.write(to: arguments[1], corpus: arguments[2], samples: arguments[3])
                for target in FuzzTarget.allCases { print("\(target.rawValue): \(counts[target] ?? 0) seeds") }
                return
            } catch {
                print("cannot write seeds: \(error)")
                exit(1)
            }
        }
        guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
            print("usage: reshapr-fuzz TARGET FILE... | reshapr-fuzz --seeds DIR CORPUS SAMPLES")
            print("targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
            exit(2)
        }
        for file in arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: file) else {
                print("cannot read \(file)")
                exit(1)
            }
            target.run(Array(data))
            print("\(file): ok")
        }
    }
}
#endif
