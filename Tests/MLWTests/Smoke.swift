import XCTest
final class MLWSmokeTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
