import Foundation
import Workbench
import XCTest

/// Files MLW writes are read by Python's `safetensors` and numpy, and the other way
/// round. Scripts/test installs the Python side into `.venv` (MLW_PYTHON points at it).
final class PythonInteropTests: XCTestCase {
    static var python: String? {
        if let p = ProcessInfo.processInfo.environment["MLW_PYTHON"], FileManager.default.isExecutableFile(atPath: p) { return p }
        let venv = DocsTests.root.appendingPathComponent(".venv/bin/python").path
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : nil
    }

    func runPython(_ code: String) throws -> String {
        guard let py = Self.python else { throw XCTSkip("no Python with safetensors; run Scripts/test") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: py)
        p.arguments = ["-c", code]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        if p.terminationStatus != 0 {
            let text = String(decoding: e, as: UTF8.self)
            if text.contains("No module named") && ProcessInfo.processInfo.environment["CI"] == nil {
                throw XCTSkip("Python lacks safetensors/numpy: \(text)")
            }
            XCTFail("python failed: \(text)")
        }
        return String(decoding: o, as: UTF8.self)
    }

    func testSafetensorsBothWays() throws {
        let dir = NSTemporaryDirectory() + "mlw-py-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let fromMLW = dir + "/from_mlw.safetensors", fromPy = dir + "/from_py.safetensors"
        let interp = try Workbench.makeInterpreter()
        var out = ""
        interp.output = { out += $0 }
        _ = try interp.evalREPL("""
        save_tensors("\(fromMLW)", {w: reshape(arange(6), [2, 3]), i: tensor([1, -2, 3], dtype: "int32"),
                                   b: tensor([true, false]), q: tensor([-128, 127], dtype: "int8"),
                                   u: tensor([0, 255], dtype: "uint8"), d: tensor([0.5], dtype: "float64")},
                     metadata: {source: "mlw"})
        """)
        let seen = try runPython("""
        from safetensors.numpy import load_file
        from safetensors import safe_open
        t = load_file("\(fromMLW)")
        with safe_open("\(fromMLW)", framework="numpy") as f: meta = f.metadata()
        print(t["w"].dtype, t["w"].tolist(), t["i"].tolist(), t["b"].tolist(), t["q"].tolist(), t["u"].tolist(), t["d"].dtype, meta["source"])
        """)
        XCTAssertEqual(seen, "float32 [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] [1, -2, 3] [True, False] [-128, 127] [0, 255] float64 mlw\n")

        _ = try runPython("""
        import numpy as np
        from safetensors.numpy import save_file
        save_file({"x": np.arange(12, dtype=np.float32).reshape(3, 4) / 4, "n": np.array([7, 8], dtype=np.int32)},
                  "\(fromPy)", metadata={"by": "python"})
        """)
        let v = try interp.evalREPL("""
        let back = load_tensors("\(fromPy)")
        [back.x.shape, back.x[2, 3], back.n.to_list(), back.n.dtype, back.__metadata__.by]
        """)
        XCTAssertEqual(v.repr, "[[3, 4], 2.75, [7, 8], \"int32\", \"python\"]")
    }
}
