import Foundation
import SlipwayInference

// libFuzzer target for the model loader: every input must load or be rejected with an InferenceError; a crash,
// hang or runaway allocation is a bug. Build with scripts/fuzz.sh (`-sanitize=fuzzer -DFUZZING`), where main
// hands over to libFuzzer's driver. Without FUZZING the target is a reproducer: `SlipwayLoaderFuzzer FILE…`
// loads each file and prints the outcome.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    do {
        let model = try ModelLoader.load(bytes: bytes)
        _ = InferenceSession(model: model)
    } catch is InferenceError {
        // Rejected with a clear error: the expected outcome for malformed input.
    } catch {
        fatalError("loader threw a non-InferenceError: \(error)")
    }
    return 0
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt
#endif

@main
struct LoaderFuzzerMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runFuzzerDriver(&argc, &argv, { fuzzLoader($0, $1) }))
        #else
        for path in CommandLine.arguments.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                continue
            }
            do {
                let model = try ModelLoader.load(data: data)
                print("\(path): loaded (\(model.operatorCounts.count) operators)")
            } catch {
                print("\(path): rejected: \(error)")
            }
        }
        #endif
    }
}
