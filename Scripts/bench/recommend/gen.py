"""Synthetic implicit-feedback data for the recommender benchmark: USERS x ITEMS with NNZ
distinct (user, item) pairs, item popularity power-law (Zipf-like, exponent 1.0), user
activity power-law too, fixed seed. Writes 'user,item' CSV with a header.

    python gen.py OUT.csv USERS ITEMS NNZ
"""
import sys
import numpy as np

out, users, items, nnz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(19)
ip = 1.0 / np.arange(1, items + 1) ** 1.0
ip /= ip.sum()
up = 1.0 / np.arange(1, users + 1) ** 0.5
up /= up.sum()
pairs = set()
# Draw in rounds until NNZ distinct pairs exist (duplicates dropped).
while len(pairs) < nnz:
    n = int((nnz - len(pairs)) * 1.3) + 16
    u = rng.choice(users, size=n, p=up)
    i = rng.choice(items, size=n, p=ip)
    pairs.update(zip(u.tolist(), i.tolist()))
pairs = sorted(pairs)[:nnz] if len(pairs) > nnz else sorted(pairs)
with open(out, "w") as f:
    f.write("user,item\n")
    f.write("\n".join(f"{u},{i}" for u, i in pairs))
    f.write("\n")
