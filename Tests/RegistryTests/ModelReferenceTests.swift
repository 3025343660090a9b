import Foundation
import XCTest
@testable import Registry

final class ModelReferenceTests: XCTestCase {
    func testParsesAllForms() throws {
        XCTAssertEqual(try ModelReference.parse("iris"), .latest(model: "iris"))
        XCTAssertEqual(try ModelReference.parse("iris:3"), .version(model: "iris", version: 3))
        XCTAssertEqual(try ModelReference.parse("iris@production"), .alias(model: "iris", alias: "production"))
        XCTAssertEqual(try ModelReference.parse(" digits-v2.1@staging "), .alias(model: "digits-v2.1", alias: "staging"))
        for text in ["iris", "iris:12", "iris@prod"] {
            XCTAssertEqual(try ModelReference.parse(text).description, text)
        }
    }

    func testRejectsMalformedReferencesWithReasons() {
        let cases: [(String, String)] = [
            ("", "it is empty"),
            ("iris:", "the version after ':' is missing"),
            ("iris@", "the alias after '@' is missing"),
            (":3", "the model name is missing"),
            ("iris:0", "version '0' is not a positive integer"),
            ("iris:-1", "version '-1' is not a positive integer"),
            ("iris:x", "version 'x' is not a positive integer"),
            ("iris:3@prod", "use either ':VERSION' or '@ALIAS', not both"),
            ("9iris", "model name '9iris' is not a valid name"),
            ("iris@pro d", "alias 'pro d' is not a valid name"),
        ]
        for (text, reason) in cases {
            assertThrows(.invalidReference(text, reason: reason)) { try ModelReference.parse(text) }
        }
        let message = (try? ModelReference.parse("iris:x")).map { "\($0)" }
        XCTAssertNil(message)
        XCTAssertTrue(RegistryError.invalidReference("iris:x", reason: "r").description.contains("name@ALIAS"))
    }

    func testNameRule() {
        for good in ["a", "iris", "Iris_2", "x.y-z", String(repeating: "a", count: 64)] {
            XCTAssertTrue(RegistryName.isValid(good), good)
        }
        for bad in ["", "1a", "_a", "-a", "a b", "a/b", "a:b", "a@b", "é", String(repeating: "a", count: 65)] {
            XCTAssertFalse(RegistryName.isValid(bad), bad)
        }
    }
}
