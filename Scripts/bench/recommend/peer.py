"""The implicit side of the recommender benchmark (2 threads): ALS seconds per iteration,
BPR seconds per epoch, recommend-for-all-users seconds, precision@10 on a held-out split.
Prints one line of key=value pairs.

    python peer.py DATA.csv FACTORS ALS_ITERS BPR_EPOCHS
"""
import sys, time
import numpy as np, scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.evaluation import precision_at_k, train_test_split

path, factors, iters, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
d = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
users, items = d[:, 0].max() + 1, d[:, 1].max() + 1
m = sp.csr_matrix((np.ones(len(d), dtype=np.float32), (d[:, 0], d[:, 1])), shape=(users, items))
train, test = train_test_split(m, train_percentage=0.8, random_state=1)
als = AlternatingLeastSquares(factors=factors, regularization=0.01, alpha=40.0, iterations=iters, random_state=1, num_threads=2)
t = time.perf_counter(); als.fit(train, show_progress=False); als_s = (time.perf_counter() - t) / iters
bpr = BayesianPersonalizedRanking(factors=factors, learning_rate=0.01, regularization=0.01, iterations=epochs, random_state=1, num_threads=2)
t = time.perf_counter(); bpr.fit(train, show_progress=False); bpr_s = (time.perf_counter() - t) / epochs
ids = np.arange(users)
t = time.perf_counter(); als.recommend(ids, train[ids], N=10, filter_already_liked_items=True); rec_s = time.perf_counter() - t
p = precision_at_k(als, train, test, K=10, show_progress=False)
print(f"als_iter_s={als_s:.6f} bpr_epoch_s={bpr_s:.6f} recommend_all_s={rec_s:.6f} precision10={p:.4f}")
