"""Alias propagation: moves digits@bench between versions 1 and 2 with `mlw registry alias`
N times; each time, from the command's return (the move committed) until both replicas'
/v2/health/ready report the new version. Prints the median and max in milliseconds."""
import json, statistics, subprocess, sys, time, urllib.request

mlw, moves, ports = sys.argv[1], int(sys.argv[2]), sys.argv[3:]

def version(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/health/ready", timeout=2) as r:
        return int(json.load(r)["models"][0]["version"])

times = []
for i in range(moves):
    target = 2 if i % 2 == 0 else 1
    subprocess.run([mlw, "registry", "alias", "digits", "bench", str(target)], check=True, stdout=subprocess.DEVNULL)
    t0 = time.monotonic()
    pending = set(ports)
    while pending:
        pending = {p for p in pending if version(p) != target}
        if time.monotonic() - t0 > 30:
            sys.exit(f"move {i + 1}: replicas {sorted(pending)} still not on version {target} after 30 s")
        if pending:
            time.sleep(0.002)
    times.append((time.monotonic() - t0) * 1000)
print(f"alias propagation over {moves} moves (both replicas): median {statistics.median(times):.1f} ms, "
      f"max {max(times):.1f} ms (target < 2000 ms)")
