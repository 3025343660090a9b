#!/usr/bin/env python3
"""Writes made-up card transactions as CSV for Scripts/examples/fraud.mlw (deterministic,
standard library only). About 0.5% are fraud: large amounts for the user, at night, far
from home, in a burst of transactions, more often online, in electronics or jewelry.

    python3 Scripts/examples/fraud_data.py 200000 > fraud.csv     # rows (default 200000)
"""
import math
import random
import sys

sharp = 2.0   # scales the log-odds: larger is a cleaner signal
rows = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
rng = random.Random(2024)
merchants = ["grocery", "fuel", "restaurant", "online", "travel", "electronics", "jewelry", "pharmacy"]
weights = [0.30, 0.15, 0.18, 0.17, 0.05, 0.07, 0.02, 0.06]
risk = {"online": 0.9, "electronics": 1.0, "jewelry": 1.3, "travel": 0.4}
print("amount,hour,merchant,user_avg_amount,tx_last_24h,km_from_home,fraud")
for _ in range(rows):
    merchant = rng.choices(merchants, weights)[0]
    user_avg = round(math.exp(rng.gauss(3.6, 0.6)), 2)
    hour = int(rng.triangular(0, 24, 15)) % 24
    burst = min(int(rng.expovariate(1 / 2.0)), 30)
    km = round(rng.expovariate(1 / 12.0), 1)
    amount = round(user_avg * math.exp(rng.gauss(0, 0.7)), 2)
    z = sharp * (-7.1 + 2.2 * max(0.0, math.log(amount / user_avg)) + (2.2 if hour < 6 else 0.0)
         + 0.3 * burst + 0.02 * km + 1.5 * risk.get(merchant, 0.0))
    fraud = rng.random() < 1 / (1 + math.exp(-z))
    if fraud and rng.random() < 0.6:
        amount = round(amount * rng.uniform(2, 6), 2)   # fraudsters spend big
    print(f"{amount},{hour},{merchant},{user_avg},{burst},{km},{int(fraud)}")
