import Graph

/// Which loss op to train with; maps to an entry of the op table.
public enum Loss: Sendable, Equatable {
    case crossEntropy(smoothing: Double = 0, classWeights: [Double]? = nil)
    case binaryCrossEntropy
    case mse, mae
    case huber(delta: Double = 1)
    case klDiv

    public static func named(_ s: String) throws -> Loss {
        // Script names are the loss ops' names (plus "bce").
        switch s == "bce" ? OpName.binaryCrossEntropy : OpName(rawValue: s) {
        case .crossEntropy: return .crossEntropy()
        case .binaryCrossEntropy: return .binaryCrossEntropy
        case .mse: return .mse
        case .mae: return .mae
        case .huber: return .huber()
        case .klDiv: return .klDiv
        default: throw TrainError("unknown loss '\(s)' (cross_entropy, binary_cross_entropy, mse, mae, huber, kl_div)")
        }
    }

    var op: (OpName, Attrs) {
        switch self {
        case .crossEntropy(let s, let w):
            var a: Attrs = ["smoothing": .double(s)]
            if let w { a["weights"] = .doubles(w) }
            return (.crossEntropy, a)
        case .binaryCrossEntropy: return (.binaryCrossEntropy, [:])
        case .mse: return (.mse, [:])
        case .mae: return (.mae, [:])
        case .huber(let d): return (.huber, ["delta": .double(d)])
        case .klDiv: return (.klDiv, [:])
        }
    }
    /// Losses whose targets are class indices [N].
    var usesClassLabels: Bool { if case .crossEntropy = self { return true }; return false }
}
