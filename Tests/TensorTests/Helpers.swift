import XCTest
@testable import Tensor

func randomFloats(_ n: Int, seed: UInt64) -> [Float] { try! Tensor.randn([n], seed: seed).toFloats() }

func randomTensor(_ shape: [Int], seed: UInt64) -> Tensor { try! Tensor.randn(shape, seed: seed) }

/// |x - y| <= atol + rtol * |y| elementwise.
func assertClose(_ x: [Float], _ y: [Double], rtol: Double = 1e-4, atol: Double = 1e-4, _ msg: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(x.count, y.count, "count " + msg, file: file, line: line)
    guard x.count == y.count else { return }
    for i in 0..<x.count {
        let a = Double(x[i]), b = y[i]
        if a.isNaN && b.isNaN { continue }
        if a == b { continue }
        if Swift.abs(a - b) > atol + rtol * Swift.abs(b) {
            XCTFail("\(msg) element \(i): \(a) vs \(b)", file: file, line: line)
            return
        }
    }
}

func assertThrows(_ expr: @autoclosure () throws -> Any, contains: String, file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try expr()
        XCTFail("expected an error containing '\(contains)'", file: file, line: line)
    } catch let e as TensorError {
        XCTAssertTrue(e.description.contains(contains), "'\(e)' does not contain '\(contains)'", file: file, line: line)
    } catch {
        XCTFail("unexpected error type \(error)", file: file, line: line)
    }
}

/// Runs `body` with the given thread count, restoring the previous setting.
func withThreads<R>(_ n: Int, _ body: () throws -> R) rethrows -> R {
    let old = Tensor.threads
    Tensor.setThreads(n)
    defer { Tensor.setThreads(old) }
    return try body()
}
