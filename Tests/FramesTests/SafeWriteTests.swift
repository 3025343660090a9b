import XCTest
import Foundation
@testable import FileIO
#if canImport(Glibc)
import Glibc
#endif

/// The one file-writing rule (FileIO.SafeWrite): temporary + rename over regular files
/// only; symlinks followed; devices and FIFOs written in place; folders refused.
final class SafeWriteTests: XCTestCase {
    var dir = ""

    override func setUp() {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("mlw-safewrite-\(UUID().uuidString)").path
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: dir) }

    func fileType(_ path: String) -> mode_t {
        var st = stat()
        XCTAssertEqual(lstat(path, &st), 0, path)
        return st.st_mode & S_IFMT
    }

    func read(_ path: String) -> String { String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self) }

    func testNewAndReplacedRegularFilesKeepTheirMode() throws {
        let p = dir + "/a.txt"
        try SafeWrite.write("one", to: p)
        XCTAssertEqual(read(p), "one")
        chmod(p, 0o600)
        try SafeWrite.write("two", to: p)
        XCTAssertEqual(read(p), "two")
        var st = stat(); stat(p, &st)
        XCTAssertEqual(st.st_mode & 0o777, 0o600)
        // No temporary files left beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["a.txt"])
    }

    func testSymlinkSurvivesAndTargetIsUpdated() throws {
        let target = dir + "/target.txt", link = dir + "/link.txt"
        try SafeWrite.write("old", to: target)
        XCTAssertEqual(symlink("target.txt", link), 0)  // relative link
        try SafeWrite.write("new", to: link)
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertEqual(fileType(target), S_IFREG)
        XCTAssertEqual(read(target), "new")
        // A chain of links, and a dangling link: the file is created at the link's target.
        let link2 = dir + "/link2"
        XCTAssertEqual(symlink(link, link2), 0)
        try SafeWrite.write("newer", to: link2)
        XCTAssertEqual(read(target), "newer")
        XCTAssertEqual(fileType(link2), S_IFLNK)
        let dangling = dir + "/dangling"
        XCTAssertEqual(symlink(dir + "/created.txt", dangling), 0)
        try SafeWrite.write("made", to: dangling)
        XCTAssertEqual(fileType(dangling), S_IFLNK)
        XCTAssertEqual(read(dir + "/created.txt"), "made")
    }

    func testSymlinkLoopIsAnError() {
        let a = dir + "/la", b = dir + "/lb"
        symlink(b, a); symlink(a, b)
        XCTAssertThrowsError(try SafeWrite.write("x", to: a)) { e in
            XCTAssertTrue("\(e)".contains("too many levels of symbolic links"), "\(e)")
        }
    }

    func testFIFOIsWrittenInPlace() throws {
        let fifo = dir + "/pipe"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let got = Locked<[UInt8]>([])
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = Glibc.read(fd, &buf, buf.count)
                if n <= 0 { break }
                got.update { $0 += buf[0..<n] }
            }
            close(fd)
        }
        reader.start()
        let payload = Array(repeating: Array("0123456789".utf8), count: 20_000).flatMap { $0 }  // more than a pipe holds
        try SafeWrite.write(payload, to: fifo)
        while !reader.isFinished { usleep(1000) }
        XCTAssertEqual(got.value, payload)
        XCTAssertEqual(fileType(fifo), S_IFIFO)
    }

    func testFIFOWithoutAReaderIsABoundedWait() {
        let fifo = dir + "/lonely"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertThrowsError(try SafeWrite.openInPlace(fifo, shown: fifo, wait: 0.2)) { e in
            XCTAssertEqual("\(e)", "cannot write '\(fifo)': no process opened the FIFO for reading within 0.2 s")
        }
        XCTAssertEqual(SafeWrite.fifoReaderWait, 30)
    }

    func testDevNullStaysACharacterDevice() throws {
        try SafeWrite.write("x", to: "/dev/null")
        XCTAssertEqual(fileType("/dev/null"), S_IFCHR)
        // And a symlink to it (as /dev/stdout often is) is followed, not replaced.
        let link = dir + "/null-link"
        XCTAssertEqual(symlink("/dev/null", link), 0)
        try SafeWrite.write("y", to: link)
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertEqual(fileType("/dev/null"), S_IFCHR)
    }

    func testDirectoryIsRefused() {
        XCTAssertThrowsError(try SafeWrite.write("x", to: dir)) { e in
            XCTAssertEqual("\(e)", "cannot write '\(dir)': is a directory")
        }
        XCTAssertThrowsError(try SafeWrite.write("x", to: dir + "/no/such/folder/f.txt")) { e in
            XCTAssertTrue("\(e)".contains("No such file or directory"), "\(e)")
        }
    }

    func testCommitMovesOrCopiesByTheSameRule() throws {
        // Same folder, absent target: a rename.
        let tmp = dir + "/.tmp-1", final = dir + "/final"
        try SafeWrite.write("blob", to: tmp)
        try SafeWrite.commit(temporary: tmp, to: final)
        XCTAssertEqual(read(final), "blob")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
        // A symlink to a file in another folder: the link stays, the bytes are copied there.
        let other = dir + "/other"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let link = dir + "/linked"
        symlink(other + "/real", link)
        try SafeWrite.write("blob2", to: tmp)
        try SafeWrite.commit(temporary: tmp, to: link)
        XCTAssertEqual(fileType(link), S_IFLNK)
        XCTAssertEqual(read(other + "/real"), "blob2")
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
        // A device: written in place, the temporary removed.
        try SafeWrite.write("blob3", to: tmp)
        try SafeWrite.commit(temporary: tmp, to: "/dev/null")
        XCTAssertEqual(fileType("/dev/null"), S_IFCHR)
        XCTAssertFalse(FileManager.default.fileExists(atPath: tmp))
    }
}

/// A value shared with a reader thread.
final class Locked<T>: @unchecked Sendable {
    private var v: T
    private let lock = NSLock()
    init(_ v: T) { self.v = v }
    var value: T { lock.lock(); defer { lock.unlock() }; return v }
    func update(_ f: (inout T) -> Void) { lock.lock(); f(&v); lock.unlock() }
}
