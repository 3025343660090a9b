import Support

/// "Did you mean" for names, fields and help topics: one rule everywhere, so the resolver,
/// field access and the REPL suggest the same way.

/// The candidate closest to `name` when it is a likely typo: the same letters in another
/// case, or one edit away (two for names longer than four letters). Names of two letters
/// or fewer get no suggestion (too many short names are one edit apart). Ties go to the
/// earlier candidate, so callers list their own names before builtins.
public func closestName(to name: String, among candidates: [String]) -> String? {
    guard name.count > 2 else { return nil }
    let lower = name.lowercased()
    if let same = candidates.first(where: { $0 != name && $0.lowercased() == lower }) { return same }
    let limit = name.count > 4 ? 2 : 1
    var best: (name: String, distance: Int)?
    for c in candidates where c != name {
        // Lengths differing by more than the limit cannot be within it: skip the table.
        guard abs(c.utf8.count - name.utf8.count) <= limit else { continue }
        let d = editDistance(c, name)
        if d <= limit, d < (best?.distance ?? Int.max) { best = (c, d) }
    }
    return best?.name
}
