/// What the REPL session needs beyond `evalREPL`: binding `_` to the last value shown, and
/// putting the session's names back as they were before an input (a line starting with
/// `|>` re-runs the previous input with it, and must not see that input's results).
extension Interpreter {
    /// The REPL's names and their values at one moment.
    public final class REPLState {
        let visible: [String: NameDecl]
        let params: [NameDecl]
        var slots: [Value]

        init(visible: [String: NameDecl], params: [NameDecl], slots: [Value]) {
            self.visible = visible
            self.params = params
            self.slots = slots
        }

        // The last holder of a deep list must not free it by recursion.
        deinit { for i in slots.indices { Value.release(&slots[i]) } }
    }

    public func replState() -> REPLState {
        guard let scope = replScope else { return REPLState(visible: [:], params: [], slots: []) }
        // A failed resolve may have counted slots the compiler never allocated.
        replGlobals.ensure(scope.globalCount)
        let slots = (0..<scope.globalCount).map { replGlobals.slots[$0] }
        return REPLState(visible: scope.visible, params: scope.params, slots: slots)
    }

    /// Every name as in `state`; names defined since are undefined again. Slots are never
    /// handed out twice, so a later declaration keeps its own slot.
    public func restoreREPL(_ state: REPLState) {
        guard let scope = replScope else { return }
        scope.visible = state.visible
        scope.params = state.params
        replGlobals.ensure(scope.globalCount)
        for i in 0..<scope.globalCount {
            storeSlot(replGlobals.slots + i, i < state.slots.count ? state.slots[i] : .undefined)
        }
    }

    /// Binds `name` in the REPL scope to `value` (a `let`, so inputs may define it again).
    public func bindREPL(_ name: String, _ value: Value) {
        let scope = replScope ?? ModuleScope(name: "<repl>", allowRedefinition: true)
        replScope = scope
        let decl: NameDecl
        if let d = scope.visible[name], d.isGlobal {
            decl = d
        } else {
            decl = NameDecl(name: name, span: .none, kind: .let)
            decl.isGlobal = true
            decl.slot = scope.globalCount
            scope.globalCount += 1
            scope.visible[name] = decl
        }
        replGlobals.ensure(scope.globalCount)
        storeSlot(replGlobals.slots + decl.slot, value)
    }
}
