"""scikit-learn's Ridge and MLPRegressor on the split Scripts/examples/diabetes.mlw makes.

    .venv/bin/python Scripts/crosscheck/diabetes.py

The split is MLW's `split(raw, train: 0.8, test: 0.2, seed: 42)` (Sources/Frames/Split.swift),
rebuilt here: a SplitMix64 Fisher-Yates shuffle of the row indices, the first 354 rows
(80% of 442, largest remainder) for training, the next 88 for test, each kept in file
order. Features are standardized with the training rows' mean and population std, as
MLW's standardize() does. Prints the test R² of each model (and with --indices the test
rows, to check the split against MLW's).
"""
import csv
import os
import sys

import numpy as np
from sklearn.linear_model import Ridge
from sklearn.metrics import r2_score
from sklearn.neural_network import MLPRegressor

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + GOLDEN) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, n):
        # Lemire's method, as Support/SplitMix64.swift.
        m = self.next() * n
        if (m & MASK) < n:
            t = ((1 << 64) - n) % n
            while (m & MASK) < t:
                m = self.next() * n
        return m >> 64

    def shuffle(self, a):
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]


def mlw_split(n, train, test, seed):
    rows = list(range(n))
    SplitMix64(seed).shuffle(rows)
    # Largest remainder over (train, val=0, test, unused), ties to the earlier part.
    fractions = [train, 0.0, test, max(0.0, 1 - train - test)]
    exact = [n * f for f in fractions]
    counts = [int(e) for e in exact]
    order = sorted(range(4), key=lambda i: (-(exact[i] - counts[i]), i))
    left = n - sum(counts)
    for i in order:
        if left == 0:
            break
        counts[i] += 1
        left -= 1
    return sorted(rows[: counts[0]]), sorted(rows[counts[0] + counts[1]: counts[0] + counts[1] + counts[2]])


here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "..", "data", "diabetes.csv")) as f:
    r = csv.reader(f)
    header = next(r)
    data = np.array([[float(v) for v in row] for row in r])
x, y = data[:, :-1], data[:, -1]
tr, te = mlw_split(len(y), 0.8, 0.2, 42)
if "--indices" in sys.argv:
    print(" ".join(map(str, te)))
    sys.exit(0)
mean, std = x[tr].mean(axis=0), x[tr].std(axis=0)
xs = (x - mean) / np.where(std > 0, std, 1)
ridge = Ridge(alpha=1.0).fit(xs[tr], y[tr])
mlp = MLPRegressor(hidden_layer_sizes=(32,), learning_rate_init=0.01, max_iter=2000, random_state=1).fit(xs[tr], y[tr])
print(f"train rows {len(tr)}, test rows {len(te)}")
print(f"sklearn Ridge        test r2 {r2_score(y[te], ridge.predict(xs[te])):.3f}")
print(f"sklearn MLPRegressor test r2 {r2_score(y[te], mlp.predict(xs[te])):.3f}")
