import Foundation
@testable import Lang
import Workbench
import XCTest

/// A structured program generator over the native binding tables (issue 23): every
/// native function of every library is called with an ordinary value for each parameter,
/// then once per parameter with each edge value (0, -1, Int.min, Int.max, NaN, ±inf, "",
/// a 1 MB string, [], a long list, a huge shape, {}, nil, a tiny tensor...). Every call
/// must return or raise a script error; a trap or a stack overflow kills the test process,
/// which is the failure. The set of calls is fixed (no randomness: the edge values are
/// the seed), bounded (a few thousand calls) and runs in a temporary folder with its own
/// MLW_HOME, under a step budget.
final class BindingFuzzTests: XCTestCase {
    /// Functions left out, and why: the test must not serve, spawn or change process state.
    static let skipped: [String: String] = [
        "serve": "starts an HTTP server and blocks until stopped",
        "render": "runs Graphviz's dot as a child process",
        "set_threads": "changes the process-wide kernel thread count other tests rely on",
    ]

    /// Ordinary values of the native types, as MLW source (evaluated once).
    static let nativeSamples: [String: String] = [
        "tensor": "tensor([[1.0, 2.0], [3.0, 4.0]])",
        "dataset": "dataset(tensor([[1.0, 2.0], [3.0, 4.0], [0.5, 1.5]]), tensor([0, 1, 0]))",
        "model": "sequential([dense(2, 2)])",
        "layer": "dense(2, 2)",
        "node": "input([2])",
        "optimizer": "adam()",
        "transforms": "fit_transforms(dataset(tensor([[1.0, 2.0], [3.0, 4.0]]), tensor([0, 1])), [standardize()])",
        "run": "train(sequential([dense(2, 2)]), dataset(tensor([[1.0, 2.0], [3.0, 4.0]]), tensor([0, 1])), epochs: 1)",
    ]

    func testEveryNativeWithEdgeValues() throws {
        _ = GoldenScriptTests.home
        let fm = FileManager.default
        let dir = NSTemporaryDirectory() + "mlw-binding-fuzz-\(getpid())"
        try fm.createDirectory(atPath: dir + "/home", withIntermediateDirectories: true)
        let oldDir = fm.currentDirectoryPath
        let oldHome = ProcessInfo.processInfo.environment["MLW_HOME"]
        setenv("MLW_HOME", dir + "/home", 1)
        XCTAssertTrue(fm.changeCurrentDirectoryPath(dir))
        defer {
            _ = fm.changeCurrentDirectoryPath(oldDir)
            if let oldHome { setenv("MLW_HOME", oldHome, 1) } else { unsetenv("MLW_HOME") }
            try? fm.removeItem(atPath: dir)
        }
        let (calls, returned, raised) = Workbench.onLargeStack { self.runAll() }
        // Bounded and non-trivial: thousands of calls, both outcomes seen.
        XCTAssertGreaterThan(calls, 2000)
        XCTAssertLessThan(calls, 20000)
        XCTAssertGreaterThan(returned, 100)
        XCTAssertGreaterThan(raised, 1000)
    }

    func runAll() -> (Int, Int, Int) {
        let interp = Interpreter(libraries: Workbench.libraries, stdlibDirectory: Workbench.stdlibDirectory, maxDepth: 500, stackSlots: 1 << 14)
        interp.output = { _ in }
        func eval(_ code: String) -> Value? {
            interp.stepBudget = 100_000
            return try? interp.evalREPL(code)
        }
        var samples: [String: Value] = [:]
        for (type, code) in Self.nativeSamples {
            if let v = eval(code) { samples[type] = v } else { XCTFail("sample \(type) failed: \(code)") }
        }
        let identity = eval("|x| x") ?? .nil
        let tinyTensor = samples["tensor"] ?? .nil
        let edges: [(String, Value)] = [
            ("0", .int(0)), ("-1", .int(-1)), ("Int.min", .int(.min)), ("Int.max", .int(.max)),
            ("nan", .float(.nan)), ("inf", .float(.infinity)), ("-inf", .float(-.infinity)), ("-0.0", .float(-0.0)),
            ("\"\"", .string("")), ("1 MB string", .string(String(repeating: "a", count: 1 << 20))),
            ("[]", .list([])), ("10,000-item list", .list((0..<10_000).map { .int($0) })),
            ("[1e9, 1e9]", .list([.int(1_000_000_000), .int(1_000_000_000)])), ("[-1]", .list([.int(-1)])),
            ("[nan]", .list([.float(.nan)])), ("{}", .record([])), ("nil", .nil), ("tiny tensor", tinyTensor),
            ("fn", identity),
        ]
        func ordinary(_ t: ParamType) -> Value {
            switch t {
            case .any, .int: return .int(1)
            case .float, .number: return .float(0.5)
            case .bool: return .bool(true)
            case .string: return .string("a")
            case .list: return .list([.int(1), .int(2)])
            case .record: return .record([("a", .int(1))])
            case .function: return identity
            case .native(let n): return samples[n] ?? .nil
            case .optional(let t): return ordinary(t)
            case .oneOf(let ts): return ts.first.map(ordinary) ?? .nil
            }
        }
        var calls = 0, returned = 0, raised = 0
        // MLW_FUZZ_TRACE=1 names each call on stderr before it runs: after a crash, the last line is the culprit.
        let trace = ProcessInfo.processInfo.environment["MLW_FUZZ_TRACE"] != nil
        func call(_ f: NativeFunction, _ args: [Value], _ what: String) {
            calls += 1
            if trace { fputs("\(what)\n", stderr) }
            interp.stepBudget = 20_000
            do {
                _ = try interp.call(.function(Function(native: f)), args)
                returned += 1
            } catch {
                // Any thrown error is a script error: the interpreter reports it with the call site.
                raised += 1
            }
        }
        for lib in Workbench.libraries {
            for f in lib.functions where Self.skipped[f.name] == nil {
                let base = f.params.map { p in p.defaultValue.map { isUndefined($0) ? ordinary(p.type) : $0 } ?? ordinary(p.type) }
                call(f, base, "\(f.name) ordinary")
                for (i, p) in f.params.enumerated() {
                    for (label, v) in edges {
                        var args = base
                        args[i] = v
                        call(f, args, "\(f.name)(\(p.name): \(label))")
                    }
                }
            }
        }
        return (calls, returned, raised)
    }
}
