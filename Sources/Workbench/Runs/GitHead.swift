import Foundation

/// The commit checked out in the git work tree around a script, read from the files under
/// `.git` (HEAD, the loose ref, packed-refs) instead of launching `git rev-parse HEAD`: a
/// process launch costs more than a whole empty run. Work trees whose `.git` is a file
/// (`gitdir: ...`, linked work trees and submodules) are followed; anything else the files
/// cannot answer falls back to the git process. Nil outside a work tree or without commits.
///
///     GitHead.commit(near: "train.mlw")   // "3f2a…" (40 or 64 hex characters) or nil
enum GitHead {
    static func commit(near scriptPath: String) -> String? {
        let dir = URL(fileURLWithPath: scriptPath).standardizedFileURL.deletingLastPathComponent()
        var probe = dir
        while !FileManager.default.fileExists(atPath: probe.appendingPathComponent(".git").path) {
            let parent = probe.deletingLastPathComponent()
            if parent.path == probe.path { return nil }
            probe = parent
        }
        if let hash = fromFiles(gitPath: probe.appendingPathComponent(".git").path) { return hash }
        return fromProcess(in: dir)
    }

    /// HEAD resolved through the files; nil when they do not say (the process decides then).
    static func fromFiles(gitPath: String) -> String? {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: gitPath, isDirectory: &isDir) else { return nil }
        var gitDir = gitPath
        if !isDir.boolValue {   // "gitdir: <path>", relative to the work tree
            guard let text = read(gitPath), text.hasPrefix("gitdir:") else { return nil }
            let target = text.dropFirst("gitdir:".count).trimmingCharacters(in: .whitespaces)
            gitDir = target.hasPrefix("/") ? target : ((gitPath as NSString).deletingLastPathComponent as NSString).appendingPathComponent(target)
        }
        // Linked work trees keep HEAD in their own folder and refs in the common one.
        let common = read(gitDir + "/commondir").map { c -> String in
            c.hasPrefix("/") ? c : (gitDir as NSString).appendingPathComponent(c)
        } ?? gitDir
        guard let head = read(gitDir + "/HEAD") else { return nil }
        guard head.hasPrefix("ref:") else { return isHash(head) ? head : nil }
        let ref = head.dropFirst(4).trimmingCharacters(in: .whitespaces)
        guard !ref.contains(".."), ref.hasPrefix("refs/") else { return nil }
        for base in [gitDir, common] {
            if let loose = read(base + "/" + ref) { return isHash(loose) ? loose : nil }
        }
        if let packed = read(common + "/packed-refs") {
            for line in packed.split(separator: "\n") where !line.hasPrefix("#") && !line.hasPrefix("^") {
                let parts = line.split(separator: " ", maxSplits: 1)
                if parts.count == 2, parts[1] == ref[...], isHash(String(parts[0])) { return String(parts[0]) }
            }
        }
        return nil   // an unborn branch (no commits yet) or a layout the files do not show
    }

    static func fromProcess(in dir: URL) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        process.currentDirectoryURL = dir
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        let hash = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return isHash(hash) ? hash : nil
    }

    /// A small text file, trimmed; nil when missing, unreadable or not small.
    private static func read(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 1 << 24,
              let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static func isHash(_ s: String) -> Bool {
        (s.count == 40 || s.count == 64) && s.allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }
}
