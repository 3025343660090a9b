/// An op attribute: the static configuration of a node (stride, axis, activation...).
/// `chain`: the steps of an `elementwise` node.
public enum Attr: Hashable, Codable, Sendable {
    case int(Int), ints([Int]), double(Double), doubles([Double]), string(String), bool(Bool)
    case chain([ChainStep])
}

public typealias Attrs = [String: Attr]

extension Attr {
    /// An `activation` attribute (stored as its name, as model files always had it).
    public static func activation(_ a: Activation) -> Attr { .string(a.rawValue) }
}

import Tensor

extension Dictionary where Key == String, Value == Attr {
    public func int(_ k: String, _ d: Int) -> Int { if case .int(let v)? = self[k] { return v }; return d }
    public func ints(_ k: String) -> [Int]? { if case .ints(let v)? = self[k] { return v }; return nil }
    public func double(_ k: String, _ d: Double) -> Double {
        switch self[k] { case .double(let v)?: return v; case .int(let v)?: return Double(v); default: return d }
    }
    public func doubles(_ k: String) -> [Double]? { if case .doubles(let v)? = self[k] { return v }; return nil }
    public func string(_ k: String, _ d: String) -> String { if case .string(let v)? = self[k] { return v }; return d }
    public func bool(_ k: String, _ d: Bool) -> Bool { if case .bool(let v)? = self[k] { return v }; return d }
    /// The `activation` attribute of dense and fused layers (absent: none); nil when it
    /// names no `Activation`.
    public var activation: Activation? { Activation(rawValue: string("activation", Activation.none.rawValue)) }
    /// A pair attribute (stride, padding) given as one int or two.
    func pair(_ k: String, _ d: Int) -> (Int, Int) {
        if let v = ints(k), v.count == 2 { return (v[0], v[1]) }
        let v = int(k, d); return (v, v)
    }
}
