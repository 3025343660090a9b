#!/usr/bin/env python3
"""Writes Scripts/examples/churn.csv: 800 made-up telecom customers (deterministic, no
dependencies beyond the standard library). Churn is more likely on month-to-month
contracts, with many support calls, high bills and short tenure.

    python3 Scripts/examples/churn_data.py > Scripts/examples/churn.csv
"""
import math
import random

rng = random.Random(17)
print("tenure_months,monthly_charges,support_calls,data_gb,contract,payment,churned")
for _ in range(800):
    contract = rng.choices(["month", "year", "two_year"], [0.55, 0.25, 0.20])[0]
    payment = rng.choice(["card", "bank", "check"])
    tenure = int(rng.expovariate(1 / (10 if contract == "month" else 30))) + 1
    charges = round(rng.uniform(20, 110), 2)
    calls = min(int(rng.expovariate(1 / 1.5)), 12)
    data = round(max(0.0, rng.gauss(8, 4)), 1)
    z = (-1.5 + (1.6 if contract == "month" else (-0.6 if contract == "two_year" else 0.0))
         + 0.45 * calls + 0.02 * (charges - 65) - 0.04 * tenure + (0.4 if payment == "check" else 0.0))
    churned = "yes" if rng.random() < 1 / (1 + math.exp(-z)) else "no"
    print(f"{tenure},{charges},{calls},{data},{contract},{payment},{churned}")
