"""PyTorch (CPU) side of the training benchmark; prints "name value" lines."""
import sys, time, statistics, csv
import numpy as np
import torch
threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)

def load_digits():
    rows = list(csv.reader(open("Scripts/data/digits.csv")))
    header, data = rows[0], np.array(rows[1:], dtype=np.float32)
    return data[:, :-1], data[:, -1].astype(np.int64)

x, y = load_digits()
rng = np.random.default_rng(0)
idx = rng.permutation(len(x)); cut = int(0.8 * len(x))
tr, te = idx[:cut], idx[cut:]
mu, sd = x[tr].mean(0), x[tr].std(0); sd[sd == 0] = 1
xtr, xte = torch.tensor((x[tr] - mu) / sd), torch.tensor((x[te] - mu) / sd)
ytr, yte = torch.tensor(y[tr]), torch.tensor(y[te])

def mlp(*sizes):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2: layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)

def epoch(model, opt, X, Y, batch):
    perm = torch.randperm(len(X))
    lossf = torch.nn.CrossEntropyLoss()
    for s in range(0, len(X), batch):
        b = perm[s:s + batch]
        opt.zero_grad(); loss = lossf(model(X[b]), Y[b]); loss.backward(); opt.step()

m = mlp(64, 128, 64, 10); opt = torch.optim.Adam(m.parameters(), lr=1e-3)
times = []
for e in range(20):
    t0 = time.perf_counter(); epoch(m, opt, xtr, ytr, 64); times.append(time.perf_counter() - t0)
with torch.no_grad(): acc = (m(xte).argmax(1) == yte).float().mean().item()
print("a_epoch_seconds", statistics.median(times)); print("a_test_accuracy", acc)

xb = torch.randn(60000, 784); yb = torch.randint(0, 10, (60000,))
big = mlp(784, 256, 128, 10); opt = torch.optim.Adam(big.parameters(), lr=1e-3)
t0 = time.perf_counter(); epoch(big, opt, xb, yb, 128); print("b_epoch_seconds", time.perf_counter() - t0)

x1 = torch.randn(1, 784); big.eval(); lat = []
with torch.no_grad():
    for _ in range(200): big(x1)
    for _ in range(2000):
        t0 = time.perf_counter(); big(x1); lat.append(time.perf_counter() - t0)
lat.sort()
print("c_latency_median_us", lat[len(lat) // 2] * 1e6); print("c_latency_p99_us", lat[int(len(lat) * 0.99)] * 1e6)
