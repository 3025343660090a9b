import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Remembers the SHA-256 of data files by their identity and `stat` (device, inode, size,
/// modification and change times, as git's index does), so re-running a script over
/// unchanged data skips re-hashing it. Opt-in via `CSVOptions.fileHashCache`.
///
///     var o = CSVOptions(); o.fileHashCache = FileHashCache(root: ".mlw/cache/files")
///
/// A file changed within the last 2 seconds is hashed but not remembered: a second write
/// in the same clock tick could otherwise keep its stat and reuse a stale hash.
public struct FileHashCache: Sendable, Equatable {
    public let root: String

    public init(root: String = ".mlw/cache/files") { self.root = root }

    /// The file's SHA-256 (hex), from the cache when its stat is unchanged.
    public func hash(ofFile path: String) throws -> String {
        var st = stat()
        guard stat(path, &st) == 0 else { throw DataError(.io, "cannot stat file", file: path) }
        #if os(Linux)
        let (mtime, ctime) = (st.st_mtim, st.st_ctim)
        #else
        let (mtime, ctime) = (st.st_mtimespec, st.st_ctimespec)
        #endif
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let identity = [absolute, "\(st.st_dev)", "\(st.st_ino)", "\(st.st_size)",
                        "\(mtime.tv_sec).\(mtime.tv_nsec)", "\(ctime.tv_sec).\(ctime.tv_nsec)"]
        let store = StageCache(root: root)
        let key = store.key(name: "file-hash", inputHashes: [], codeHash: "sha256-v1",
                            params: ["identity": identity.joined(separator: "\u{0}")])
        if let blob = try store.load(key: key), let hex = String(data: blob, encoding: .utf8),
           hex.count == 64, hex.allSatisfy(\.isHexDigit) {
            return hex
        }
        let hex = try SHA256.hexOfFile(path)
        let age = Date().timeIntervalSince1970 - (Double(mtime.tv_sec) + Double(mtime.tv_nsec) * 1e-9)
        if age > 2 { try? store.store(key: key, data: Data(hex.utf8)) }
        return hex
    }
}
