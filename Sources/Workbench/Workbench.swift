import Foundation
import Lang
import Stdlib
import Support

/// Assembles the interpreter every front end uses (`mlw run`, the REPL, tests): the core
/// libraries, the ML libraries, and the standard library written in MLW.
public enum Workbench {
    /// The one version string (Support), re-exposed for front ends that import only Workbench.
    public static var version: String { mlwVersion }

    /// Every native library, in the order `help()` lists them.
    public static var libraries: [Library] { coreLibraries + [tensorLibrary, dataLibrary, stageLibrary, trainLibrary, autodiffLibrary, graphLibrary, compressLibrary, registryLibrary, serveLibrary, treesLibrary, recommendLibrary, classicalLibrary, distributedLibrary] }

    /// The `std` folder: looked up beside the running executable first, where SwiftPM puts
    /// the resource bundle (`Bundle.module` finds the same folder, but setting up Foundation's
    /// bundles costs about a millisecond of every start), else through `Bundle.module`.
    public static var stdlibDirectory: String {
        if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            let dir = (exe as NSString).deletingLastPathComponent + "/mlw_Stdlib.resources/std"
            if FileManager.default.fileExists(atPath: dir + "/prelude.mlw") { return dir }
        }
        return StdlibFiles.directory.path
    }

    /// A ready interpreter with the prelude loaded.
    public static func makeInterpreter(maxDepth: Int = 4000) throws -> Interpreter {
        let interp = Interpreter(libraries: libraries, stdlibDirectory: stdlibDirectory, maxDepth: maxDepth)
        try interp.loadPrelude()
        return interp
    }

    /// Runs `body` on a thread with a large stack, so deep (but bounded) recursion in
    /// scripts, the parser and printing cannot overflow the native stack.
    public static func onLargeStack<T>(_ body: @escaping () -> T) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        let thread = Thread {
            box.value = body()
            done.signal()
        }
        thread.stackSize = 1 << 29
        thread.start()
        done.wait()
        return box.value!
    }
}

final class ResultBox<T>: @unchecked Sendable {
    var value: T?
}
