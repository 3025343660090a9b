"""Writes a numeric CSV: ROWS rows x 12 float columns (about 100 MB for 1M rows).

    python gen.py OUT.csv [ROWS]
Deterministic (seeded) so every run benchmarks the same bytes.
"""
import sys

import numpy as np

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(0)
cols = 12
with open(out, "w") as f:
    f.write(",".join(f"c{i}" for i in range(cols)) + "\n")
    step = 100_000
    for start in range(0, rows, step):
        n = min(step, rows - start)
        block = rng.normal(0, 100, size=(n, cols))
        np.savetxt(f, block, fmt="%.4f", delimiter=",")
