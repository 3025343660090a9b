import Foundation
import Lang
import Registry

/// Alias moves kept in memory instead of the registry, for `mlw reproduce`: the script sees
/// its own `set_alias`/`register(alias:)` moves when it resolves `name@alias`, exactly as in
/// the original run, but checking a run never moves `production` for everybody else.
///
///     session.aliasSandbox = AliasSandbox()   // before the reproduced script runs
final class AliasSandbox {
    struct Key: Hashable { let model: String, alias: String }
    /// Per alias: the registry's version when first touched (nil: no such alias), then
    /// every version this run moved it to.
    private var stacks: [Key: [Int?]] = [:]

    /// The version `name@alias` points to inside the sandbox, if this run moved it.
    func version(_ model: String, _ alias: String) -> Int? {
        guard let stack = stacks[Key(model: model, alias: alias)], stack.count > 1 else { return nil }
        return stack.last!
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
        }
    }
}
