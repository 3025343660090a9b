import Foundation
import FileIO
import Support

/// Files, JSON, time, script context, assertions and type inspection.
public let ioLibrary = Library("io", doc: "Printing, files and JSON.", [
    NativeFunction("print", [], variadic: true, doc: "Print the values separated by spaces, then a newline.",
                   example: "print(\"loss\", 0.25)") { a in
        a.interpreter.output(a.rest.map(\.text).joined(separator: " ") + "\n")
        return .nil
    },
    NativeFunction("read_text", [Param("path", .string)], doc: "Contents of a UTF-8 text file.",
                   example: "write_text(\"/tmp/mlw-read.txt\", \"hi\"); read_text(\"/tmp/mlw-read.txt\")", result: "\"hi\"") { a in
        let p = try a.string("path")
        let bytes = try readTextBytes(p, a)
        guard let s = String(validating: bytes, as: UTF8.self) else { throw a.invalid("path", "'\(p)' is not UTF-8 text") }
        return .string(s)
    },
    NativeFunction("write_text", [Param("path", .string), Param("text", .string)],
                   doc: "Write text to a file: a regular file is replaced atomically (a crash leaves the old file or the new one), a symlink followed, a device or FIFO written in place.",
                   example: "write_text(\"/tmp/mlw-example.txt\", \"hi\")") { a in
        let p = try a.string("path")
        do { try SafeWrite.write(try a.string("text"), to: p) }
        catch let e as SafeWriteError { throw a.invalid("path", e.description) }
        return .nil
    },
    NativeFunction("file_exists", [Param("path", .string)], doc: "Whether a file or folder exists.",
                   example: "file_exists(\"/\")", result: "true") { a in
        .bool(FileManager.default.fileExists(atPath: try a.string("path")))
    },
    NativeFunction("json_encode", [Param("value"), Param("pretty", .bool, .bool(false))], doc: "JSON text of a value.",
                   example: "json_encode({a: [1, 2.5, nil]})", result: "\"\\{\\\"a\\\":[1,2.5,null]\\}\"") { a in
        .string(try a["value"].json(pretty: try a.bool("pretty")))
    },
    NativeFunction("json_decode", [Param("text", .string)], doc: "Parse JSON text; objects become records.",
                   example: "json_decode(\"\\{\\\"lr\\\": 0.1\\}\").lr", result: "0.1") { a in
        try Value.parseJSON(try a.string("text"))
    },
])

public let timeLibrary = Library("time", doc: "Clocks.", [
    NativeFunction("clock", [], doc: "Seconds from a monotonic clock, for measuring durations.",
                   example: "clock() >= 0", result: "true") { _ in
        .float(monotonicSeconds())
    },
    NativeFunction("now", [], doc: "Current UTC time as ISO 8601 text.", example: "len(now()) > 0", result: "true") { _ in
        .string(ISO8601DateFormatter().string(from: Date()))
    },
])

public let scriptLibrary = Library("script", doc: "The running script: arguments, parameters, checks, types, help.", [
    NativeFunction("args", [], doc: "Extra command-line arguments after the script (after --).", example: "args()", result: "[]") { a in
        .strings(a.interpreter.scriptArgs)
    },
    NativeFunction("params", [], doc: "The script's parameters as it runs with them (defaults and --set overrides).",
                   example: "params()", result: "{}") { a in
        .record(a.interpreter.paramValues)
    },
    NativeFunction("assert", [Param("cond", .bool), Param("msg", .string, .string("assertion failed"))],
                   doc: "Stop with an error when cond is false.", example: "assert(1 + 1 == 2, \"math works\")") { a in
        if try !a.bool("cond") { throw NativeError("assertion failed: \(try a.string("msg"))") }
        return .nil
    },
    NativeFunction("type", [Param("x")], doc: "The type name of a value.", example: "type(1.5)", result: "\"float\"") { a in
        .string(a["x"].typeName)
    },
    NativeFunction("error", [Param("msg", .string)], doc: "Stop with a runtime error carrying msg.",
                   example: "fn check(x) = if x < 0 { error(\"negative\") } else { x }") { a in
        throw NativeError(try a.string("msg"))
    },
    NativeFunction("help", [Param("name", .any, .nil)], doc: "List the libraries and their functions, or describe one.",
                   example: "help(\"sqrt\")") { a in
        a.interpreter.output(try a.interpreter.helpText(a["name"]) + "\n")
        return .nil
    },
])

/// The libraries every interpreter has.
public let coreLibraries = [mathLibrary, stringLibrary, collectionLibrary, ioLibrary, timeLibrary, scriptLibrary]

extension Interpreter {
    /// `help()` and `:help`: the same tables that define the functions.
    public func helpText(_ topic: Value) throws -> String {
        switch topic {
        case .nil:
            var out = "Libraries (help(\"name\") for one function or library):\n"
            for lib in libraries {
                out += "  \(lib.name): \(lib.doc)\n    " + lib.functions.map(\.name).joined(separator: ", ") + "\n"
            }
            return out
        case .string(let name):
            if let lib = libraries.first(where: { $0.name == name }) {
                return "\(lib.name): \(lib.doc)\n" + lib.functions.map { "  \($0.signature)  \($0.doc)" }.joined(separator: "\n")
            }
            let fs = libraries.flatMap(\.functions).filter { $0.name == name }
            if fs.isEmpty {
                if case .function(let f)? = builtin(name) { return "\(f.signature)  (defined in MLW)" }
                throw NativeError("no function or library named '\(name)'")
            }
            return fs.map { f in
                "\(f.signature)\n  \(f.doc)\n  example: \(f.example)" + (f.result.map { "  # => \($0)" } ?? "")
            }.joined(separator: "\n")
        case .function(let f):
            return try helpText(.string(f.name))
        default:
            throw NativeError("help takes a name or a function, got \(topic.typeName)")
        }
    }
}

/// The bytes of a regular file, at most the string limit. A device or FIFO is refused
/// before reading (`read_text("/dev/zero")` grew memory without bound), and the limit is
/// checked against the size and again while reading (the file may grow).
func readTextBytes(_ path: String, _ a: Args) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw a.invalid("path", "cannot read '\(path)': \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw a.invalid("path", "cannot read '\(path)': \(String(cString: strerror(errno)))") }
    guard st.st_mode & S_IFMT == S_IFREG else { throw a.invalid("path", "'\(path)' is not a regular file") }
    let limit = Limits.maxStringBytes
    if Int(st.st_size) > limit {
        throw NativeError("read_text: file of \(st.st_size) bytes exceeds the string limit of \(limit) bytes (256 MiB)")
    }
    var out = [UInt8](repeating: 0, count: Int(st.st_size) + 1)
    var n = 0
    while true {
        if n == out.count {
            guard out.count <= limit else {
                throw NativeError("read_text: file of more than \(limit) bytes exceeds the string limit of \(limit) bytes (256 MiB)")
            }
            out.append(contentsOf: [UInt8](repeating: 0, count: min(out.count, limit + 1 - out.count) + 1))
        }
        let r = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + n, $0.count - n) }
        if r < 0 && errno == EINTR { continue }
        guard r >= 0 else { throw a.invalid("path", "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        if r == 0 { break }
        n += r
    }
    out.removeSubrange(n...)
    return out
}
