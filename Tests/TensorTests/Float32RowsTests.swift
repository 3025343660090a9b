import XCTest
import Foundation
@testable import Tensor

/// `Tensor.float32Rows` fills each row exactly once, whatever the thread count and however
/// the rows split into blocks.
final class Float32RowsTests: XCTestCase {
    func testEveryRowWrittenOnceOnAnyThreadCount() throws {
        let saved = Tensor.threads
        defer { Tensor.setThreads(saved) }
        for threads in [1, 2, 3] {
            Tensor.setThreads(threads)
            for (rows, cols) in [(0, 3), (1, 1), (255, 7), (257, 3), (5000, 13)] {
                let counter = UnsafeMutablePointer<Int>.allocate(capacity: max(rows, 1))
                counter.initialize(repeating: 0, count: max(rows, 1))
                defer { counter.deallocate() }
                let lock = NSLock()
                let t = try Tensor.float32Rows(rows, cols) { range, p in
                    for r in range {
                        for j in 0..<cols { p[(r - range.lowerBound) * cols + j] = Float(r * 1000 + j) }
                    }
                    lock.lock(); for r in range { counter[r] += 1 }; lock.unlock()
                }
                XCTAssertEqual(t.shape, [rows, cols])
                XCTAssertEqual(t.toFloats(), (0..<rows).flatMap { r in (0..<cols).map { Float(r * 1000 + $0) } })
                for r in 0..<rows { XCTAssertEqual(counter[r], 1, "row \(r) at \(threads) threads") }
            }
        }
    }
}
