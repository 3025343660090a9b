import Foundation

/// Every error the server answers with: an HTTP status and a sentence naming the field.
/// Rendered as `{"error": "..."}` (the KServe V2 error shape) by `ErrorMiddleware`.
public struct ServeError: Error, CustomStringConvertible, Sendable {
    public let status: Int
    public let message: String
    public init(_ status: Int, _ message: String) { self.status = status; self.message = message }
    public var description: String { message }

    static func badRequest(_ m: String) -> ServeError { ServeError(400, m) }
    static func notFound(_ m: String) -> ServeError { ServeError(404, m) }
    static func unavailable(_ m: String) -> ServeError { ServeError(503, m) }
    static func tooLarge(_ limit: Int) -> ServeError { ServeError(413, "request body is larger than \(limit) bytes") }
    /// A version was swapped out between choosing it and queueing; the caller retries.
    static let retired = ServeError(503, "model version was retired")
    static func badModel(_ m: String) -> ServeError { ServeError(500, "bad model: \(m)") }
    /// A registry version whose artifact was registered as a plain file.
    static func notAModel(_ reference: String) -> ServeError { ServeError(500, "'\(reference)' is not an MLW model (it is a file artifact)") }
}
