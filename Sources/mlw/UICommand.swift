import ArgumentParser
import Foundation
import Registry
import UI

/// `mlw ui [--port 8090] [--host 127.0.0.1] [--registry PATH] [--token T] [--serve-url URL]`:
/// runs, models and a serving server's metrics in a browser (Docs/ui.md). SIGTERM/SIGINT stop it.
struct UICommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ui", abstract: "Browse runs, models and serving metrics in a web browser.")

    @Option(help: "Address to listen on (127.0.0.1: this machine only).") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port).") var port = 8090
    @Option(help: ArgumentHelp("The registry: its root folder (default $MLW_HOME, else ./.mlw) or its registry.sqlite.", valueName: "PATH"))
    var registry: String?
    @Option(help: ArgumentHelp("Unlocks setting aliases and rolling back from the pages (default $MLW_UI_TOKEN); read-only without.", valueName: "T"))
    var token: String?
    @Option(name: .customLong("serve-url"), help: ArgumentHelp("A running mlw serve whose /metrics the serving page shows.", valueName: "URL"))
    var serveURL: String?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        if let serveURL {
            guard let u = URL(string: serveURL), u.scheme == "http" || u.scheme == "https", u.host != nil else {
                throw ValidationError("--serve-url: expected http://HOST:PORT, got '\(serveURL)'")
            }
        }
    }

    func run() throws {
        let registry = try openRegistry()
        let env = ProcessInfo.processInfo.environment
        let config = UIConfig(host: host, port: port, token: token ?? env["MLW_UI_TOKEN"],
                              serveURL: serveURL.flatMap { URL(string: $0.hasSuffix("/") ? String($0.dropLast()) : $0) })
        if !UIApp.isLoopback(host) {
            FileHandle.standardError.write(Data("warning: mlw ui listens on \(host): anyone who can reach it can read the registry\n".utf8))
        }
        let outcome = UIOutcome()
        let done = DispatchSemaphore(value: 0)
        let shownHost = host.contains(":") ? "[\(host)]" : host
        Task.detached {
            do {
                try await runUI(registry: registry, config: config) { port in
                    // Tests and scripts read the port from this line (with --port 0).
                    print("mlw ui listening on http://\(shownHost):\(port)\(config.token == nil ? " (read-only)" : "")")
                    fflush(stdout)
                }
            } catch { outcome.error = error }
            done.signal()
        }
        done.wait()
        if let e = outcome.error { throw fail("\(e)", code: 1) }
    }

    /// The registry named by --registry (a `postgres://` URL, a root folder or its database
    /// file), else $MLW_REGISTRY or the default root; a SQLite one is never created here: the
    /// UI shows what scripts recorded.
    func openRegistry() throws -> Registry {
        var option = registry
        if let r = option, !r.contains("://"), URL(fileURLWithPath: r).lastPathComponent == Registry.databaseFileName {
            option = URL(fileURLWithPath: r).deletingLastPathComponent().path
        }
        let location = try withRegistryErrors { try RegistryLocation.resolve(option) }
        if case let .sqlite(root) = location {
            guard FileManager.default.fileExists(atPath: root.appendingPathComponent(Registry.databaseFileName).path) else {
                throw fail("no registry at \(root.path) (run a script with mlw run first, or pass --registry PATH)", code: 1)
            }
        }
        return try withRegistryErrors { try Registry.open(location) }
    }
}

private final class UIOutcome: @unchecked Sendable { var error: Error? }
