"""Benchmark data for Scripts/bench/trees (fixed seeds): a Higgs-like binary set
(make_classification: informative features plus noise), a regression set and an anomaly set
(normal rows plus 1% planted outliers, label last). CSV with a header, label column 'y'."""
import sys
import numpy as np
from sklearn.datasets import make_classification, make_regression

kind, rows, cols, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
rng = np.random.default_rng(7)
if kind == "binary":
    x, y = make_classification(n_samples=rows, n_features=cols, n_informative=cols // 2, n_redundant=cols // 4,
                               flip_y=0.05, class_sep=0.8, random_state=7)
elif kind == "regression":
    x, y = make_regression(n_samples=rows, n_features=cols, n_informative=cols // 2, noise=10.0, random_state=7)
    y = y + 0.5 * x[:, 0] * x[:, 1] + 3 * np.sin(x[:, 2])
else:
    x = rng.standard_normal((rows, cols))
    y = np.zeros(rows)
    k = max(1, rows // 100)
    x[:k] = rng.standard_normal((k, cols)) * 0.5 + rng.choice([-4.0, 4.0], size=(k, cols))
    y[:k] = 1
names = [f"f{i}" for i in range(cols)] + ["y"]
np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=",".join(names), comments="", fmt="%.6g")
