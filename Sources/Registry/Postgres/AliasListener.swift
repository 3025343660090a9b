import Foundation
import Logging
import NIOCore
import PostgresNIO

/// What `listenForAliasMoves` reports.
public enum AliasWatchEvent: Sendable, Equatable {
    /// `LISTEN` is active on a fresh connection: moves made while it was not (before, or
    /// while reconnecting) were not announced, so the caller should re-check every alias.
    case listening
    /// An alias of this model moved (the `NOTIFY` payload, sent when the move committed).
    case moved(model: String)
    /// The listening connection failed or closed; it is retried after a pause, and until
    /// then the caller should poll.
    case lost(String)
}

extension Registry {
    /// Follows alias moves of a PostgreSQL registry: one dedicated connection runs
    /// `LISTEN mlw_alias` (`aliasChannel`) and `handler` gets each move as it commits.
    /// Runs until the task is cancelled, reconnecting `retry` after a failure. Returns at
    /// once for a SQLite registry (it has no notifications: poll `resolve` instead).
    ///
    ///     let watcher = Task { await registry.listenForAliasMoves { event in print(event) } }
    public func listenForAliasMoves(retry: Duration = .seconds(1), _ handler: @escaping @Sendable (AliasWatchEvent) -> Void) async {
        guard let location = postgres?.location else { return }
        let config = PostgresConnection.Configuration(host: location.host, port: location.port, username: location.user,
                                                      password: location.password, database: location.database, tls: .disable)
        while !Task.isCancelled {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: config, id: 2, logger: PostgresSession.logger)
            } catch {
                if Task.isCancelled { return }
                handler(.lost("connecting to \(location): \(PostgresSession.message(error))"))
                try? await Task.sleep(for: retry)
                continue
            }
            var why = "the listening connection to \(location) closed"
            do {
                // Cancelling closes the connection, which ends the notification sequence.
                try await withTaskCancellationHandler {
                    // Channels are per database (not per schema): a registry in another schema of
                    // the same database may wake us; the caller's re-check finds nothing moved.
                    try await connection.listen(on: Registry.aliasChannel) { notifications in
                        handler(.listening)
                        for try await n in notifications { handler(.moved(model: n.payload)) }
                    }
                } onCancel: {
                    let _: EventLoopFuture<Void> = connection.close()
                }
            } catch {
                why = "listening on \(location): \(PostgresSession.message(error))"
            }
            // Closed on every path (PostgresNIO asserts a connection is closed before it goes).
            try? await connection.close()
            if Task.isCancelled { return }
            handler(.lost(why))
            try? await Task.sleep(for: retry)
        }
    }
}
