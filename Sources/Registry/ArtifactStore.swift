import Foundation
import FileIO

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Content-addressed files: `<dir>/<sha256>`, written so that a crash never leaves a
/// partial file under a hash name.
///
/// Bytes go to `<dir>/.tmp-<pid>-<uuid>` while being hashed, the file is fsynced, then
/// renamed to its hash (atomic on POSIX) and the folder is fsynced. Callers insert the
/// database row only after `put` returns, so every row points at a complete file.
struct ArtifactStore: Sendable {
    let directory: URL
    static let temporaryPrefix = ".tmp-"

    init(directory: URL) throws {
        self.directory = directory
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw RegistryError.storage("cannot create artifact folder '\(directory.path)': \(error.localizedDescription)")
        }
    }

    func url(for sha256: String) -> URL { directory.appendingPathComponent(sha256) }

    func fileSize(_ url: URL) -> Int64? {
        var info = stat()
        guard stat(url.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }

    /// Stores the bytes of `file`; returns its hash and size.
    func put(file: URL) throws -> (sha256: String, size: Int64) {
        guard let input = FileHandle(forReadingAtPath: file.path) else {
            throw RegistryError.storage("cannot read '\(file.path)'")
        }
        defer { try? input.close() }
        return try write { emit in
            while let chunk = try input.read(upToCount: 1 << 20), !chunk.isEmpty { try emit(chunk) }
        }
    }

    /// Stores `bytes`; returns their hash and size. Bytes already stored (every run of an
    /// unchanged script stores the same copy) are not written again: no temporary file, no
    /// fsync.
    func put(bytes: Data) throws -> (sha256: String, size: Int64) {
        var hasher = SHA256()
        hasher.update(bytes)
        let sha = hasher.finalizeHex()
        if fileSize(url(for: sha)) == Int64(bytes.count) { return (sha, Int64(bytes.count)) }
        return try write { emit in try emit(bytes) }
    }

    private func write(_ produce: ((Data) throws -> Void) throws -> Void) throws -> (sha256: String, size: Int64) {
        let tempURL = directory.appendingPathComponent(
            "\(ArtifactStore.temporaryPrefix)\(getpid())-\(UUID().uuidString)")
        let fd = posixOpen(tempURL.path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
        guard fd >= 0 else { throw RegistryError.storage("cannot create '\(tempURL.path)': errno \(errno)") }
        var hasher = SHA256()
        var size: Int64 = 0
        do {
            try produce { chunk in
                hasher.update(chunk)
                size += Int64(chunk.count)
                try chunk.withUnsafeBytes { b in
                    do { try SafeWrite.writeAll(fd, b, shown: tempURL.path) } catch { throw RegistryError.storage("\(error)") }
                }
            }
            guard fsync(fd) == 0 else { throw RegistryError.storage("fsync failed on '\(tempURL.path)': errno \(errno)") }
        } catch {
            close(fd)
            unlink(tempURL.path)
            throw error
        }
        close(fd)
        let sha = hasher.finalizeHex()
        let finalURL = url(for: sha)
        if fileSize(finalURL) == size {
            unlink(tempURL.path) // same content already stored (names are hashes); nothing to make durable
        } else {
            // Renamed when the name is absent or a regular file; a symlink or device there is kept.
            do { try SafeWrite.commit(temporary: tempURL.path, to: finalURL.path) }
            catch { throw RegistryError.storage("cannot move artifact into place: \(error)") }
            syncDirectory()
        }
        return (sha, size)
    }

    /// Makes the rename itself durable.
    private func syncDirectory() {
        let fd = open(directory.path, O_RDONLY | O_CLOEXEC)
        if fd >= 0 { _ = fsync(fd); close(fd) }
    }

    /// Temporary files whose writer is gone: the pid in their name (`.tmp-<pid>-<uuid>`) no
    /// longer runs on this host, or they are older than `age`. Name -> why.
    func staleTemporaryFiles(olderThan age: TimeInterval = 3600) -> [(name: String, why: String)] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return [] }
        let cutoff = Date().addingTimeInterval(-age)
        var stale: [(String, String)] = []
        for name in names.sorted() where name.hasPrefix(ArtifactStore.temporaryPrefix) {
            let pid = name.dropFirst(ArtifactStore.temporaryPrefix.count).split(separator: "-").first.flatMap { Int32($0) }
            if let pid, Processes.isGone(pid: pid, startTime: nil) {
                stale.append((name, "its writer, process \(pid), is gone"))
            } else if let modified = (try? fm.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.modificationDate] as? Date,
                      modified < cutoff {
                stale.append((name, "older than \(Int(age / 60)) minutes"))
            }
        }
        return stale
    }

    /// Files named like a SHA-256 (what `put` leaves), with their modification time.
    func hashNamedFiles() -> [(sha256: String, modified: Date)] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return [] }
        return names.sorted().compactMap { name in
            guard name.count == 64, name.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else { return nil }
            let modified = (try? fm.attributesOfItem(atPath: directory.appendingPathComponent(name).path))?[.modificationDate] as? Date
            return (name, modified ?? .distantPast)
        }
    }

    /// Deletes temporary files left by crashed writers. Only old ones: a young one may
    /// belong to a process that is writing right now.
    func removeStaleTemporaryFiles(olderThan age: TimeInterval = 3600) {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return }
        let cutoff = Date().addingTimeInterval(-age)
        for name in names where name.hasPrefix(ArtifactStore.temporaryPrefix) {
            let path = directory.appendingPathComponent(name).path
            if let modified = (try? fm.attributesOfItem(atPath: path))?[.modificationDate] as? Date, modified < cutoff {
                unlink(path)
            }
        }
    }
}
