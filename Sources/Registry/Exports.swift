// One SHA-256 for the whole project; re-exported so `import Registry` brings it.
@_exported import Checksum
