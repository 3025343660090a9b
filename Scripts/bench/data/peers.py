"""Peer loaders for the data benchmark; prints the same line format as `DataBench`.

    python peers.py pandas|loadtxt PATH
Each run is its own process so peak RSS (getrusage) is per loader.
"""
import os
import resource
import sys
import time

import numpy as np

mode, path = sys.argv[1], sys.argv[2]
if mode == "pandas":
    import pandas as pd  # imported before the clock starts: time only the load
t0 = time.perf_counter()
if mode == "pandas":
    df = pd.read_csv(path)
    t1 = time.perf_counter()
    x = df.to_numpy(dtype=np.float32)
elif mode == "loadtxt":
    x = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    t1 = time.perf_counter()
    x = x.astype(np.float32)
else:
    sys.exit(f"unknown mode {mode}")
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
mbps = os.path.getsize(path) / 1e6 / (t2 - t0)
print(f"rows={x.shape[0]} seconds={t2 - t0:.4f} peak_rss_mb={rss:.1f} load_seconds={t1 - t0:.4f} "
      f"matrix_seconds={t2 - t1:.4f} cols={x.shape[1]} mb_per_s={mbps:.1f}")
