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
        let f = try featureColumns()
        let out = [Float](unsafeUninitializedCapacity: f.rows * f.cols) { dst, initialized in
            adviseHugePages(UnsafeMutableRawPointer(dst.baseAddress), bytes: f.rows * f.cols * 4)
            if let p = dst.baseAddress { f.write(rows: 0..<f.rows, into: p) }
            initialized = f.rows * f.cols
        }
        return FeatureMatrix(features: out, rows: f.rows, cols: f.cols, featureNames: f.names, labels: f.labels, labelNames: f.labelNames)
    }

    /// The checked feature columns and the labels, ready to be written row-major into any
    /// buffer (`FeatureColumns.write`): what `featureMatrix` and the tensor conversion share.
    public func featureColumns() throws -> FeatureColumns {
        let names = featureNames
        let feats = try names.map { name -> Column in
            let c = try column(name)
            if let r = firstMissing(c.missing) {
                throw DataError(.badArgument, "missing value in a feature (impute first)", line: sourceLines[r], column: name)
            }
            if c.type != .float && c.type != .int {
                throw DataError(.badArgument, "feature column is \(c.type.rawValue); one-hot or label-encode it first", column: name)
            }
            return c
        }
        var labels: [Float]?
        var labelNames: [String]?
        if let l = label {
            let c = try column(l)
            if let r = firstMissing(c.missing) {
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
        return FeatureColumns(columns: feats.map(\.data), rows: rowCount, names: names, labels: labels, labelNames: labelNames)
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

/// The first missing row, found with memchr over the flags' bytes (a Bool is one byte, 0
/// or 1): `firstIndex(of: true)` went element by element, 12% of a repeated train() call.
func firstMissing(_ flags: [Bool]) -> Int? {
    flags.withUnsafeBytes { b -> Int? in
        guard let base = b.baseAddress, let hit = memchr(base, 1, b.count) else { return nil }
        return base.distance(to: UnsafeRawPointer(hit))
    }
}

/// A dataset's numeric feature columns (checked: no missing cells, no text) and its labels.
public struct FeatureColumns: Sendable {
    let columns: [ColumnData]
    public let rows: Int
    public var cols: Int { columns.count }
    public let names: [String]
    public let labels: [Float]?
    public let labelNames: [String]?

    /// The float columns' storage and their output positions, for a native row writer;
    /// `writeIntegerColumns` fills the rest. The pointers are valid only inside `body`.
    public func withFloatColumns<R>(_ body: (_ columns: [UnsafePointer<Double>], _ at: [Int]) throws -> R) rethrows -> R {
        var pointers: [UnsafePointer<Double>] = [], at: [Int] = []
        for (j, c) in columns.enumerated() {
            if case .float(let v) = c, let p = v.withUnsafeBufferPointer({ $0.baseAddress }) { pointers.append(p); at.append(j) }
        }
        return try withExtendedLifetime(columns) { try body(pointers, at) }
    }

    /// Writes the integer columns of rows `range` (the float columns are left alone).
    public func writeIntegerColumns(rows range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        for (j, c) in columns.enumerated() {
            guard case .int(let v) = c else { continue }
            v.withUnsafeBufferPointer { s in for i in range { dst[(i - range.lowerBound) * cols + j] = Float(s[i]) } }
        }
    }

    /// Writes rows `range` row-major into `dst` (row r at `dst + (r - range.lowerBound) * cols`).
    /// Disjoint ranges may be written from different threads.
    public func write(rows range: Range<Int>, into dst: UnsafeMutablePointer<Float>) {
        let cols = self.cols
        // Float columns go through 16 x 16 tiles: each tile reads 16 values from each of 16
        // columns and fills 16 whole output cache lines, so no line is written piecemeal
        // (writing a column at a time strided through the output and was memory-bound).
        // The pointers stay valid: `columns` holds the arrays, immutable, for this call.
        var floatCols: [(j: Int, p: UnsafePointer<Double>)] = []
        for (j, c) in columns.enumerated() {
            switch c {
            case .float(let v): if let p = v.withUnsafeBufferPointer({ $0.baseAddress }) { floatCols.append((j, p)) }
            case .int(let v):
                v.withUnsafeBufferPointer { s in for i in range { dst[(i - range.lowerBound) * cols + j] = Float(s[i]) } }
            default: break
            }
        }
        let tile = 16
        withExtendedLifetime(columns) {
            for i0 in stride(from: range.lowerBound, to: range.upperBound, by: tile) {
                let i1 = min(i0 + tile, range.upperBound)
                for k0 in stride(from: 0, to: floatCols.count, by: tile) {
                    for k in k0..<min(k0 + tile, floatCols.count) {
                        let (j, src) = floatCols[k]
                        var out = dst + (i0 - range.lowerBound) * cols + j
                        for i in i0..<i1 { out.pointee = Float(src[i]); out += cols }
                    }
                }
            }
        }
    }
}
