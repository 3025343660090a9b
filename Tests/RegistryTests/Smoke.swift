import XCTest
final class RegistrySmokeTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
