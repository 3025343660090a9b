import CKernels

/// Features quantised once into at most `maxBins` bins each (quantiles over distinct
/// values, as LightGBM), column-major so a histogram streams one feature at a time. The
/// bin after a feature's last (index `nbins[f]`) holds its missing values.
public struct BinnedData {
    public let rows: Int, features: Int
    /// [features][rows] bin codes.
    public var bins: [UInt8]
    /// Bins of each feature, without the missing bin (1 for a constant or all-missing column).
    public var nbins: [Int32]
    /// Start of each feature's histogram (nbins + 1 entries each).
    public var offsets: [Int32]
    /// Upper edge of each bin (a value of the data; the last is +inf): x <= upper[b] is bin <= b.
    public var upper: [[Float]]
    public var totalBins: Int
    /// Categorical features: the value is a category code and bin b is code b (codes at or
    /// above the cap, negative or fractional values and NaN share the missing bin, the
    /// "other" side that never goes left).
    public var categorical: [Bool]

    /// Rows sampled for bin edges (LightGBM's bin_construct_sample_cnt).
    static let sampleRows = 200_000

    /// Bins `x` [rows][features] (row-major float32; NaN is missing).
    public init(x: [Float], rows: Int, features: Int, maxBins: Int, categorical: [Bool]? = nil) {
        self.rows = rows; self.features = features
        let categorical = categorical ?? [Bool](repeating: false, count: features)
        self.categorical = categorical
        var bins = [UInt8](repeating: 0, count: rows * features)
        var nbins = [Int32](repeating: 1, count: features), upper: [[Float]] = []
        let step = Swift.max(1, rows / BinnedData.sampleRows)
        let sample = (rows + step - 1) / step
        var scratch = [Float](repeating: 0, count: Swift.max(sample, 1)), edges = [Float](repeating: 0, count: Swift.max(maxBins, 1))
        x.withUnsafeBufferPointer { xp in
            for f in 0..<features {
                if categorical[f] {
                    let nb = BinnedData.binCategories(xp.baseAddress! + f, rows: rows, stride: features, cap: Swift.min(maxBins, 255),
                                                      into: &bins, at: f * rows)
                    nbins[f] = Int32(nb)
                    upper.append((0..<nb).map { Float($0) })
                    continue
                }
                let nb = mlw_tree_bin_edges(xp.baseAddress! + f, Int64(sample), Int64(features * step), Int32(maxBins), &edges, &scratch)
                nbins[f] = nb
                upper.append(Array(edges[0..<Int(nb)]))
                bins.withUnsafeMutableBufferPointer { bp in
                    mlw_tree_bin_column(xp.baseAddress! + f, Int64(rows), Int64(features), edges, nb, bp.baseAddress! + f * rows)
                }
            }
        }
        var offsets = [Int32](repeating: 0, count: features), total = 0
        for f in 0..<features { offsets[f] = Int32(total); total += Int(nbins[f]) + 1 }
        self.bins = bins; self.nbins = nbins; self.offsets = offsets; self.upper = upper; totalBins = total
    }

    /// Bins of a categorical column: bin = code for whole codes below `cap` (and below the
    /// largest code seen + 1); everything else goes to the missing bin. Returns the bin count.
    static func binCategories(_ x: UnsafePointer<Float>, rows: Int, stride: Int, cap: Int, into bins: inout [UInt8], at start: Int) -> Int {
        func code(_ v: Float) -> Int? { v >= 0 && v < Float(cap) && v == v.rounded(.down) ? Int(v) : nil }
        var top = 0
        for i in 0..<rows { if let c = code(x[i * stride]) { top = Swift.max(top, c + 1) } }
        let nb = Swift.max(top, 1)
        for i in 0..<rows { bins[start + i] = UInt8(code(x[i * stride]) ?? nb) }
        return nb
    }
}
