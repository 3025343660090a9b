import Foundation

/// Per-feature statistics of the fitted training features (after every transform), so
/// a serving drift monitor can compare live inputs against training. Written only through
/// `jsonData()` (model files store it as the `stats` blob), read back with `JSONDecoder`.
public struct FeatureStats: Codable, Equatable, Sendable {
    public struct Feature: Codable, Equatable, Sendable {
        public var name: String
        public var mean: Double
        public var std: Double
        public var min: Double
        public var max: Double
        public var count: Int

        public init(name: String, mean: Double, std: Double, min: Double, max: Double, count: Int) {
            self.name = name; self.mean = mean; self.std = std; self.min = min; self.max = max; self.count = count
        }
    }
    public var rows: Int
    public var features: [Feature]

    public init(rows: Int, features: [Feature]) { self.rows = rows; self.features = features }

    /// Statistics of every numeric feature column of `ds` (missing cells skipped).
    public init(_ ds: Dataset) throws {
        rows = ds.rowCount
        features = ds.featureNames.compactMap { name in
            guard let v = ds[name]?.doubles else { return nil }
            let s = RunningStats(v)
            return Feature(name: name, mean: s.count > 0 ? s.mean : 0, std: s.std,
                           min: s.count > 0 ? s.min : 0, max: s.count > 0 ? s.max : 0, count: s.count)
        }
    }

    public func jsonData() throws -> Data {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try enc.encode(self)
    }
}
