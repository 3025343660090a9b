import Foundation
import XCTest

/// Issue 23: under `ulimit -v`, huge constructor requests were "Fatal error: failed to
/// allocate" (signal 6). They must be script errors naming the operation and the size.
final class MemoryLimitTests: XCTestCase {
    func run(_ script: String) throws -> (code: Int32, err: String) {
        guard let mlw = RegistryCLITests.binary else { throw XCTSkip("the mlw binary was not found next to the test bundle") }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-memlimit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("t.mlw")
        try script.write(to: file, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        // 3 GB of address space: enough for mlw itself, not for a 4 GB tensor.
        p.arguments = ["-c", "ulimit -v 3000000 && exec \"$0\" run \"$1\"", mlw.path, file.path]
        var env = ProcessInfo.processInfo.environment
        env["MLW_HOME"] = dir.appendingPathComponent("home").path
        p.environment = env
        p.currentDirectoryURL = dir
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testConstructorsUnderAddressSpaceLimitFailCleanly() throws {
        for (script, message) in [
            ("zeros([1000000000])", "zeros: shape [1000000000] needs 4000000000 bytes, more than the"),
            ("arange(1000000000)", "arange: shape [1000000000] needs 4000000000 bytes"),
            ("randint(0, 5, [300000000])", "randint: shape [300000000] needs 3600000000 bytes"),
            ("randn([1000000000], seed: 1)", "randn: shape [1000000000] needs 4000000000 bytes"),
            ("permutation(100000000)", "permutation: shape [100000000] needs 4400000000 bytes"),
        ] {
            let r = try run(script)
            XCTAssertEqual(r.code, 1, "\(script): \(r.err.prefix(300))")
            XCTAssertTrue(r.err.contains(message), "\(script): \(r.err.prefix(300))")
            XCTAssertTrue(r.err.contains("of address space left (ulimit -v)"), r.err)
            XCTAssertFalse(r.err.contains("Fatal error"), r.err)
        }
    }
}
