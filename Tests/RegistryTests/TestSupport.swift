import Foundation
import XCTest
@testable import Registry

extension XCTestCase {
    /// A fresh temporary folder removed after the test.
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("mlw-registry-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// A fresh registry in a temporary folder.
    func makeRegistry() throws -> Registry {
        try Registry.open(root: try temporaryDirectory().appendingPathComponent(".mlw"))
    }

    /// Asserts that `body` throws exactly `expected`.
    func assertThrows<T>(_ expected: RegistryError, file: StaticString = #filePath, line: UInt = #line,
                         _ body: () throws -> T) {
        do {
            _ = try body()
            XCTFail("expected error: \(expected)", file: file, line: line)
        } catch let error as RegistryError {
            XCTAssertEqual(error, expected, file: file, line: line)
        } catch {
            XCTFail("unexpected error type: \(error)", file: file, line: line)
        }
    }
}

let fakeScriptHash = SHA256.hex(Data("script".utf8))
