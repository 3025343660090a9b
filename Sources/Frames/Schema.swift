import Foundation

/// Rules for one column. Every field is optional: nil means "not checked".
///
///     ColumnRule(type: .category, allowed: (0..<10).map { .int($0) })
///     ColumnRule(type: .float, min: 0, max: 1, nullable: false)
public struct ColumnRule: Codable, Equatable, Sendable {
    /// Expected type. `.float` accepts ints; `.int` accepts integral floats;
    /// `.string`/`.category` accept any cell (compare `allowed` against its text).
    public var type: ColumnType?
    public var min: Double?
    public var max: Double?
    /// Allowed values; numbers and strings compare by their text ("3" == 3).
    public var allowed: [DataValue]?
    /// Whether missing cells are allowed.
    public var nullable: Bool
    /// Whether every non-missing value must be distinct.
    public var unique: Bool

    public init(type: ColumnType? = nil, min: Double? = nil, max: Double? = nil, allowed: [DataValue]? = nil,
                nullable: Bool = true, unique: Bool = false) {
        self.type = type; self.min = min; self.max = max; self.allowed = allowed
        self.nullable = nullable; self.unique = unique
    }

    enum CodingKeys: String, CodingKey { case type, min, max, allowed, values, nullable, unique }

    /// Reads `allowed` or its alias `values` (the MLW spelling: `{type: "category", values: range(10)}`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = try c.decodeIfPresent(ColumnType.self, forKey: .type)
        min = try c.decodeIfPresent(Double.self, forKey: .min)
        max = try c.decodeIfPresent(Double.self, forKey: .max)
        allowed = try c.decodeIfPresent([DataValue].self, forKey: .allowed)
            ?? c.decodeIfPresent([DataValue].self, forKey: .values)
        nullable = try c.decodeIfPresent(Bool.self, forKey: .nullable) ?? true
        unique = try c.decodeIfPresent(Bool.self, forKey: .unique) ?? false
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(type, forKey: .type)
        try c.encodeIfPresent(min, forKey: .min)
        try c.encodeIfPresent(max, forKey: .max)
        try c.encodeIfPresent(allowed, forKey: .allowed)
        try c.encode(nullable, forKey: .nullable)
        try c.encode(unique, forKey: .unique)
    }
}

/// Column rules by name. A rule for a column the dataset lacks is a violation.
public struct Schema: Codable, Equatable, Sendable {
    public var columns: [String: ColumnRule]
    public init(_ columns: [String: ColumnRule]) { self.columns = columns }

    /// JSON form is flat: `{"column": {rule}, ...}`.
    public init(from decoder: Decoder) throws {
        columns = try decoder.singleValueContainer().decode([String: ColumnRule].self)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(columns)
    }

    /// Reads a schema from JSON: `{"digit": {"type": "category", "values": [0, 1, 2]}}`.
    public init(json: Data) throws {
        do { self = try JSONDecoder().decode(Schema.self, from: json) }
        catch { throw DataError(.badJSON, "not a schema: \(error)") }
    }

    /// Stable JSON text (sorted keys), used in lineage.
    public var canonicalJSON: String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys]
        return (try? enc.encode(self)).flatMap { String(data: $0, encoding: .utf8) } ?? ""
    }
}
