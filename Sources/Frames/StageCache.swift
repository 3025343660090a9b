import Foundation
import FileIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A content-addressed store of stage results, so `stage("prepare", inputs: [...]) { ... }`
/// can skip its body when nothing it depends on changed. It stores bytes; turning MLW
/// values into bytes is the binding's job.
///
///     let cache = StageCache(root: ".mlw/cache")
///     let k = cache.key(name: "prepare", inputHashes: [ds.lineage.hash], codeHash: bodyHash, params: ["seed": "42"])
///     if let blob = try cache.load(key: k) { ... } else { try cache.store(key: k, data: result) }
public struct StageCache: Sendable {
    public let root: String

    public init(root: String = ".mlw/cache") { self.root = root }

    /// SHA-256 (hex) of the stage name, its inputs' hashes (order matters), the hash of
    /// the stage's code and its parameters (order does not matter: keys are sorted).
    public func key(name: String, inputHashes: [String], codeHash: String, params: [String: String] = [:]) -> String {
        var h = SHA256()
        // Length-prefixed fields, so no two different inputs can spell the same text.
        func field(_ tag: String, _ s: String) { h.update("\(tag):\(s.utf8.count):\(s)\n") }
        field("v", "1")
        field("name", name)
        for i in inputHashes { field("input", i) }
        field("code", codeHash)
        for k in params.keys.sorted() { field("param", k); field("value", params[k]!) }
        return h.finalizeHex()
    }

    /// Where a key's blob lives: `root/ab/abcdef....bin` (fan-out keeps folders small).
    public func path(for key: String) -> String {
        "\(root)/\(key.prefix(2))/\(key).bin"
    }

    /// The stored blob, or nil when the key was never stored.
    public func load(key: String) throws -> Data? {
        try checkKey(key)
        let p = path(for: key)
        guard FileManager.default.fileExists(atPath: p) else { return nil }
        guard let d = FileManager.default.contents(atPath: p) else {
            throw DataError(.io, "cannot read cache entry", file: p)
        }
        return d
    }

    public func contains(key: String) -> Bool { FileManager.default.fileExists(atPath: path(for: key)) }

    /// Stores `data` under `key` atomically (`SafeWrite`: a temp file in the same folder,
    /// flushed, then renamed), so a reader never sees half a blob (even after a crash).
    public func store(key: String, data: Data) throws {
        try checkKey(key)
        let final = path(for: key)
        let dir = (final as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        catch { throw DataError(.io, "cannot create cache folder: \(error)", file: dir) }
        do { try SafeWrite.write(data, to: final) }
        catch let e as SafeWriteError { throw DataError(.io, "cannot write cache entry: \(e.reason)", file: final) }
    }

    /// Removes one entry (no error when absent).
    public func remove(key: String) throws {
        try checkKey(key)
        unlink(path(for: key))
    }

    private func checkKey(_ key: String) throws {
        // Keys become file names: only accept the hex that `key(...)` makes.
        guard key.count >= 8, key.allSatisfy({ $0.isHexDigit }) else {
            throw DataError(.badArgument, "cache key must be hex, got '\(key)'")
        }
    }
}
