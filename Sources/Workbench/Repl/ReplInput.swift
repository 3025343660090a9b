import Foundation

/// Lines from a file descriptor (the piped REPL's standard input), with a look at whether
/// more input is already waiting, so the session can hold a complete input until it sees
/// whether the next line starts with `|>`. Its own buffer, not stdio's: what stdio has
/// read ahead could not be seen from here.
public final class LineReader {
    public enum Line: Equatable {
        case text(String)
        /// A line longer than the limit, skipped; its number (from 1).
        case tooLong(Int)
    }

    let fd: Int32
    let maxLine: Int
    var buf: [UInt8] = []
    var start = 0
    var atEOF = false
    var lineNumber = 0

    public init(fd: Int32, maxLine: Int = 16 << 20) {
        self.fd = fd
        self.maxLine = maxLine
    }

    /// The next line without its line break (`\n` or `\r\n`), nil at the end of input.
    /// Blocks until a whole line (or the end) has arrived.
    public func next() -> Line? {
        var skipping = false
        var scanned = start
        while true {
            if let nl = buf[scanned...].firstIndex(of: 10) {
                lineNumber += 1
                var end = nl
                if end > start && buf[end - 1] == 13 { end -= 1 }
                let line = skipping || nl - start > maxLine ? "" : String(decoding: buf[start..<end], as: UTF8.self)
                let long = skipping || nl - start > maxLine
                start = nl + 1
                compact()
                return long ? .tooLong(lineNumber) : .text(line)
            }
            scanned = buf.count
            if buf.count - start > maxLine {
                // Drop what is buffered of the long line; keep reading to its end.
                skipping = true
                buf.removeAll(keepingCapacity: true)
                start = 0
                scanned = 0
            }
            if atEOF || !fill() {
                guard start < buf.count || skipping else { return nil }
                lineNumber += 1
                let line = String(decoding: buf[start...], as: UTF8.self)
                buf.removeAll()
                start = 0
                return skipping ? .tooLong(lineNumber) : .text(line)
            }
        }
    }

    /// Input is buffered (a next line, whole or in part), or the descriptor has input (or
    /// its end) right now.
    public var hasMore: Bool {
        if start < buf.count || atEOF { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) > 0
    }

    /// Reads once; false at the end of input or on an error other than EINTR.
    func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                buf.append(contentsOf: chunk[..<n])
                return true
            }
            if n < 0 && errno == EINTR { continue }
            atEOF = true
            return false
        }
    }

    func compact() {
        if start > 65536 && start * 2 > buf.count {
            buf.removeSubrange(..<start)
            start = 0
        }
    }
}
