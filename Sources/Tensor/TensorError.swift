/// The one error type thrown by the Tensor module.
///
/// The message always names the operation and the offending shapes or dtypes,
/// e.g. `matmul: shapes [2, 3] and [4, 5] are not compatible (3 != 4)`.
public struct TensorError: Error, CustomStringConvertible, Equatable {
    /// The operation that failed, e.g. `"matmul"`.
    public let op: String
    /// The human-readable reason, without the op prefix.
    public let reason: String

    public init(_ op: String, _ reason: String) {
        self.op = op
        self.reason = reason
    }

    /// `"<op>: <reason>"`.
    public var description: String { "\(op): \(reason)" }
}

/// Formats a shape like numpy does in messages: `[2, 3]`.
func fmt(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
