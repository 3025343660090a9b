import Foundation

/// Locates the MLW standard library files (`std/*.mlw`) shipped as package resources.
public enum StdlibFiles {
    /// Folder holding `NAME.mlw` for `import std.NAME`.
    public static var directory: URL { Bundle.module.bundleURL.appendingPathComponent("std") }
}
