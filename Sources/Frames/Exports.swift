// One SHA-256 for the whole project; re-exported so `import Frames` brings it.
@_exported import Checksum
// The seeded generator (SplitMix64) that shuffles and splits use.
@_exported import Support
