import Foundation
@testable import Lang
import Workbench
import XCTest

/// The native tables are the documentation: every function has a doc and an example, and
/// every example runs (and prints its documented result when one is given).
final class LibraryTableTests: XCTestCase {
    func testEveryNativeHasDocAndRunnableExample() throws {
        _ = GoldenScriptTests.home  // examples that cache or record use a throwaway MLW_HOME
        let libs = Workbench.libraries
        XCTAssertFalse(libs.isEmpty)
        let interp = try Workbench.makeInterpreter()
        var out = ""
        interp.output = { out += $0 }
        for lib in libs {
            XCTAssertFalse(lib.doc.isEmpty, "library \(lib.name) has no doc")
            for f in lib.functions {
                XCTAssertFalse(f.doc.isEmpty, "\(lib.name).\(f.name) has no doc")
                XCTAssertFalse(f.example.isEmpty, "\(lib.name).\(f.name) has no example")
                XCTAssertTrue(f.example.contains(f.name), "example of \(f.name) does not call it: \(f.example)")
                do {
                    let v = try interp.evalREPL(f.example)
                    if let expected = f.result { XCTAssertEqual(v.repr, expected, "example of \(f.name): \(f.example)") }
                } catch {
                    XCTFail("example of \(lib.name).\(f.name) failed: \(f.example)\n\(error)")
                }
            }
        }
    }

    func testHelpListsLibrariesAndDescribesFunctions() throws {
        let interp = try Workbench.makeInterpreter()
        let all = try interp.helpText(.nil)
        for lib in Workbench.libraries { XCTAssertTrue(all.contains("  \(lib.name): "), lib.name) }
        XCTAssertEqual(try interp.helpText(.string("round")),
                       "round(x, digits: 0)\n  Round half away from zero; with digits, a float with that many decimals.\n  example: round(3.14159, digits: 2)  # => 3.14")
        XCTAssertTrue(try interp.helpText(.string("clamp")).contains("defined in MLW"))
        XCTAssertThrowsError(try interp.helpText(.string("no_such_thing")))
    }

    func testCompletionReadsTheSameTables() throws {
        let session = ReplSession(interpreter: try Workbench.makeInterpreter())
        XCTAssertEqual(session.completions(for: "sor"), ["sort", "sort_by"])
        XCTAssertTrue(session.completions(for: "wh").contains("while"))
        _ = session.feed("let config = {lr: 0.1, layers: 3}")
        XCTAssertEqual(session.completions(for: "config.l"), ["config.layers", "config.lr"])
        XCTAssertEqual(session.completions(for: ":h"), [":help"])
    }
}
