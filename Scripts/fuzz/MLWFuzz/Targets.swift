// Coverage-guided fuzz targets for libFuzzer. One executable, the target chosen by
// MLW_FUZZ_TARGET; Scripts/fuzz/run builds it with `-sanitize=fuzzer,address -DFUZZING`
// into .build-fuzz and runs it. A target must return or throw for every input: a trap,
// an ASan report or a hang is a finding.
//
// Built without FUZZING (as `swift build` does), the same file is a replay tool:
//     MLWFuzz TARGET FILE...     runs each file through TARGET once
import Foundation
import Lang
import Frames
import JSON
import Serve
import Tensor
import Train

enum FuzzTarget: String, CaseIterable {
    case parse, interp, csv, jsonl, safetensors, mlwm, json, v2, parquet

    /// Runs one input; errors are the expected outcome for most inputs and are ignored.
    func run(_ bytes: [UInt8]) {
        switch self {
        case .parse: _ = try? FuzzHarness.parseAndResolve(bytes)
        case .interp: _ = try? FuzzHarness.interpret(bytes)
        case .csv: _ = try? FuzzHarness.viaFile(bytes, ext: "csv") { try readCSV($0) }
        case .jsonl: _ = try? FuzzHarness.viaFile(bytes, ext: "jsonl") { try readJSONL($0) }
        case .safetensors: _ = try? Safetensors.decode(bytes)
        case .mlwm: _ = try? ModelFile.decode(bytes)
        case .json: _ = try? JSONParser.parse(bytes)
        case .v2: _ = try? FuzzHarness.decodeInfer(bytes)
        case .parquet: _ = try? FuzzHarness.viaFile(bytes, ext: "parquet") { try readParquet($0) }
        }
    }
}

enum FuzzHarness {
    static let stdlibFree = coreLibraries.map { lib in
        // No file access: mutants must not read devices or scribble on disk.
        Library(lib.name, doc: lib.doc, lib.functions.filter { !["read_text", "write_text", "file_exists"].contains($0.name) })
    }

    static func source(_ bytes: [UInt8]) -> SourceFile {
        SourceFile(name: "fuzz.mlw", text: String(decoding: bytes, as: UTF8.self), path: nil)
    }

    static func parseAndResolve(_ bytes: [UInt8]) throws {
        let interp = Interpreter(libraries: stdlibFree, maxDepth: 200, stackSlots: 1 << 14)
        let program = try Parser.parse(source(bytes))
        try Resolver.resolve(program, module: ModuleScope(name: "fuzz.mlw"), builtin: interp.builtin)
    }

    /// The whole pipeline under a step budget; libFuzzer's -rss_limit_mb bounds memory.
    static func interpret(_ bytes: [UInt8]) throws {
        let interp = Interpreter(libraries: stdlibFree, maxDepth: 200, stackSlots: 1 << 14)
        interp.output = { _ in }
        interp.stepBudget = 200_000
        _ = try interp.runMain(source(bytes))
    }

    /// Readers take paths: the input goes through a file in a per-process folder.
    static func viaFile(_ bytes: [UInt8], ext: String, _ read: (String) throws -> Any) throws {
        let path = scratch + "/input." + ext
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        _ = try read(path)
    }

    static let scratch: String = {
        let dir = (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp") + "/mlw-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }()

    /// A V2 request against a model with one [batch, 4] input and one output; a first byte
    /// below 64 makes the rest a binary-extension body with that many JSON header bytes.
    static func decodeInfer(_ bytes: [UInt8]) throws {
        let input = TensorSpec(name: "x", datatype: "FP32", shape: [-1, 4])
        let output = TensorSpec(name: "y", datatype: "FP32", shape: [-1, 3])
        var body = bytes
        var header: Int?
        if let first = body.first, first < 64 { body.removeFirst(); header = Int(first) }
        try InferenceCodec.validateRequest(body, headerLength: header, input: input, outputs: [output])
    }
}

private func selectedTarget() -> FuzzTarget {
    let name = ProcessInfo.processInfo.environment["MLW_FUZZ_TARGET"] ?? ""
    guard let t = FuzzTarget(rawValue: name) else {
        let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
        FileHandle.standardError.write(Data("set MLW_FUZZ_TARGET to one of: \(names)\n".utf8))
        exit(2)
    }
    return t
}

#if FUZZING
private let selected = selectedTarget()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected.run(bytes)
    return 0
}

// SwiftPM renames an executable's entry point (MLWFuzz_main), so libFuzzer's own `main`
// cannot be used; ours hands the command line to libFuzzer's driver instead.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@main
struct Fuzz {
    static func main() {
        _ = selected
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOne(data, size) })
    }
}
#else
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        guard let name = args.first, let target = FuzzTarget(rawValue: name) else {
            let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: "|")
            print("usage: MLWFuzz \(names) FILE...")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { print("cannot read \(path)"); exit(1) }
            target.run(Array(data))
            print("ok \(path)")
        }
    }
}
#endif
