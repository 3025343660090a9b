"""The implicit side of the recommender benchmark (2 threads): ALS seconds per iteration,
BPR seconds per epoch, recommend-for-all-users seconds, precision@10 of ALS and BPR on the
held-out split that split.py wrote (the MLW side reads the same files).
Prints one line of key=value pairs.

    python peer.py TRAIN.csv TEST.csv FACTORS ALS_ITERS BPR_EPOCHS
"""
import sys, time
import numpy as np, scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares
from implicit.cpu.bpr import BayesianPersonalizedRanking
from implicit.evaluation import precision_at_k

train_path, test_path = sys.argv[1], sys.argv[2]
factors, iters, epochs = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
tr = np.loadtxt(train_path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
te = np.loadtxt(test_path, delimiter=",", skiprows=1, dtype=np.int64, ndmin=2)
users, items = max(tr[:, 0].max(), te[:, 0].max()) + 1, max(tr[:, 1].max(), te[:, 1].max()) + 1
def mat(d):
    return sp.csr_matrix((np.ones(len(d), dtype=np.float32), (d[:, 0], d[:, 1])), shape=(users, items))
train, test = mat(tr), mat(te)
als = AlternatingLeastSquares(factors=factors, regularization=0.01, alpha=40.0, iterations=iters, random_state=1, num_threads=2)
t = time.perf_counter(); als.fit(train, show_progress=False); als_s = (time.perf_counter() - t) / iters
bpr = BayesianPersonalizedRanking(factors=factors, learning_rate=0.01, regularization=0.01, iterations=epochs, random_state=1, num_threads=2)
t = time.perf_counter(); bpr.fit(train, show_progress=False); bpr_s = (time.perf_counter() - t) / epochs
ids = np.arange(users)
t = time.perf_counter(); als.recommend(ids, train[ids], N=10, filter_already_liked_items=True); rec_s = time.perf_counter() - t
p = precision_at_k(als, train, test, K=10, show_progress=False)
pb = precision_at_k(bpr, train, test, K=10, show_progress=False)
print(f"als_iter_s={als_s:.6f} bpr_epoch_s={bpr_s:.6f} recommend_all_s={rec_s:.6f} precision10={p:.4f} bpr_precision10={pb:.4f}")
