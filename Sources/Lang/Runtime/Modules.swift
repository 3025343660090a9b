import FileIO
import Foundation

/// `import "lib/util.mlw" as util` and `import std.metrics`: a module runs once, its
/// top-level names (except those starting with `_`) become a record-like module value.
extension Interpreter {
    func importPath(_ imp: ImportDecl, from file: SourceFile) throws -> String {
        if let std = imp.stdName {
            guard let dir = stdlibDirectory else {
                throw MLWError.runtime("the standard library folder was not found, so 'std.\(std)' cannot be imported", at: imp.span)
            }
            let p = (dir as NSString).appendingPathComponent("\(std).mlw")
            guard FileManager.default.fileExists(atPath: p) else {
                let have = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [])
                    .filter { $0.hasSuffix(".mlw") && $0 != "prelude.mlw" }.map { "std." + $0.dropLast(4) }.sorted()
                throw MLWError.runtime("no standard module 'std.\(std)' (available: \(have.joined(separator: ", ")))", at: imp.span)
            }
            return p
        }
        let rel = imp.path ?? ""
        if rel.hasPrefix("/") { return rel }
        let baseDir = file.path.map { parentDirectory($0) } ?? FileManager.default.currentDirectoryPath
        return ((baseDir.isEmpty ? "." : baseDir) as NSString).appendingPathComponent(rel)
    }

    func importModule(_ imp: ImportDecl, from file: SourceFile) throws -> Value {
        let path = try importPath(imp, from: file)
        guard FileManager.default.fileExists(atPath: path) else {
            throw MLWError.runtime("cannot import '\(imp.path ?? "")': no such file next to the importing script", at: imp.span)
        }
        return try loadModule(path: path, name: imp.stdName.map { "std.\($0)" } ?? imp.decl.name, span: imp.span)
    }

    func loadModule(path: String, name: String, span: Span) throws -> Value {
        let key = canonical(path)
        if let m = moduleCache[key] { return m }
        if let i = loading.firstIndex(of: key) {
            let cycle = (loading[i...] + [key]).map(shortName).joined(separator: " -> ")
            throw MLWError.runtime("import cycle: \(cycle)", at: span)
        }
        loading.append(key)
        defer { loading.removeLast() }
        let file = try Interpreter.readSource(path, name: displayName(path))
        let program = try Parser.parse(file)
        let scope = ModuleScope(name: name)
        try Resolver.resolve(program, module: scope, builtin: builtin, builtinNames: { self.builtinNames })
        let globals = Globals(capacity: max(16, scope.globalCount + 1))
        let body = Compiler(interp: self, globals: globals, file: file).program(program.stmts, module: scope)
        _ = try body(ctx)
        let exported = scope.names.filter { !$0.name.hasPrefix("_") && !isUndefined(globals.slots[$0.slot]) }
        let module = Value.record(Record(keys: exported.map(\.name), values: exported.map { globals.slots[$0.slot] }, moduleName: name))
        moduleCache[key] = module
        return module
    }

    /// Paths in messages stay as short as the user wrote them: relative to the working directory.
    func displayName(_ path: String) -> String {
        let cwd = FileManager.default.currentDirectoryPath + "/"
        let full = canonical(path)
        return full.hasPrefix(cwd) ? String(full.dropFirst(cwd.count)) : path
    }
}
