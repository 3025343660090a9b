/// The one version string: `mlw --version`, the REPL banner, the server's `/v2` metadata
/// and run records all read it.
public let mlwVersion = "0.1.0"
