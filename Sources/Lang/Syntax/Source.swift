/// A source text with its display name; spans point into it.
public final class SourceFile: @unchecked Sendable {
    public let name: String
    public let path: String?
    public let text: [UInt8]
    /// Byte offset where each line starts.
    public let lineStarts: [Int]

    public init(name: String, text: String, path: String? = nil) {
        self.name = name
        self.path = path
        self.text = Array(text.utf8)
        var starts = [0]
        for (i, b) in self.text.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        self.lineStarts = starts
    }

    /// The text of one line (1-based), without its newline.
    public func line(_ n: Int) -> String {
        guard n >= 1, n <= lineStarts.count else { return "" }
        let start = lineStarts[n - 1]
        var end = n < lineStarts.count ? lineStarts[n] - 1 : text.count
        if end > start, text[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return String(decoding: text[start..<max(start, end)], as: UTF8.self)
    }
}

/// A range in a source file: 1-based line and column of its start, and its length in bytes.
public struct Span: Sendable {
    public let file: SourceFile?
    public let line: Int
    public let col: Int
    public let length: Int

    public init(file: SourceFile?, line: Int, col: Int, length: Int) {
        self.file = file
        self.line = line
        self.col = col
        self.length = length
    }

    public static let none = Span(file: nil, line: 0, col: 0, length: 0)

    /// A span covering `self` to the end of `other` when both are on one line.
    public func through(_ other: Span) -> Span {
        guard other.line == line, other.col >= col else { return self }
        return Span(file: file, line: line, col: col, length: other.col + other.length - col)
    }
}
