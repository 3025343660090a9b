import Foundation

/// Numeric features as a flat row-major Float matrix plus labels: what a tensor is
/// built from (`Tensor(shape: [rows, cols], data: m.features)` in the binding).
public struct FeatureMatrix: Equatable, Sendable {
    /// rows * cols values, row-major.
    public var features: [Float]
    public var rows: Int
    public var cols: Int
    public var featureNames: [String]
    /// One label per row (class code or regression target), when the dataset has a label.
    public var labels: [Float]?
    /// Class names for category labels (`labelNames[Int(label)]`).
    public var labelNames: [String]?

    public var shape: [Int] { [rows, cols] }
}

extension Dataset {
    /// The feature columns as a Float matrix and the label as a Float array.
    ///
    ///     let m = try ds.featureMatrix()   // m.shape == [150, 4]
    ///
    /// Every feature must be numeric (int or float; one-hot or label-encode text first)
    /// and have no missing cells (impute first); the error names the column and line.
    public func featureMatrix() throws -> FeatureMatrix {
        let names = featureNames
        let cols = names.count
        let n = rowCount
        // Check every feature first, then interleave the columns in row blocks so the
        // row-major writes stay in cache (a column at a time would stride through it all).
        let feats = try names.map { name -> Column in
            let c = try column(name)
            if let r = c.missing.firstIndex(of: true) {
                throw DataError(.badArgument, "missing value in a feature (impute first)", line: sourceLines[r], column: name)
            }
            if c.type != .float && c.type != .int {
                throw DataError(.badArgument, "feature column is \(c.type.rawValue); one-hot or label-encode it first", column: name)
            }
            return c
        }
        let out = [Float](unsafeUninitializedCapacity: n * cols) { dst, initialized in
            adviseHugePages(UnsafeMutableRawPointer(dst.baseAddress), bytes: n * cols * 4)
            let block = 512
            for start in stride(from: 0, to: n, by: block) {
                let end = min(start + block, n)
                for (j, c) in feats.enumerated() {
                    switch c.data {
                    case .float(let v): v.withUnsafeBufferPointer { s in for i in start..<end { dst[i * cols + j] = Float(s[i]) } }
                    case .int(let v): v.withUnsafeBufferPointer { s in for i in start..<end { dst[i * cols + j] = Float(s[i]) } }
                    default: break
                    }
                }
            }
            initialized = n * cols
        }
        var labels: [Float]?
        var labelNames: [String]?
        if let l = label {
            let c = try column(l)
            if let r = c.missing.firstIndex(of: true) {
                throw DataError(.badArgument, "missing label", line: sourceLines[r], column: l)
            }
            switch c.data {
            case .float(let v): labels = v.map(Float.init)
            case .int(let v): labels = v.map(Float.init)
            case .category(let codes, let levels): labels = codes.map(Float.init); labelNames = levels
            case .string:
                throw DataError(.badArgument, "label column is text; label-encode it first", column: l)
            }
        }
        return FeatureMatrix(features: out, rows: n, cols: cols, featureNames: names, labels: labels, labelNames: labelNames)
    }

    /// Feature matrices of at most `size` rows, in row order or shuffled by `seed`.
    ///
    ///     for b in try ds.batches(size: 64, seed: 1) { ... b.features, b.labels ... }
    public func batches(size: Int, seed: UInt64? = nil) throws -> [FeatureMatrix] {
        guard size > 0 else { throw DataError(.badArgument, "batch size must be positive, got \(size)") }
        let all = try featureMatrix()
        var order = Array(0..<rowCount)
        if let seed { var rng = SplitMix64(seed: seed); rng.shuffle(&order) }
        return stride(from: 0, to: rowCount, by: size).map { start in
            let rows = order[start..<min(start + size, rowCount)]
            var f: [Float] = []
            f.reserveCapacity(rows.count * all.cols)
            for r in rows { f += all.features[(r * all.cols)..<((r + 1) * all.cols)] }
            return FeatureMatrix(features: f, rows: rows.count, cols: all.cols, featureNames: all.featureNames,
                                 labels: all.labels.map { l in rows.map { l[$0] } }, labelNames: all.labelNames)
        }
    }
}
