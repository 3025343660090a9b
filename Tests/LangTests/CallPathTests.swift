import Foundation
@testable import Lang
import XCTest

/// The direct call path (top-level functions called with positional arguments) keeps the
/// semantics of the general one: checked arithmetic, tracebacks, depth limit, Ctrl-C.
final class CallPathTests: XCTestCase {
    func interp() -> Interpreter { Interpreter(libraries: coreLibraries) }

    func run(_ text: String) throws -> Value {
        try interp().runMain(SourceFile(name: "t.mlw", text: text))
    }

    func testOverflowInRecursionHasATraceback() {
        let text = "fn f(n) = if n < 1 { 9223372036854775807 } else { f(n - 1) + 1 }\nf(2)"
        XCTAssertThrowsError(try run(text)) { e in
            guard let e = e as? MLWError else { return XCTFail("\(e)") }
            XCTAssertEqual(e.message, "integer overflow in 9223372036854775807 + 1")
            // f(0) returns the maximum; f(1) overflows adding 1; f(2) called it.
            XCTAssertEqual(e.trace.map(\.function), ["f", "f"])
            XCTAssertEqual(e.trace.map(\.span.line), [1, 2])
        }
    }

    /// Debug builds need more native stack per script call than the main thread has for
    /// 4000 of them; `mlw` runs scripts on a large stack too.
    func onLargeStack(_ body: @escaping () -> Void) {
        let done = DispatchSemaphore(value: 0)
        let thread = Thread { body(); done.signal() }
        thread.stackSize = 1 << 29
        thread.start()
        done.wait()
    }

    func testDepthLimitThroughDirectCalls() {
        onLargeStack { self.depthLimit() }
    }

    func depthLimit() {
        XCTAssertThrowsError(try run("fn d(n) = if n < 0 { 0 } else { d(n + 1) }\nd(0)")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "stack overflow: more than 4000 nested calls")
        }
        // The interpreter stays usable after unwinding 4000 frames.
        let i = interp()
        XCTAssertThrowsError(try i.evalREPL("fn d(n) = d(n - 1) + 1\nd(0)"))
        XCTAssertEqual(try i.evalREPL("fn s(n) = if n == 0 { 0 } else { n + s(n - 1) }\ns(100)").repr, "5050")
    }

    /// The value stack is initialized in chunks as frames reach it: deep recursion past the
    /// first chunk works, and past the whole stack it is still a clean overflow error.
    func testTheValueStackGrowsAsFramesReachIt() {
        onLargeStack { self.stackGrowth() }
    }

    func stackGrowth() {
        let text = "fn s(n, a, b) = if n == 0 { 0 } else { n + s(n - 1, a, b) }\ns(3500, 1, 2)"
        XCTAssertEqual(try? self.run(text).repr, "6126750")
        let small = Interpreter(libraries: coreLibraries, stackSlots: 6000)
        XCTAssertThrowsError(try small.evalREPL(text)) { e in
            XCTAssertTrue((e as? MLWError)?.message.hasPrefix("stack overflow") ?? false, "\(e)")
        }
        XCTAssertEqual(try? small.evalREPL("fn t(n) = if n == 0 { 0 } else { n + t(n - 1) }\nt(100)").repr, "5050")
    }

    func testComparisonOfMixedTypesInAnIfStillFails() {
        XCTAssertThrowsError(try run("fn c(x) = if x < 2 { 1 } else { 2 }\nc(\"a\")")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "cannot compare string and integer with '<'")
        }
    }

    func testInterruptStopsARecursionWithoutLoops() {
        let i = interp()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { mlwInterruptRequested = 1 }
        XCTAssertThrowsError(try i.evalREPL("fn spin(n) = if n == 0 { 0 } else { spin(n - 1) + spin(n - 1) }\nspin(60)")) { e in
            XCTAssertEqual((e as? MLWError)?.message, "interrupted")
        }
        XCTAssertEqual(try i.evalREPL("spin(3)").repr, "0", "the session goes on after an interrupt")
    }

    func testTailReturnKeepsValues() throws {
        XCTAssertEqual(try run("fn f(x) { let y = x * 2\n return y + 1 }\nf(4)").repr, "9")
        XCTAssertEqual(try run("fn f(x) { while true { return x } }\nf(3)").repr, "3")
        XCTAssertEqual(try run("fn f(x) { if x { return 1 }\n 2 }\n[f(true), f(false)]").repr, "[1, 2]")
    }
}
