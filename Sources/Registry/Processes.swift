import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What the registry knows about processes: its own identity (recorded on each run, so a
/// later process can tell a run whose process died from one still going), whether a
/// process is alive, and who holds a lock on a file (named in "registry is locked" errors).
public enum Processes {
    /// The host name from the kernel (Foundation's `hostName` may wait on DNS).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(cString: buffer)
    }

    /// When process `pid` started, in clock ticks since boot (Linux `/proc/PID/stat`,
    /// field 22); nil when unknown. With the pid it identifies a process even after the pid
    /// is reused.
    public static func startTime(_ pid: Int32) -> Int64? {
        statFields(pid).flatMap { $0.count > 19 ? Int64($0[19]) : nil }
    }

    /// Fields of `/proc/PID/stat` after the command name (field 3, the state, first).
    private static func statFields(_ pid: Int32) -> [Substring]? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/stat"),
              let text = String(data: data, encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        return text[text.index(after: close)...].split(separator: " ")
    }

    /// Whether the process that recorded (`pid`, `startTime`) on this host is gone: no such
    /// process, a zombie, or the pid now belongs to a process that started at another time.
    /// A process we may not signal (EPERM) exists.
    public static func isGone(pid: Int32, startTime recorded: Int64?) -> Bool {
        guard pid > 0 else { return false }
        if kill(pid, 0) != 0 { return errno == ESRCH }
        guard let fields = statFields(pid) else { return false }  // no /proc: trust kill
        if fields.first == "Z" { return true }
        if let recorded, fields.count > 19, let now = Int64(fields[19]), now != recorded { return true }
        return false
    }

    /// The command line of `pid` (from `/proc/PID/cmdline`), at most 200 characters.
    public static func commandLine(_ pid: Int32) -> String? {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty else { return nil }
        let parts = data.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
        let text = parts.joined(separator: " ")
        return text.count > 200 ? String(text.prefix(200)) + "..." : text
    }

    /// Who holds a lock on `path` (Linux `/proc/locks`): the first process with a write
    /// lock, or any lock, on the file, overlapping byte `byte` when given (SQLite's WAL
    /// write lock is byte 120 of the `-shm` file). Nil when nobody does or it cannot be told.
    static func lockHolder(path: String, byte: Int64? = nil) -> Int32? {
        var info = stat()
        guard stat(path, &info) == 0, let data = FileManager.default.contents(atPath: "/proc/locks") else { return nil }
        let inode = UInt64(info.st_ino)
        var best: Int32?
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            // "1: POSIX  ADVISORY  WRITE 1234 08:01:5678 120 120" (a "->" marks a waiter)
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 8, !f.contains("->"), let pid = Int32(f[4]), pid > 0 else { continue }
            guard let ino = f[5].split(separator: ":").last.flatMap({ UInt64($0) }), ino == inode else { continue }
            if let byte {
                let start = Int64(f[6]) ?? 0, end = f[7] == "EOF" ? Int64.max : Int64(f[7]) ?? Int64.max
                guard start <= byte, byte <= end else { continue }
            }
            if f[3] == "WRITE" { return pid }
            best = best ?? pid
        }
        return best
    }

    /// `pid 1234 (sqlite3 .mlw/registry.sqlite)`, or `this process` for our own pid.
    static func describe(_ pid: Int32) -> String {
        if pid == getpid() { return "this process (another connection)" }
        return "pid \(pid)" + (commandLine(pid).map { " (\($0))" } ?? "")
    }
}
