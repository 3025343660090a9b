"""Exports scikit-learn's bundled diabetes data set (unscaled) to CSV (no download needed).

    .venv/bin/python Scripts/data/export_diabetes.py

Ten features (age, sex, bmi, bp, s1..s6) and the label column `target` (disease
progression one year after baseline), rows in sklearn's order.
"""
import csv
import os

from sklearn.datasets import load_diabetes

here = os.path.dirname(os.path.abspath(__file__))

d = load_diabetes(scaled=False)
with open(os.path.join(here, "diabetes.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(list(d.feature_names) + ["target"])
    for x, y in zip(d.data, d.target):
        w.writerow([f"{v:g}" for v in x] + [f"{y:g}"])
