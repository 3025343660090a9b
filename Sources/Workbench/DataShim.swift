import Data

// This file does not import Foundation, whose `Data` type would shadow the `Data`
// module's free functions of the same names.

func splitDataset(_ ds: Dataset, train: Double, val: Double, test: Double?, stratify: Bool, seed: UInt64) throws -> DatasetSplit {
    try split(ds, train: train, val: val, test: test, stratify: stratify, seed: seed)
}
