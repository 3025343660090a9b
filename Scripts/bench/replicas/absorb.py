"""Kills a replica (SIGKILL) and polls haproxy's stats socket until that server is DOWN:
from then on the other replica takes all traffic. Prints the time in milliseconds."""
import os, signal, socket, sys, time

sock, server, pid = sys.argv[1], sys.argv[2], int(sys.argv[3])

def status():
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock)
    s.sendall(b"show stat\n")
    data = b""
    while chunk := s.recv(65536):
        data += chunk
    s.close()
    lines = data.decode().splitlines()
    head = lines[0].lstrip("# ").split(",")
    for line in lines[1:]:
        row = dict(zip(head, line.split(",")))
        if row.get("svname") == server:
            return row.get("status", "")
    return ""

before = status()
if not before.startswith("UP"):
    sys.exit(f"{server} is {before!r} before the kill")
os.kill(pid, signal.SIGKILL)
t0 = time.monotonic()
while not status().startswith("DOWN"):
    if time.monotonic() - t0 > 30:
        sys.exit(f"{server} not marked down after 30 s")
    time.sleep(0.002)
print(f"kill -9 of one replica: haproxy took it out after {(time.monotonic() - t0) * 1000:.1f} ms")
