import Foundation

/// How `readCSV` reads a file. Defaults follow RFC 4180 with a header row.
///
///     var o = CSVOptions(); o.delimiter = ";"; o.types = ["zip": .string]; o.label = "y"
public struct CSVOptions: Sendable, Equatable {
    /// Field separator; one ASCII character.
    public var delimiter: Character = ","
    /// The first record holds column names; otherwise columns are named c0, c1, ...
    public var hasHeader = true
    /// Cell texts read as missing (compared after no trimming; "" is always missing).
    public var missingValues: Set<String> = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"]
    /// Explicit schema: declared column types. A value that does not fit is an error
    /// naming file, line and column. Undeclared columns are inferred.
    public var types: [String: ColumnType] = [:]
    /// Label column (role); every other column is a feature unless `features` is set.
    public var label: String?
    /// Explicit feature columns.
    public var features: [String]?
    /// An inferred text column becomes a category when it has at most this many distinct
    /// values and at most half as many distinct values as non-missing cells.
    public var maxCategoryLevels = 32
    /// Bytes read per chunk; the file is never held in memory whole.
    public var chunkSize = 1 << 22
    /// Hash file bytes (SHA-256) for lineage. Turn off only for throwaway benchmarks.
    public var hashContent = true
    /// Where to remember file hashes between runs (nil: always hash). See `FileHashCache`.
    public var fileHashCache: FileHashCache?
    /// Longest field, in bytes as stored in the file (for a quoted field, its content
    /// between the quotes): a longer one is an error naming its line. Default 128 MiB.
    public var maxFieldBytes = CSVOptions.defaultMaxFieldBytes
    /// Longest record (one row, embedded newlines included); the read buffer never grows
    /// past it, so a file without newlines cannot take all memory. Default 256 MiB.
    public var maxRecordBytes = CSVOptions.defaultMaxRecordBytes
    public static let defaultMaxFieldBytes = 128 << 20
    public static let defaultMaxRecordBytes = 256 << 20
    /// Read only this part of the file's records (the header is read by every shard); see
    /// `Shard` and `CSVShardPlan`. nil: the whole file.
    public var shard: Shard?
    /// Files at least this big, in chunks without quotes, parse half of the columns on a
    /// second core. Internal: tests lower it to run the two-core path on small files.
    var twoCoreMinBytes = 8 << 20

    public init(delimiter: Character = ",", hasHeader: Bool = true, types: [String: ColumnType] = [:],
                label: String? = nil, features: [String]? = nil) {
        self.delimiter = delimiter; self.hasHeader = hasHeader; self.types = types
        self.label = label; self.features = features
    }

    /// Stable text of the options that change what is read (goes into lineage).
    var lineageParams: String {
        var parts = ["delimiter=\(delimiter)", "header=\(hasHeader)"]
        parts.append("missing=" + missingValues.sorted().joined(separator: "|"))
        if !types.isEmpty { parts.append("types=" + types.keys.sorted().map { "\($0):\(types[$0]!.rawValue)" }.joined(separator: ",")) }
        parts.append("max_levels=\(maxCategoryLevels)")
        if let shard { parts.append("shard=\(shard)") }
        return parts.joined(separator: " ")
    }
}
