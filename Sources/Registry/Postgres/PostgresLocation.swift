import Foundation

/// Where a PostgreSQL registry lives: `postgres://user[:password]@host[:port]/database[?schema=NAME]`.
/// `schema` (optional) keeps the registry's tables in that schema, created when missing, so
/// several registries (or tests) can share one database.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var schema: String?

    /// Parses a `postgres://` or `postgresql://` URL; throws `invalidValue` naming the part that is wrong.
    public static func parse(_ text: String) throws -> PostgresLocation {
        guard text.hasPrefix("postgres://") || text.hasPrefix("postgresql://"), let url = URLComponents(string: text) else {
            throw RegistryError.invalidValue("registry URL must look like postgres://user@host:port/database, got '\(text)'")
        }
        guard let host = url.host, !host.isEmpty else { throw RegistryError.invalidValue("registry URL '\(text)' has no host") }
        guard let user = url.user, !user.isEmpty else { throw RegistryError.invalidValue("registry URL '\(text)' has no user (postgres://USER@host/db)") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw RegistryError.invalidValue("registry URL '\(text)' has port \(port), outside 1...65535") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw RegistryError.invalidValue("registry URL '\(text)' names no database (postgres://user@host/DATABASE)") }
        var schema: String?
        for item in url.queryItems ?? [] {
            guard item.name == "schema", let value = item.value else {
                throw RegistryError.invalidValue("registry URL '\(text)': unknown parameter '\(item.name)' (only schema=NAME)")
            }
            // Quoted into SQL as an identifier: a strict rule keeps it safe and portable.
            guard value.count <= 63, let first = value.first, first.isLetter || first == "_",
                  value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw RegistryError.invalidValue("registry URL '\(text)': schema must be 1 to 63 letters, digits or '_', starting with a letter")
            }
            schema = value.lowercased()
        }
        return PostgresLocation(host: host, port: port, user: user, password: url.password, database: database, schema: schema)
    }

    /// The URL without the password.
    public var description: String {
        "postgres://\(user)@\(host):\(port)/\(database)" + (schema.map { "?schema=\($0)" } ?? "")
    }
}
