import Graph
import Tensor

/// `Executor` clashes with Foundation's concurrency protocol in main.swift; this file does
/// not import Foundation.
func runner(_ g: Graph) throws -> ([String: Tensor]) throws -> Void {
    let e = try Executor(g)
    return { feeds in _ = try e.run(feeds) }
}
