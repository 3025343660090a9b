import Foundation
import Lang
import Registry

/// What `mlw reproduce` keeps in memory instead of writing to the registry's versions and
/// aliases. The re-run must behave as the original did (it registers, moves aliases and
/// resolves its own moves), but checking a run must neither create model versions nor move
/// `production` for everybody else.
///
/// - `register` stores the artifact (content-addressed, so its hash can be compared) and
///   links it to the reproduce run with the label `reproduce:NAME:K` (K-th call for NAME);
///   the call answers a version record that exists only here. Its number is the version
///   the original run's K-th registration of NAME got, so the script prints what it printed
///   the first time; extra registrations count on from the registry's latest.
/// - Alias moves stack per alias, so `rollback` undoes this run's own moves.
/// - `resolve` sees this run's versions and alias moves first, then the registry.
///
///     session.startReproducing(original: details.modelVersions)   // before the script runs
final class ReproduceSandbox {
    struct Key: Hashable { let model: String, alias: String }
    /// A version this run would have registered.
    struct Virtual {
        let name: String, version: Int, artifact: Artifact, metrics: [String: Double], run: RunID?, created: Date
    }

    /// Per alias: the registry's version when first touched (nil: no such alias), then
    /// every version this run moved it to.
    private var stacks: [Key: [Int?]] = [:]
    /// Per model, this run's registrations in call order.
    private var registered: [String: [Virtual]] = [:]
    /// Per model, the version numbers the original run registered, in order.
    private let originalVersions: [String: [Int]]

    init(original: [ModelVersion] = []) {
        var byModel: [String: [Int]] = [:]
        for v in original.sorted(by: { ($0.modelName, $0.version) < ($1.modelName, $1.version) }) {
            byModel[v.modelName, default: []].append(v.version)
        }
        originalVersions = byModel
    }

    /// Stores the file as an artifact of `run` (not a version) and answers the version record
    /// the call stands for; `alias` moves inside the sandbox.
    func register(file: URL, name: String, metrics: [String: Double], alias: String?, kind: ArtifactKind,
                  run: RunID?, registry: Registry) throws -> Value {
        try RegistryName.validate(name, kind: "model")
        if let alias { try RegistryName.validate(alias, kind: "alias") }
        let calls = registered[name] ?? []
        let index = calls.count + 1
        let artifact = try registry.storeArtifact(file: file, run: run, label: ReproduceLabel(model: name, index: index).label)
        let original = originalVersions[name] ?? []
        let version: Int
        if index <= original.count {
            version = original[index - 1]
        } else {
            let latest = (try? registry.resolve(.latest(model: name)).version) ?? 0
            version = max(latest, calls.last?.version ?? 0, original.last ?? 0) + 1
        }
        let v = Virtual(name: name, version: version, artifact: artifact, metrics: metrics, run: run, created: Date())
        registered[name] = calls + [v]
        if let alias { _ = try set(name, alias, to: version, registry: registry) }
        return record(v)
    }

    /// The record `resolve` answers inside the sandbox, or nil when the registry decides.
    func resolve(_ reference: ModelReference) -> Value? {
        switch reference {
        case let .latest(model):
            return registered[model]?.max(by: { $0.version < $1.version }).map(record)
        case let .version(model, version):
            return registered[model]?.last(where: { $0.version == version }).map(record)
        case let .alias(model, alias):
            guard let v = version(model, alias) else { return nil }
            return registered[model]?.last(where: { $0.version == v }).map(record)
        }
    }

    /// The version `name@alias` points to inside the sandbox, if this run moved it.
    func version(_ model: String, _ alias: String) -> Int? {
        guard let stack = stacks[Key(model: model, alias: alias)], stack.count > 1 else { return nil }
        return stack.last!
    }

    /// Whether `name:version` exists for this run (its own registrations or the registry).
    func checkExists(_ model: String, _ version: Int, registry: Registry) throws {
        if registered[model]?.contains(where: { $0.version == version }) == true { return }
        _ = try registry.resolve(.version(model: model, version: version))
    }

    /// Moves `name@alias` to `version` (which the caller checked exists); returns the move.
    func set(_ model: String, _ alias: String, to version: Int, registry: Registry) throws -> Value {
        try RegistryName.validate(alias, kind: "alias")
        let key = Key(model: model, alias: alias)
        var stack = try stacks[key] ?? [current(model, alias, registry)]
        let old = stack.last!
        stack.append(version)
        stacks[key] = stack
        return RegistryValues.aliasMove(model, alias, from: old, to: version, reason: .set)
    }

    /// Undoes this run's latest move of `name@alias`. Rolling back a move made before the
    /// reproduced run cannot be replayed without writing, so it is an error.
    func rollback(_ model: String, _ alias: String) throws -> Value {
        let key = Key(model: model, alias: alias)
        guard var stack = stacks[key], stack.count > 1 else {
            throw NativeError("mlw reproduce cannot replay rollback(\"\(model)\", \"\(alias)\"): the alias was not moved earlier in this run")
        }
        guard let previous = stack[stack.count - 2] else { throw RegistryError.nothingToRollBack(model: model, alias: alias) }
        let undone = stack.removeLast()!
        stacks[key] = stack
        return RegistryValues.aliasMove(model, alias, from: undone, to: previous, reason: .rollback)
    }

    private func current(_ model: String, _ alias: String, _ registry: Registry) throws -> Int? {
        do {
            return try registry.resolve(.alias(model: model, alias: alias)).version
        } catch RegistryError.unknownAlias {
            return nil
        } catch RegistryError.unknownModel {
            return nil
        }
    }

    private func record(_ v: Virtual) -> Value {
        RegistryValues.versionRecord(name: v.name, version: v.version, artifact: v.artifact.sha256, path: v.artifact.path,
                                     run: v.run, metrics: v.metrics, created: v.created)
    }
}
