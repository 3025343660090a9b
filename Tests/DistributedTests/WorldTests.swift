@testable import Distributed
import Train
import XCTest

/// Rank detection and sharding, without MPI.
final class WorldTests: XCTestCase {
    func testDetectsOpenMPIEnvironment() {
        XCTAssertEqual(World.detect([:]), World.Info(rank: 0, size: 1))
        XCTAssertEqual(World.detect(["OMPI_COMM_WORLD_RANK": "1", "OMPI_COMM_WORLD_SIZE": "4"]), World.Info(rank: 1, size: 4))
        XCTAssertEqual(World.detect(["PMIX_RANK": "2", "PMI_SIZE": "3"]), World.Info(rank: 2, size: 3))
        // Garbage or absurd values are not a world.
        XCTAssertEqual(World.detect(["OMPI_COMM_WORLD_RANK": "x"]), World.Info(rank: 0, size: 1))
        XCTAssertEqual(World.detect(["OMPI_COMM_WORLD_RANK": "99999999999"]), World.Info(rank: 0, size: 1))
    }

    func testShardsCoverTheBatchOnce() {
        for count in [0, 1, 5, 128, 129] {
            for size in 1...5 {
                let parts = (0..<size).map { shardRange(count: count, rank: $0, size: size) }
                XCTAssertEqual(parts.map(\.count).reduce(0, +), count)
                XCTAssertEqual(parts.first?.lowerBound, 0)
                for (a, b) in zip(parts, parts.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                XCTAssertLessThanOrEqual(parts.map(\.count).max()! - parts.map(\.count).min()!, 1)
            }
        }
    }

    func testTimeoutMustBeSane() throws {
        setenv("MLW_MPI_TIMEOUT", "-3", 1)
        defer { unsetenv("MLW_MPI_TIMEOUT") }
        XCTAssertThrowsError(try World.timeoutSeconds())
        setenv("MLW_MPI_TIMEOUT", "2.5", 1)
        XCTAssertEqual(try World.timeoutSeconds(), 2.5)
    }
}
