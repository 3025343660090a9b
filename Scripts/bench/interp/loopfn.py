import time
def main():
    total = 0
    i = 0
    t0 = time.perf_counter()
    while i < 10000000:
        total = total + i * 2
        i = i + 1
    return time.perf_counter() - t0, total
print(*main())
