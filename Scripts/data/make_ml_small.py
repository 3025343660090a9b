"""Writes ml_small.data (MovieLens u.data layout: user, item, rating, timestamp, tab-separated,
no header) and ml_small.csv (ratings.csv layout: userId,movieId,rating,timestamp): 60 users in 3
planted taste clusters over 45 items, for the recommender docs, examples and tests."""
import random

rng = random.Random(19)
rows = []
for u in range(1, 61):
    c = u % 3
    liked = rng.sample(range(c * 15 + 1, c * 15 + 16), 9)
    other = rng.sample([i for i in range(1, 46) if (i - 1) // 15 != c], 2)
    events = [(i, rng.choice([4, 5])) for i in liked] + [(i, rng.choice([1, 2])) for i in other]
    rng.shuffle(events)
    t = 880000000 + u * 1000
    for i, r in events:
        rows.append((u, i, r, t)); t += rng.randint(1, 50)
with open("ml_small.data", "w") as f:
    for r in rows:
        f.write("\t".join(map(str, r)) + "\n")
with open("ml_small.csv", "w") as f:
    f.write("userId,movieId,rating,timestamp\n")
    for r in rows:
        f.write(f"{r[0]},{r[1]},{r[2]}.0,{r[3]}\n")
