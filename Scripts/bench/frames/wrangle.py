"""Peers and data for Scripts/bench/frames/run.

  wrangle.py gen DIR ROWS        write DIR/left.csv (ROWS rows) and DIR/right.csv (ROWS/10 rows), fixed seed
  wrangle.py pandas|polars OP LEFT RIGHT    time one op; print the same line as DataBench --frames

left:  k (int, ROWS/100 distinct keys), j (int join key in 0..ROWS/10), a, b (floats), c (int)
right: j (unique ints 0..ROWS/10-1, shuffled), v (float)
"""
import os, resource, sys, time

def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

def gen(d, rows):
    import numpy as np
    import pandas as pd
    rng = np.random.default_rng(42)
    n_keys, n_right = max(rows // 100, 1), max(rows // 10, 1)
    left = pd.DataFrame({
        "k": rng.integers(0, n_keys, rows),
        "j": rng.integers(0, n_right, rows),
        "a": np.round(rng.normal(0, 100, rows), 3),
        "b": np.round(rng.random(rows), 4),
        "c": rng.integers(0, 1000, rows),
    })
    right = pd.DataFrame({"j": rng.permutation(n_right), "v": np.round(rng.random(n_right), 4)})
    os.makedirs(d, exist_ok=True)
    left.to_csv(os.path.join(d, "left.csv"), index=False)
    right.to_csv(os.path.join(d, "right.csv"), index=False)

def run(lib, op, left_path, right_path):
    if lib == "pandas":
        import pandas as pd
        left = pd.read_csv(left_path)
        right = pd.read_csv(right_path) if op == "join" else None
        base = rss_mb()
        t0 = time.perf_counter()
        if op == "group_by":
            out = left.groupby("k", sort=True).agg(n=("a", "size"), sa=("a", "sum"), mb=("b", "mean"), xc=("c", "max")).reset_index()
        elif op == "join":
            out = left.merge(right, on="j", how="inner")
        else:
            out = left.sort_values(["k", "a"], ascending=[True, False], kind="stable")
        secs = time.perf_counter() - t0
    else:
        import polars as pl
        left = pl.read_csv(left_path)
        right = pl.read_csv(right_path) if op == "join" else None
        base = rss_mb()
        t0 = time.perf_counter()
        if op == "group_by":
            out = left.group_by("k").agg(pl.len().alias("n"), pl.col("a").sum().alias("sa"),
                                         pl.col("b").mean().alias("mb"), pl.col("c").max().alias("xc")).sort("k")
        elif op == "join":
            out = left.join(right, on="j", how="inner")
        else:
            out = left.sort(["k", "a"], descending=[False, True], maintain_order=True)
        secs = time.perf_counter() - t0
    print(f"op={op} seconds={secs:.4f} rows={len(out)} peak_rss_mb={peak_mb():.1f} base_rss_mb={base:.1f}")

if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
