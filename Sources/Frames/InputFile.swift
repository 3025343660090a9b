import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opening a data file for a reader (read_csv, read_jsonl): regular files only.
///
///     let (fd, size) = try InputFile.openRegular(path)   // throws for /dev/zero, a FIFO, a folder
///
/// A character device (`/dev/zero`, `/dev/urandom`), a FIFO or a socket can be endless,
/// and a blocking open of a FIFO with no writer never returns: such a path is refused
/// before a byte is read. The file is opened non-blocking first and checked with `fstat`
/// on the open descriptor, so a path swapped between the check and the open cannot
/// slip through (and a FIFO cannot hang the open).
public enum InputFile {
    /// Opens `path` for reading; the descriptor is the caller's to close.
    public static func openRegular(_ path: String) throws -> (fd: Int32, size: Int) {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while fd < 0 && errno == EINTR
        if fd < 0 { throw DataError(.io, "cannot open file: \(String(cString: strerror(errno)))", file: path) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw DataError(.io, "cannot stat file: \(e)", file: path)
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            throw DataError(.notRegularFile, "not a regular file (\(describe(type))): only regular files can be read",
                            file: path)
        }
        // Back to blocking reads (a regular file never blocks, but keep the usual mode).
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// Throws unless `path` is a regular file (symlinks followed).
    public static func requireRegular(_ path: String) throws {
        let (fd, _) = try openRegular(path)
        close(fd)
    }

    /// The whole file, refusing non-regular files and files larger than `maxBytes`.
    public static func readAll(_ path: String, maxBytes: Int) throws -> [UInt8] {
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        guard size <= maxBytes else {
            throw DataError(.tooLarge, "file is \(size) bytes, more than the limit of \(maxBytes)", file: path)
        }
        // One byte more than allowed tells "exactly at the limit" from "over it"; the file
        // can change size while being read, so growth is checked too.
        var out = [UInt8](repeating: 0, count: size + 1)
        var filled = 0
        while true {
            if filled == out.count {
                guard filled <= maxBytes else {
                    throw DataError(.tooLarge, "file grew past the limit of \(maxBytes) bytes while being read", file: path)
                }
                out.append(contentsOf: repeatElement(0, count: min(max(out.count, 1 << 16), maxBytes + 1 - out.count)))
            }
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DataError(.io, "read failed: \(String(cString: strerror(errno)))", file: path)
            }
            if n == 0 { break }
            filled += n
        }
        guard filled <= maxBytes else {
            throw DataError(.tooLarge, "file grew past the limit of \(maxBytes) bytes while being read", file: path)
        }
        out.removeSubrange(filled...)
        return out
    }

    static func describe(_ type: mode_t) -> String {
        switch type {
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFDIR: return "a directory"
        default: return "not a regular file"
        }
    }
}

/// The machine's physical memory in bytes: the ceiling for buffers sized from input.
let physicalMemoryBytes: Int = {
    let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
    if pages > 0 && size > 0 { return pages.multipliedReportingOverflow(by: size).overflow ? Int.max : pages * size }
    return 1 << 40
}()
