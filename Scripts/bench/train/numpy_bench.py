"""A plain numpy MLP (forward, backward, Adam) as the second peer; prints "name value" lines."""
import time, statistics, csv
import numpy as np

def init(sizes, rng):
    return [(rng.standard_normal((a, b)).astype(np.float32) * np.sqrt(2 / a), np.zeros(b, np.float32)) for a, b in zip(sizes, sizes[1:])]

def forward(params, x):
    acts = [x]
    for i, (w, b) in enumerate(params):
        x = x @ w + b
        if i < len(params) - 1: x = np.maximum(x, 0)
        acts.append(x)
    return acts

def train_epoch(params, state, X, Y, batch, rng, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    perm = rng.permutation(len(X))
    for s in range(0, len(X), batch):
        idx = perm[s:s + batch]; x, y = X[idx], Y[idx]
        acts = forward(params, x)
        z = acts[-1]; z = z - z.max(1, keepdims=True); p = np.exp(z); p /= p.sum(1, keepdims=True)
        g = p; g[np.arange(len(y)), y] -= 1; g /= len(y)
        for i in reversed(range(len(params))):
            w, b = params[i]
            gw, gb = acts[i].T @ g, g.sum(0)
            if i > 0: g = (g @ w.T) * (acts[i] > 0)
            state["t"] += 1 if i == len(params) - 1 else 0
            for k, (param, grad) in enumerate(((w, gw), (b, gb))):
                m, v = state[(i, k)]
                m[:] = b1 * m + (1 - b1) * grad; v[:] = b2 * v + (1 - b2) * grad * grad
                t = state["t"]
                param -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)

def adam_state(params):
    st = {"t": 0}
    for i, (w, b) in enumerate(params):
        st[(i, 0)] = (np.zeros_like(w), np.zeros_like(w)); st[(i, 1)] = (np.zeros_like(b), np.zeros_like(b))
    return st

rng = np.random.default_rng(0)
rows = list(csv.reader(open("Scripts/data/digits.csv")))
data = np.array(rows[1:], dtype=np.float32); x, y = data[:, :-1], data[:, -1].astype(np.int64)
idx = rng.permutation(len(x)); cut = int(0.8 * len(x)); tr, te = idx[:cut], idx[cut:]
mu, sd = x[tr].mean(0), x[tr].std(0); sd[sd == 0] = 1
xtr, xte = (x[tr] - mu) / sd, (x[te] - mu) / sd
params = init([64, 128, 64, 10], rng); st = adam_state(params); times = []
for e in range(20):
    t0 = time.perf_counter(); train_epoch(params, st, xtr, y[tr], 64, rng); times.append(time.perf_counter() - t0)
acc = (forward(params, xte)[-1].argmax(1) == y[te]).mean()
print("a_epoch_seconds", statistics.median(times)); print("a_test_accuracy", acc)
xb = rng.standard_normal((60000, 784)).astype(np.float32); yb = rng.integers(0, 10, 60000)
big = init([784, 256, 128, 10], rng); st = adam_state(big)
t0 = time.perf_counter(); train_epoch(big, st, xb, yb, 128, rng); print("b_epoch_seconds", time.perf_counter() - t0)
x1 = rng.standard_normal((1, 784)).astype(np.float32); lat = []
for _ in range(200): forward(big, x1)
for _ in range(2000):
    t0 = time.perf_counter(); forward(big, x1); lat.append(time.perf_counter() - t0)
lat.sort(); print("c_latency_median_us", lat[len(lat) // 2] * 1e6); print("c_latency_p99_us", lat[int(len(lat) * 0.99)] * 1e6)
