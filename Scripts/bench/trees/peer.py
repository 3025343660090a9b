"""The Python side of Scripts/bench/trees: LightGBM, XGBoost (hist) and scikit-learn's
HistGradientBoosting on the same split and hyper-parameters (100 trees, 31 leaves,
learning rate 0.1, 255 bins, 2 threads), and sklearn's IsolationForest. One line of
key=value pairs."""
import sys, time
import numpy as np

which, path = sys.argv[1], sys.argv[2]
d = np.loadtxt(path, delimiter=",", skiprows=1)
x, y = d[:, :-1].astype(np.float32), d[:, -1]
cut = int(len(y) * 0.8)
xt, yt, xv, yv = x[:cut], y[:cut], x[cut:], y[cut:]
out = {}
if which in ("binary", "regression"):
    from sklearn.metrics import roc_auc_score, mean_squared_error
    def quality(p):
        return roc_auc_score(yv, p) if which == "binary" else mean_squared_error(yv, p) ** 0.5
    import lightgbm as lgb
    cls = lgb.LGBMClassifier if which == "binary" else lgb.LGBMRegressor
    m = cls(n_estimators=100, num_leaves=31, learning_rate=0.1, max_bin=255, min_child_samples=20, n_jobs=2, verbose=-1)
    t = time.perf_counter(); m.fit(xt, yt); out["lgb_fit_s"] = time.perf_counter() - t
    t = time.perf_counter()
    p = m.predict_proba(xv)[:, 1] if which == "binary" else m.predict(xv)
    out["lgb_predict_s"] = time.perf_counter() - t
    out["lgb_quality"] = quality(p)
    one = xv[:1]
    t = time.perf_counter()
    for _ in range(200): m.predict(one)
    out["lgb_batch1_us"] = (time.perf_counter() - t) / 200 * 1e6
    import xgboost as xgb
    cls = xgb.XGBClassifier if which == "binary" else xgb.XGBRegressor
    m = cls(n_estimators=100, max_leaves=31, grow_policy="lossguide", tree_method="hist", learning_rate=0.1, max_bin=255, n_jobs=2)
    t = time.perf_counter(); m.fit(xt, yt); out["xgb_fit_s"] = time.perf_counter() - t
    out["xgb_quality"] = quality(m.predict_proba(xv)[:, 1] if which == "binary" else m.predict(xv))
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    cls = HistGradientBoostingClassifier if which == "binary" else HistGradientBoostingRegressor
    m = cls(max_iter=100, max_leaf_nodes=31, learning_rate=0.1, max_bins=255, early_stopping=False)
    t = time.perf_counter(); m.fit(xt, yt); out["skl_fit_s"] = time.perf_counter() - t
    out["skl_quality"] = quality(m.predict_proba(xv)[:, 1] if which == "binary" else m.predict(xv))
else:
    from sklearn.ensemble import IsolationForest
    from sklearn.metrics import roc_auc_score
    t = time.perf_counter()
    m = IsolationForest(n_estimators=100, max_samples=256, random_state=0, n_jobs=2).fit(x)
    s = -m.score_samples(x)
    out["iforest_s"] = time.perf_counter() - t
    out["iforest_auc"] = roc_auc_score(y, s)
print(" ".join(f"{k}={v:.6g}" for k, v in out.items()))
