"""Splits the benchmark's interactions into train and test CSVs once, so MLW and implicit
fit and score the very same split: each interaction goes to test with probability 0.2
(seeded), users keep at least one training interaction.

    python split.py DATA.csv TRAIN.csv TEST.csv
"""
import sys
import numpy as np

src, train_path, test_path = sys.argv[1], sys.argv[2], sys.argv[3]
d = np.loadtxt(src, delimiter=",", skiprows=1, dtype=np.int64)
rng = np.random.default_rng(7)
test = rng.random(len(d)) < 0.2
# The first interaction of every user stays in train (rows are sorted by user).
first = np.ones(len(d), dtype=bool)
first[1:] = d[1:, 0] != d[:-1, 0]
test &= ~first
for path, rows in [(train_path, d[~test]), (test_path, d[test])]:
    np.savetxt(path, rows, fmt="%d", delimiter=",", header="user,item", comments="")
