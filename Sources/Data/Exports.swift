// One SHA-256 for the whole project; re-exported so `import Data` brings it.
@_exported import Checksum
