/// Element types a tensor can hold. `float32` is the default everywhere.
public enum DType: String, CaseIterable, Sendable, CustomStringConvertible {
    case float32, float64, int32, int8, uint8, bool

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .float64: return 8
        case .int8, .uint8, .bool: return 1
        }
    }

    public var isFloatingPoint: Bool { self == .float32 || self == .float64 }
    public var isInteger: Bool { self == .int32 || self == .int8 || self == .uint8 }

    public var description: String { rawValue }

    /// Order used by type promotion: bool < uint8 < int8 < int32 < float32 < float64.
    var rank: Int {
        switch self {
        case .bool: return 0
        case .uint8: return 1
        case .int8: return 2
        case .int32: return 3
        case .float32: return 4
        case .float64: return 5
        }
    }

    /// The dtype of `a op b`: the larger of the two, except that uint8 with int8 gives
    /// int32 (no int16 here), like numpy's rule of "smallest type holding both".
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if (a == .uint8 && b == .int8) || (a == .int8 && b == .uint8) { return .int32 }
        return a.rank >= b.rank ? a : b
    }

    /// The dtype produced by float-valued math (exp, mean, /) on this dtype.
    var floatResult: DType { self == .float64 ? .float64 : .float32 }
}

/// Converts a Double to an integer dtype without ever trapping: NaN becomes 0,
/// values are truncated toward zero and wrap modulo the type width like C casts.
@inline(__always)
func wrapToInt64(_ d: Double) -> Int64 {
    if d.isNaN { return 0 }
    if d >= 9.2e18 { return Int64.max }
    if d <= -9.2e18 { return Int64.min }
    return Int64(d.rounded(.towardZero))
}
