import Tensor

/// One dimension of a node's shape: a fixed size, or the batch size, which is only
/// known when the graph runs (so one graph serves batch 1 and batch 64).
public enum Dim: Hashable, Codable, CustomStringConvertible, Sendable {
    case fixed(Int)
    case batch

    public var description: String {
        switch self { case .fixed(let n): return String(n); case .batch: return "batch" }
    }
    public var size: Int? { if case .fixed(let n) = self { return n }; return nil }
    /// The concrete size once the batch size is known.
    public func resolve(batch: Int) -> Int { size ?? batch }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) { self = .fixed(n) } else {
            let s = try c.decode(String.self)
            guard s == "batch" else { throw GraphError("json: unknown dimension '\(s)'") }
            self = .batch
        }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self { case .fixed(let n): try c.encode(n); case .batch: try c.encode("batch") }
    }
}

public typealias SymShape = [Dim]

public func formatShape(_ s: SymShape) -> String { "[" + s.map(\.description).joined(separator: ", ") + "]" }

/// Errors from building, verifying, running or loading graphs.
public struct GraphError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// numpy broadcasting over symbolic shapes: batch meets batch or 1; fixed sizes must agree or be 1.
func broadcastShapes(_ a: SymShape, _ b: SymShape, op: OpName) throws -> SymShape {
    let r = max(a.count, b.count)
    var out: SymShape = []
    for i in 0..<r {
        let x = i < r - a.count ? Dim.fixed(1) : a[i - (r - a.count)]
        let y = i < r - b.count ? Dim.fixed(1) : b[i - (r - b.count)]
        if x == y { out.append(x) } else if x == .fixed(1) { out.append(y) } else if y == .fixed(1) { out.append(x) } else {
            throw GraphError("\(op): shapes \(formatShape(a)) and \(formatShape(b)) cannot be broadcast together")
        }
    }
    return out
}

/// Number of elements of a shape that does not contain the batch dimension.
func fixedCount(_ s: SymShape) -> Int? {
    var n = 1
    for d in s { guard let k = d.size else { return nil }; n *= k }
    return n
}
