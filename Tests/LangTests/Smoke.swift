import XCTest
final class LangSmokeTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
