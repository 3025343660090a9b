import Foundation
import XCTest
@testable import Registry

class ModelsTests: XCTestCase {
    private func registerVersions(_ registry: Registry, _ name: String, count: Int) throws -> [ModelVersion] {
        try (1...count).map { i in
            let art = try registry.storeArtifact(bytes: Data("\(name) \(i)".utf8))
            return try registry.register(art, name: name, metrics: ["acc": Double(i) / 10])
        }
    }

    func testRegisterIncrementsVersionsPerName() throws {
        let registry = try makeRegistry()
        let run = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash)
        let art = try registry.storeArtifact(bytes: Data("m".utf8), run: run)
        let v1 = try registry.register(art, name: "iris", run: run, metrics: ["acc": 0.9])
        let v2 = try registry.register(art, name: "iris")
        let d1 = try registry.register(art, name: "digits")
        XCTAssertEqual([v1.version, v2.version, d1.version], [1, 2, 1])
        XCTAssertEqual(v1.runId, run)
        XCTAssertEqual(v1.metrics, ["acc": 0.9])
        XCTAssertEqual(v1.artifactPath, art.path)
        XCTAssertEqual(try registry.versions("iris").map(\.version), [1, 2])
        XCTAssertEqual(try registry.models().map(\.name), ["digits", "iris"])
        XCTAssertEqual(try registry.models().last?.latestVersion, 2)
        XCTAssertEqual(try registry.runDetails(run).modelVersions.map(\.reference), ["iris:1"])
    }

    func testRegisterFileStoresAndLinksTheArtifact() throws {
        let registry = try makeRegistry()
        let run = try registry.startRun(script: "t.mlw", scriptHash: fakeScriptHash)
        let file = try temporaryDirectory().appendingPathComponent("digits.safetensors")
        try Data("tensor bytes".utf8).write(to: file)
        let v = try registry.register(file: file, name: "digits", run: run, alias: "staging")
        XCTAssertEqual(v.reference, "digits:1")
        XCTAssertEqual(try registry.artifacts(run: run).map(\.sha256), [v.artifactSha256])
        XCTAssertEqual(try registry.resolve("digits@staging").artifactSha256, SHA256.hex(Data("tensor bytes".utf8)))
    }

    func testRegisterValidatesInputs() throws {
        let registry = try makeRegistry()
        let art = try registry.storeArtifact(bytes: Data("m".utf8))
        assertThrows(.invalidName(kind: "model", name: "1bad")) { try registry.register(art, name: "1bad") }
        assertThrows(.invalidName(kind: "alias", name: "no way")) { try registry.register(art, name: "ok", alias: "no way") }
        assertThrows(.unknownRun("abcdef123456")) { try registry.register(art, name: "ok", run: "abcdef123456") }
        let ghost = Artifact(sha256: String(repeating: "0", count: 64), size: 1, storedAt: Date())
        assertThrows(.unknownArtifact(ghost.sha256)) { try registry.register(ghost, name: "ok") }
        assertThrows(.unknownModel("ok")) { try registry.versions("ok") } // failed registers left nothing
    }

    func testResolveAllReferenceForms() throws {
        let registry = try makeRegistry()
        let versions = try registerVersions(registry, "iris", count: 3)
        try registry.setAlias("iris", alias: "production", version: 2)
        XCTAssertEqual(try registry.resolve("iris").version, 3)
        XCTAssertEqual(try registry.resolve("iris:1").version, 1)
        XCTAssertEqual(try registry.resolve("iris@production").version, 2)
        XCTAssertEqual(try registry.resolve("iris:1").artifactSha256, versions[0].artifactSha256)
        let path = try XCTUnwrap(try registry.resolve("iris@production").artifactPath)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), Data("iris 2".utf8))
    }

    func testUnknownReferencesGiveClearErrors() throws {
        let registry = try makeRegistry()
        _ = try registerVersions(registry, "iris", count: 2)
        assertThrows(.unknownModel("wine")) { try registry.resolve("wine") }
        assertThrows(.unknownVersion(model: "iris", version: 9)) { try registry.resolve("iris:9") }
        assertThrows(.unknownAlias(model: "iris", alias: "prod")) { try registry.resolve("iris@prod") }
        assertThrows(.invalidReference("iris:two", reason: "version 'two' is not a positive integer")) {
            try registry.resolve("iris:two")
        }
        assertThrows(.unknownVersion(model: "iris", version: 5)) { try registry.setAlias("iris", alias: "prod", version: 5) }
        assertThrows(.unknownModel("wine")) { try registry.setAlias("wine", alias: "prod", version: 1) }
        assertThrows(.unknownAlias(model: "iris", alias: "prod")) { try registry.rollback("iris", alias: "prod") }
        XCTAssertEqual(RegistryError.unknownVersion(model: "iris", version: 9).description, "model 'iris' has no version 9")
        XCTAssertEqual(RegistryError.unknownAlias(model: "iris", alias: "prod").description, "model 'iris' has no alias 'prod'")
    }

    func testAliasSetRollbackAndAuditTrail() throws {
        let registry = try makeRegistry()
        _ = try registerVersions(registry, "iris", count: 4)
        let art = try registry.storeArtifact(bytes: Data("five".utf8))
        XCTAssertEqual(try registry.register(art, name: "iris", alias: "staging").version, 5)
        try registry.setAlias("iris", alias: "production", version: 1)
        try registry.setAlias("iris", alias: "production", version: 2)
        try registry.setAlias("iris", alias: "production", version: 3)

        XCTAssertEqual(try registry.rollback("iris", alias: "production").newVersion, 2)
        XCTAssertEqual(try registry.resolve("iris@production").version, 2)
        XCTAssertEqual(try registry.rollback("iris", alias: "production").newVersion, 1) // walks further back
        assertThrows(.nothingToRollBack(model: "iris", alias: "production")) { try registry.rollback("iris", alias: "production") }
        XCTAssertEqual(try registry.resolve("iris@production").version, 1)

        try registry.setAlias("iris", alias: "production", version: 4)
        XCTAssertEqual(try registry.rollback("iris", alias: "production").newVersion, 1)
        XCTAssertEqual(try registry.resolve("iris@staging").version, 5, "other aliases untouched")

        let history = try registry.aliasHistory("iris", alias: "production")
        XCTAssertEqual(history.map(\.oldVersion), [nil, 1, 2, 3, 2, 1, 4])
        XCTAssertEqual(history.map(\.newVersion), [1, 2, 3, 2, 1, 4, 1])
        XCTAssertEqual(history.map(\.reason), [.set, .set, .set, .rollback, .rollback, .set, .rollback])
        XCTAssertEqual(try registry.aliasHistory("iris").count, 8)
        XCTAssertEqual(try registry.aliases("iris").map(\.alias), ["production", "staging"])
        XCTAssertEqual(try registry.models().first?.aliases, ["production": 1, "staging": 5])
        XCTAssertEqual(try registry.check(), [])
    }
}

/// The same tests against the PostgreSQL store (skipped without MLW_TEST_POSTGRES).
/// Linux test discovery lists only methods declared in a class, so each test is restated.
final class ModelsTestsOnPostgres: ModelsTests, PostgresStoreTest {
    override func testRegisterIncrementsVersionsPerName() throws { try super.testRegisterIncrementsVersionsPerName() }
    override func testRegisterFileStoresAndLinksTheArtifact() throws { try super.testRegisterFileStoresAndLinksTheArtifact() }
    override func testRegisterValidatesInputs() throws { try super.testRegisterValidatesInputs() }
    override func testResolveAllReferenceForms() throws { try super.testResolveAllReferenceForms() }
    override func testUnknownReferencesGiveClearErrors() throws { try super.testUnknownReferencesGiveClearErrors() }
    override func testAliasSetRollbackAndAuditTrail() throws { try super.testAliasSetRollbackAndAuditTrail() }
}
