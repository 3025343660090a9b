import Lang
import XCTest

/// Any error a native throws — a library's own error type, not only `NativeError` — reaches
/// the script as a runtime error at the call, operator, field or index site, with the
/// error's own sentence. Bindings never catch and convert.
final class ErrorPlacementTests: XCTestCase {
    struct LibraryError: Error, CustomStringConvertible {
        let description: String
    }

    final class Box: NativeValue {
        var typeName: String { "box" }
        var description: String { "box" }
        func field(_ name: String) throws -> Value? { throw LibraryError(description: "no field \(name) today") }
        func binary(_ op: String, _ other: Value, reversed: Bool) throws -> Value? {
            throw LibraryError(description: "cannot \(op) a box")
        }
        func unary(_ op: String) throws -> Value? { throw LibraryError(description: "cannot negate a box") }
        func index(_ items: [IndexValue]) throws -> Value? { throw LibraryError(description: "boxes are not indexable") }
    }

    func interpreter() -> Interpreter {
        let lib = Library("box", doc: "errors of a foreign type", [
            NativeFunction("box", [], doc: "A box.", example: "box()") { _ in .native(Box()) },
            NativeFunction("fail", [], doc: "Always fails.", example: "fail()") { _ in
                throw LibraryError(description: "the library said no")
            },
        ])
        return Interpreter(libraries: coreLibraries + [lib])
    }

    func placed(_ source: String, file: StaticString = #filePath, line: UInt = #line) -> (String, Int, Int) {
        do {
            _ = try interpreter().evalREPL(source)
            XCTFail("no error from \(source)", file: file, line: line)
        } catch let e as MLWError {
            return (e.message, e.span.line, e.span.col)
        } catch {
            XCTFail("\(source): not an MLWError: \(type(of: error)) \(error)", file: file, line: line)
        }
        return ("", 0, 0)
    }

    func testForeignErrorsArePlacedAtTheirSite() {
        XCTAssertEqual(placed("let a = 1\nfail()").0, "the library said no")
        XCTAssertEqual(placed("let a = 1\nfail()").1, 2)
        let op = placed("let b = box()\nlet c = 1 + (b + 2)")
        XCTAssertEqual(op.0, "cannot + a box")
        XCTAssertEqual(op.1, 2)
        XCTAssertEqual(placed("-box()").0, "cannot negate a box")
        XCTAssertEqual(placed("box().size").0, "no field size today")
        XCTAssertEqual(placed("box()[0]").0, "boxes are not indexable")
    }
}
