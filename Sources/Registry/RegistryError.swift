import Foundation

/// Every error the registry reports on purpose. `description` is a complete, user-facing
/// sentence, so the CLI and the MLW binding print it as is.
///
///     do { _ = try registry.resolve("iris@prod") } catch let e as RegistryError { print(e) }
public enum RegistryError: Error, CustomStringConvertible, Equatable, Sendable {
    /// A model, alias or metric name breaks the naming rule.
    case invalidName(kind: String, name: String)
    /// A model reference (`name`, `name:3`, `name@alias`) does not parse.
    case invalidReference(String, reason: String)
    /// No model is registered under this name.
    case unknownModel(String)
    /// The model exists but has no such version.
    case unknownVersion(model: String, version: Int)
    /// The model exists but has no such alias.
    case unknownAlias(model: String, alias: String)
    /// No run has this id (or id prefix).
    case unknownRun(String)
    /// A run id prefix matches several runs.
    case ambiguousRun(String, matches: [String])
    /// No artifact with this SHA-256 is stored.
    case unknownArtifact(String)
    /// `rollback` found nothing earlier in the alias history.
    case nothingToRollBack(model: String, alias: String)
    /// The file exists but is not an SQLite database at all.
    case notADatabase(path: String, detail: String)
    /// The file is an SQLite database, but not one this registry created.
    case foreignDatabase(path: String, detail: String)
    /// The database was written by a newer MLW (it has migrations this build does not know).
    case newerSchema(path: String, unknownMigrations: [String])
    /// A value the schema cannot hold (NaN metric, negative step, invalid JSON, ...).
    case invalidValue(String)
    /// A run that already ended cannot be ended again.
    case runAlreadyFinished(String)
    /// The database or file system failed underneath; `detail` carries SQLite's message.
    case storage(String)
    /// Another process held the database's write lock (or the set-up lock file `path`)
    /// longer than the registry's lock wait; `holder` describes it when it can be found.
    case locked(path: String, holder: String?, waited: TimeInterval)

    public var description: String {
        switch self {
        case let .invalidName(kind, name):
            return "invalid \(kind) name '\(name)': use a letter followed by up to 63 letters, digits, '_', '.' or '-'"
        case let .invalidReference(ref, reason):
            return "invalid model reference '\(ref)': \(reason) (expected 'name', 'name:VERSION' or 'name@ALIAS')"
        case let .unknownModel(name):
            return "unknown model '\(name)'"
        case let .unknownVersion(model, version):
            return "model '\(model)' has no version \(version)"
        case let .unknownAlias(model, alias):
            return "model '\(model)' has no alias '\(alias)'"
        case let .unknownRun(id):
            return "unknown run '\(id)'"
        case let .ambiguousRun(prefix, matches):
            return "run id prefix '\(prefix)' is ambiguous: it matches \(matches.joined(separator: ", "))"
        case let .unknownArtifact(sha):
            return "unknown artifact \(sha)"
        case let .nothingToRollBack(model, alias):
            return "cannot roll back '\(model)@\(alias)': it has no earlier version in its history"
        case let .notADatabase(path, detail):
            return "'\(path)' is not a registry database (not an SQLite file: \(detail))"
        case let .foreignDatabase(path, detail):
            return "'\(path)' is an SQLite database but not an MLW registry (\(detail))"
        case let .newerSchema(path, ids):
            return "'\(path)' was written by a newer MLW (unknown migrations: \(ids.joined(separator: ", "))); upgrade mlw"
        case let .invalidValue(message):
            return message
        case let .runAlreadyFinished(id):
            return "run '\(id)' has already ended"
        case let .storage(detail):
            return "registry storage error: \(detail)"
        case let .locked(path, holder, waited):
            let who = holder ?? "another process (an mlw process or an SQLite client; not found in /proc/locks)"
            let secs = waited == waited.rounded() ? String(Int(waited)) : String(waited)
            return "the registry '\(path)' is locked by \(who); gave up after \(secs) s "
                + "(wait for it to finish or stop it; MLW_REGISTRY_LOCK_WAIT=SECONDS waits longer)"
        }
    }
}

extension RegistryError: LocalizedError {
    public var errorDescription: String? { description }
}
