import Foundation

/// Naming rule shared by models, aliases and metric keys: a letter, then up to 63 letters,
/// digits, `_`, `.` or `-`. The same rule is a CHECK constraint in the schema.
///
///     RegistryName.isValid("iris-v2")  // true
public enum RegistryName {
    /// Maximum length of a name, in characters.
    public static let maxLength = 64

    /// True when `name` follows the naming rule.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, isLetter(first) else { return false }
        return bytes.dropFirst().allSatisfy { isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "_")
            || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    /// Throws `RegistryError.invalidName` unless `name` follows the naming rule.
    public static func validate(_ name: String, kind: String) throws {
        guard isValid(name) else { throw RegistryError.invalidName(kind: kind, name: name) }
    }

    private static func isLetter(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
    }
    private static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
}

/// A parsed model reference, the text users type to name a model version.
///
///     try ModelReference.parse("iris@production") // .alias(model: "iris", alias: "production")
///     try ModelReference.parse("iris:3")          // .version(model: "iris", version: 3)
///     try ModelReference.parse("iris")            // .latest(model: "iris")
public enum ModelReference: Equatable, Sendable, CustomStringConvertible {
    /// The highest version of the model.
    case latest(model: String)
    /// One exact version number.
    case version(model: String, version: Int)
    /// The version an alias currently points to.
    case alias(model: String, alias: String)

    /// The model name part of the reference.
    public var model: String {
        switch self {
        case let .latest(m), let .version(m, _), let .alias(m, _): return m
        }
    }

    /// The canonical text form; `parse(ref.description) == ref`.
    public var description: String {
        switch self {
        case let .latest(m): return m
        case let .version(m, v): return "\(m):\(v)"
        case let .alias(m, a): return "\(m)@\(a)"
        }
    }

    /// Parses `name`, `name:VERSION` or `name@ALIAS`, with errors that say what is wrong.
    public static func parse(_ text: String) throws -> ModelReference {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { throw RegistryError.invalidReference(text, reason: "it is empty") }
        let hasColon = trimmed.contains(":"), hasAt = trimmed.contains("@")
        if hasColon && hasAt {
            throw RegistryError.invalidReference(text, reason: "use either ':VERSION' or '@ALIAS', not both")
        }
        if hasColon || hasAt {
            let separator: Character = hasColon ? ":" : "@"
            let parts = trimmed.split(separator: separator, maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]), rest = String(parts[1])
            try checkName(name, in: text)
            if hasColon {
                guard !rest.isEmpty else { throw RegistryError.invalidReference(text, reason: "the version after ':' is missing") }
                guard rest.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int(rest), v >= 1 else {
                    throw RegistryError.invalidReference(text, reason: "version '\(rest)' is not a positive integer")
                }
                return .version(model: name, version: v)
            }
            guard !rest.isEmpty else { throw RegistryError.invalidReference(text, reason: "the alias after '@' is missing") }
            guard RegistryName.isValid(rest) else {
                throw RegistryError.invalidReference(text, reason: "alias '\(rest)' is not a valid name")
            }
            return .alias(model: name, alias: rest)
        }
        try checkName(trimmed, in: text)
        return .latest(model: trimmed)
    }

    private static func checkName(_ name: String, in text: String) throws {
        guard !name.isEmpty else { throw RegistryError.invalidReference(text, reason: "the model name is missing") }
        guard RegistryName.isValid(name) else {
            throw RegistryError.invalidReference(text, reason: "model name '\(name)' is not a valid name")
        }
    }
}
