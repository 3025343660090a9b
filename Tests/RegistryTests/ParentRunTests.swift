import Foundation
import XCTest
@testable import Registry

/// Child runs: a grid search records its trials as runs whose `parent_run` is the search's run.
class ParentRunTests: XCTestCase {
    func testChildRunsNameTheirParentAndAreListedByIt() throws {
        let registry = try makeRegistry()
        let parent = try registry.startRun(script: "search.mlw", scriptHash: fakeScriptHash)
        let other = try registry.startRun(script: "other.mlw", scriptHash: fakeScriptHash)
        // A prefix of the parent is resolved to its full id.
        let a = try registry.startRun(script: "search.mlw", scriptHash: fakeScriptHash, params: ["lr": 0.1],
                                      startedAt: Date(timeIntervalSinceNow: 1), parentRun: String(parent.prefix(6)))
        let b = try registry.startRun(script: "search.mlw", scriptHash: fakeScriptHash, params: ["lr": 0.2],
                                      startedAt: Date(timeIntervalSinceNow: 2), parentRun: parent)
        _ = try registry.startRun(script: "other.mlw", scriptHash: fakeScriptHash, parentRun: other)

        XCTAssertEqual(try registry.run(a).parentRun, parent)
        XCTAssertNil(try registry.run(parent).parentRun)
        XCTAssertEqual(try registry.runs(filter: RunFilter(parent: parent)).map(\.id), [b, a], "newest first, only this parent's")
        XCTAssertEqual(try registry.runs(filter: RunFilter(params: ["lr": "0.2"], parent: parent)).map(\.id), [b])
        XCTAssertEqual(try registry.runDetails(parent).children, [a, b], "oldest first")
        XCTAssertEqual(try registry.runDetails(a).children, [])

        assertThrows(.unknownRun("ffffffffffff")) {
            _ = try registry.startRun(script: "x.mlw", scriptHash: fakeScriptHash, parentRun: "ffffffffffff")
        }
        assertThrows(.unknownRun("ffffffffffff")) { _ = try registry.runs(filter: RunFilter(parent: "ffffffffffff")) }
    }

    func testListingsShowTheLink() throws {
        let registry = try makeRegistry()
        let parent = try registry.startRun(script: "search.mlw", scriptHash: fakeScriptHash)
        let child = try registry.startRun(script: "search.mlw", scriptHash: fakeScriptHash, parentRun: parent)
        let table = RegistryText.runs(try registry.runs())
        XCTAssertTrue(table.split(separator: "\n")[0].contains("parent"), table)
        XCTAssertFalse(RegistryText.runs([try registry.run(parent)]).contains("parent"), "no column without a child run")
        XCTAssertTrue(RegistryText.runDetails(try registry.runDetails(child)).contains("parent_run     \(parent)"))
        XCTAssertTrue(RegistryText.runDetails(try registry.runDetails(parent)).contains("children       1"))
        let json = try RegistryJSON.string(try registry.run(child))
        XCTAssertTrue(json.contains("\"parent_run\" : \"\(parent)\"") || json.contains("\"parent_run\":\"\(parent)\""), json)
    }

    func testTheSchemaRefusesARunThatIsItsOwnParent() throws {
        let registry = try makeRegistry()
        let id = try registry.startRun(script: "x.mlw", scriptHash: fakeScriptHash)
        XCTAssertThrowsError(try rawSQL(registry, "UPDATE run SET parent_run = id WHERE id = '\(id)'"))
        XCTAssertThrowsError(try rawSQL(registry, "UPDATE run SET parent_run = 'aaaaaaaaaaaa' WHERE id = '\(id)'"), "the parent must exist")
    }
}

/// The same tests against the PostgreSQL store (skipped without MLW_TEST_POSTGRES).
/// Linux test discovery lists only methods declared in a class, so each test is restated.
final class ParentRunTestsOnPostgres: ParentRunTests, PostgresStoreTest {
    override func testChildRunsNameTheirParentAndAreListedByIt() throws { try super.testChildRunsNameTheirParentAndAreListedByIt() }
    override func testListingsShowTheLink() throws { try super.testListingsShowTheLink() }
    override func testTheSchemaRefusesARunThatIsItsOwnParent() throws { try super.testTheSchemaRefusesARunThatIsItsOwnParent() }
}
