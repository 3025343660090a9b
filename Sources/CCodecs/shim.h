// Parquet page codecs, linked from the system (Debian: libzstd-dev libsnappy-dev zlib1g-dev).
#include <zstd.h>
#include <snappy-c.h>
#include <zlib.h>
