import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// A target of its own, below every writer (Lang, Tensor, Frames, Train, Optimize, Registry,
// Workbench): Checksum is the lowest shared dependency today but only Frames and Registry
// use it, and a SHA-256 module is the wrong home for file writing. This one imports
// Foundation and libc only.

/// Writes files by one rule (Docs/robustness.md, "Data readers and writers"):
///
/// - an absent path or a regular file is replaced through a temporary file in the same
///   folder, flushed and renamed over it, so a crash leaves the old bytes or the new ones
///   (a replaced file keeps its permission bits);
/// - a symlink is followed (up to 40 links) and its final target written by these rules,
///   so the link survives;
/// - a character or block device or a FIFO is written in place (`/dev/null`,
///   `/dev/stdout`, a pipe a reader is waiting on), never replaced; a FIFO waits at most
///   `fifoReaderWait` seconds for a reader;
/// - a directory or a socket is refused with an error naming the path.
///
///     try SafeWrite.write(Array("hello\n".utf8), to: "/tmp/out.txt")
public enum SafeWrite {
    /// Writes `bytes` to `path` by the rule above.
    public static func write(_ bytes: [UInt8], to path: String) throws {
        try bytes.withUnsafeBytes { b in try write(to: path) { emit in try emit(b) } }
    }

    public static func write(_ data: Data, to path: String) throws {
        try data.withUnsafeBytes { b in try write(to: path) { emit in try emit(b) } }
    }

    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Streams bytes to `path`: `produce` calls `emit` with each piece, in order.
    public static func write(to path: String,
                             _ produce: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws {
        let target = try resolve(path)
        switch target.kind {
        case .inPlace:
            let fd = try openInPlace(target.path, shown: path)
            defer { close(fd) }
            try produce { try writeAll(fd, $0, shown: path) }
        case .regular(let mode), .absent(let mode):
            let (tmp, fd) = try makeTemporary(nextTo: target.path, shown: path)
            do {
                try produce { try writeAll(fd, $0, shown: path) }
                try finish(fd, tmp: tmp, mode: mode, shown: path)
            } catch {
                close(fd); unlink(tmp)
                throw error
            }
            close(fd)
            try move(tmp, to: target.path, shown: path)
        }
    }

    /// Puts an already written temporary file at `path` by the same rule: renamed when the
    /// (symlink-resolved) target is absent or regular and in the temporary's folder, copied
    /// otherwise (through a new temporary next to a regular target, in place for a device
    /// or FIFO). The temporary is gone afterwards, also on errors. For writers that learn
    /// the final name only after writing (content-addressed stores).
    public static func commit(temporary: String, to path: String) throws {
        let target: Target
        do { target = try resolve(path) } catch { unlink(temporary); throw error }
        let tmpDir = parentDirectory(temporary)
        let dstDir = parentDirectory(target.path)
        switch target.kind {
        case .regular, .absent:
            if tmpDir == dstDir {
                try move(temporary, to: target.path, shown: path)
                return
            }
        case .inPlace: break
        }
        defer { unlink(temporary) }
        let input = open(temporary, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw SafeWriteError(path: path, reason: "cannot read temporary '\(temporary)': \(errorText())") }
        defer { close(input) }
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
        defer { buffer.deallocate() }
        try write(to: path) { emit in
            while true {
                let n = read(input, buffer, chunk)
                if n < 0 { if errno == EINTR { continue }; throw SafeWriteError(path: path, reason: "cannot read temporary: \(errorText())") }
                if n == 0 { break }
                try emit(UnsafeRawBufferPointer(start: buffer, count: n))
            }
        }
    }

    // MARK: - The rule

    enum Kind {
        /// Permission bits to give the new file (the old file's, or nil for the default).
        case regular(mode_t?), absent(mode_t?)
        case inPlace
    }

    struct Target { var path: String; var kind: Kind }

    /// Follows symlinks on the last component and classifies what is there.
    static func resolve(_ path: String) throws -> Target {
        guard !path.isEmpty else { throw SafeWriteError(path: path, reason: "empty path") }
        var current = path
        for _ in 0..<40 {
            var st = stat()
            if lstat(current, &st) != 0 {
                if errno == ENOENT { return Target(path: current, kind: .absent(nil)) }
                throw SafeWriteError(path: path, reason: errorText())
            }
            switch st.st_mode & S_IFMT {
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                let n = readlink(current, &buf, buf.count - 1)
                guard n >= 0 else { throw SafeWriteError(path: path, reason: "cannot read symlink '\(current)': \(errorText())") }
                let link = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                // A relative link is relative to the folder holding the link.
                let dir = parentDirectory(current)
                current = link.hasPrefix("/") || dir.isEmpty ? link : dir + "/" + link
            case S_IFREG: return Target(path: current, kind: .regular(st.st_mode & 0o7777))
            case S_IFCHR, S_IFBLK, S_IFIFO: return Target(path: current, kind: .inPlace)
            case S_IFDIR: throw SafeWriteError(path: path, reason: "is a directory")
            case S_IFSOCK: throw SafeWriteError(path: path, reason: "is a socket")
            default: throw SafeWriteError(path: path, reason: "is not a regular file")
            }
        }
        throw SafeWriteError(path: path, reason: "too many levels of symbolic links")
    }

    /// How long a write to a FIFO waits for a reader to open the other end.
    public static let fifoReaderWait: Double = 30

    static func openInPlace(_ target: String, shown: String, wait: Double = fifoReaderWait) throws -> Int32 {
        // No O_TRUNC and no O_CREAT: a device or FIFO has no length, and must already exist.
        // Non-blocking, so a FIFO nobody reads is a bounded wait (ENXIO until a reader
        // comes), not an open that never returns; the writes themselves then block as usual.
        let deadline = Date().addingTimeInterval(wait)
        while true {
            let fd = open(target, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
            if fd >= 0 {
                let flags = fcntl(fd, F_GETFL)
                if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
                return fd
            }
            if errno == EINTR { continue }
            if errno == ENXIO && Date() < deadline { usleep(10_000); continue }
            if errno == ENXIO {
                throw SafeWriteError(path: shown, reason: "no process opened the FIFO for reading within \(wait) s")
            }
            throw SafeWriteError(path: shown, reason: errorText())
        }
    }

    static func makeTemporary(nextTo target: String, shown: String) throws -> (String, Int32) {
        let dir = parentDirectory(target)
        let slash = target.lastIndex(of: "/")
        let name = slash.map { String(target[target.index(after: $0)...]) } ?? target
        let tmp = (dir.isEmpty ? "" : dir + "/") + ".\(name).tmp-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw SafeWriteError(path: shown, reason: errorText()) }
        return (tmp, fd)
    }

    static func finish(_ fd: Int32, tmp: String, mode: mode_t?, shown: String) throws {
        if let mode, fchmod(fd, mode) != 0 { throw SafeWriteError(path: shown, reason: "cannot set permissions: \(errorText())") }
        guard fsync(fd) == 0 else { throw SafeWriteError(path: shown, reason: "fsync failed: \(errorText())") }
    }

    static func move(_ tmp: String, to target: String, shown: String) throws {
        guard rename(tmp, target) == 0 else {
            let reason = errorText()
            unlink(tmp)
            throw SafeWriteError(path: shown, reason: reason)
        }
        // Make the rename itself durable.
        let dir = parentDirectory(target)
        let fd = open(dir.isEmpty ? "." : dir, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Writes all of `b` to `fd`, retrying short writes and EINTR; errors name `shown`.
    public static func writeAll(_ fd: Int32, _ b: UnsafeRawBufferPointer, shown: String) throws {
        var off = 0
        while off < b.count {
            #if canImport(Glibc)
            let n = Glibc.write(fd, b.baseAddress! + off, b.count - off)
            #else
            let n = Darwin.write(fd, b.baseAddress! + off, b.count - off)
            #endif
            if n < 0 {
                if errno == EINTR { continue }
                throw SafeWriteError(path: shown, reason: errorText())
            }
            off += n
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

/// `cannot write '/path': is a directory`.
public struct SafeWriteError: Error, LocalizedError, CustomStringConvertible, Equatable, Sendable {
    public var path: String
    public var reason: String
    public var description: String { "cannot write '\(path)': \(reason)" }
    public var errorDescription: String? { description }
}

/// The folder part of a path ("" for a bare name, "/" for "/x"). Foundation's
/// `deletingLastPathComponent` traps on a one-character relative path ("a") on this
/// toolchain (found by MLWTests/BindingFuzzTests through `write_text("a", ...)`).
public func parentDirectory(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
    guard let slash = p.lastIndex(of: "/") else { return "" }
    if slash == p.startIndex { return "/" }
    return String(p[..<slash])
}
