import XCTest
final class DataSmokeTests: XCTestCase { func testBuilds() { XCTAssertTrue(true) } }
