import Graph

/// Which loss op to train with; maps to an entry of the op table.
public enum Loss: Sendable, Equatable {
    case crossEntropy(smoothing: Double = 0, classWeights: [Double]? = nil)
    case binaryCrossEntropy
    case mse, mae
    case huber(delta: Double = 1)
    case klDiv

    public static func named(_ s: String) throws -> Loss {
        switch s {
        case "cross_entropy": return .crossEntropy()
        case "binary_cross_entropy", "bce": return .binaryCrossEntropy
        case "mse": return .mse
        case "mae": return .mae
        case "huber": return .huber()
        case "kl_div": return .klDiv
        default: throw TrainError("unknown loss '\(s)' (cross_entropy, binary_cross_entropy, mse, mae, huber, kl_div)")
        }
    }

    var op: (String, Attrs) {
        switch self {
        case .crossEntropy(let s, let w):
            var a: Attrs = ["smoothing": .double(s)]
            if let w { a["weights"] = .doubles(w) }
            return ("cross_entropy", a)
        case .binaryCrossEntropy: return ("binary_cross_entropy", [:])
        case .mse: return ("mse", [:])
        case .mae: return ("mae", [:])
        case .huber(let d): return ("huber", ["delta": .double(d)])
        case .klDiv: return ("kl_div", [:])
        }
    }
    /// Losses whose targets are class indices [N].
    var usesClassLabels: Bool { if case .crossEntropy = self { return true }; return false }
}
