"""Exports scikit-learn's bundled iris and digits data sets to CSV (no download needed).

    .venv/bin/python Scripts/data/export.py
"""
import csv
import os

from sklearn.datasets import load_digits, load_iris

here = os.path.dirname(os.path.abspath(__file__))

iris = load_iris()
with open(os.path.join(here, "iris.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "species"])
    for x, y in zip(iris.data, iris.target):
        w.writerow([f"{v:g}" for v in x] + [iris.target_names[y]])

digits = load_digits()
with open(os.path.join(here, "digits.csv"), "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow([f"p{i}" for i in range(64)] + ["digit"])
    for x, y in zip(digits.data, digits.target):
        w.writerow([int(v) for v in x] + [int(y)])
