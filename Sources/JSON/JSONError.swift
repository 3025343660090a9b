/// A parse error with its place: the byte offset into the input and the 1-based line and
/// column it falls on (columns count characters, not bytes).
///
///     "line 1, column 12: unexpected end of input"
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable { case syntax, tooDeep }
    public let kind: Kind
    public let message: String
    public let offset: Int
    public let line: Int
    public let column: Int

    public init(_ kind: Kind, _ message: String, offset: Int, line: Int, column: Int) {
        self.kind = kind; self.message = message; self.offset = offset; self.line = line; self.column = column
    }

    /// Locates `offset` in `bytes`; only called on the error path, so it may scan.
    init(_ kind: Kind, _ message: String, at offset: Int, in bytes: UnsafeRawBufferPointer) {
        var line = 1, column = 1
        for k in 0..<min(offset, bytes.count) {
            let b = bytes[k]
            if b == 0x0A { line += 1; column = 1 } else if b & 0xC0 != 0x80 { column += 1 }
        }
        self.init(kind, message, offset: offset, line: line, column: column)
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}
