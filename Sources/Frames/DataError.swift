import Foundation

/// Every error the Frames module throws. Messages name the file, the 1-based line and the
/// column where one is known, in the form `file:line: column 'x': message`, so the
/// binding can show them as they are.
public struct DataError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable, Codable {
        case io, emptyFile, raggedRow, unterminatedQuote, invalidUTF8, typeConflict
        case badJSON, unknownColumn, validation, badArgument, missingField, notSerializable
        /// A device, FIFO, socket or folder given to a reader; a field, record or file over its size limit.
        case notRegularFile, tooLarge
    }
    public var kind: Kind
    public var file: String?
    /// 1-based source line (CSV/JSONL line where the record starts), when known.
    public var line: Int?
    public var column: String?
    public var message: String
    /// Filled for `.validation` errors: the full report of every violation.
    public var report: ValidationReport?

    public init(_ kind: Kind, _ message: String, file: String? = nil, line: Int? = nil,
                column: String? = nil, report: ValidationReport? = nil) {
        self.kind = kind; self.message = message; self.file = file
        self.line = line; self.column = column; self.report = report
    }

    public var description: String {
        var prefix = ""
        if let file { prefix += file }
        if let line { prefix += (prefix.isEmpty ? "line " : ":") + String(line) }
        if !prefix.isEmpty { prefix += ": " }
        if let column { prefix += "column '\(column)': " }
        return prefix + message
    }
}
