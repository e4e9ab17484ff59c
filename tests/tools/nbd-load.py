#!/usr/bin/python3
"""A ground-truth NBD load for the stats fault tests, on libnbd (a client nobody here wrote).

Sends COUNT requests, one at a time, alternating a WRITE of WSIZE bytes and a READ of RSIZE bytes at
offsets that walk the export, at most RATE requests a second. A request counts only when its reply
arrived; when the connection breaks (an agent restart) it reconnects and sends the same request
again, so the totals it prints are exactly the requests the server answered:
  {"writes": N, "write_bytes": N, "reads": N, "read_bytes": N, "reconnects": N}
The result is written to OUT when it is done (and also when it gets SIGTERM, marked "stopped").
"""
import argparse, json, signal, sys, time
import nbd

p = argparse.ArgumentParser()
p.add_argument("uri")
p.add_argument("--count", type=int, required=True)
p.add_argument("--wsize", type=int, default=4096)
p.add_argument("--rsize", type=int, default=8192)
p.add_argument("--rate", type=float, default=0, help="requests per second, 0 = as fast as possible")
p.add_argument("--out", required=True)
p.add_argument("--retry-seconds", type=float, default=60)
a = p.parse_args()

t = {"writes": 0, "write_bytes": 0, "reads": 0, "read_bytes": 0, "reconnects": 0}

def save(stopped=False):
    with open(a.out + ".tmp", "w") as f:
        json.dump(dict(t, stopped=stopped), f)
    import os
    os.replace(a.out + ".tmp", a.out)

def on_term(signum, frame):
    save(stopped=True)
    sys.exit(0)

signal.signal(signal.SIGTERM, on_term)

def connect():
    deadline = time.monotonic() + a.retry_seconds
    while True:
        try:
            h = nbd.NBD()
            h.connect_uri(a.uri)
            return h
        except nbd.Error:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)

h = connect()
size = h.get_size()
wbuf = b"\xa5" * a.wsize
start = time.monotonic()
i = 0
while i < a.count:
    if a.rate:
        due = start + i / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
    write = i % 2 == 0
    n = a.wsize if write else a.rsize
    off = (i * 4096) % (size - n)
    try:
        if write:
            h.pwrite(wbuf, off)
        else:
            h.pread(n, off)
    except nbd.Error:
        t["reconnects"] += 1
        try:
            h.close()
        except Exception:
            pass
        h = connect()
        continue
    if write:
        t["writes"] += 1
        t["write_bytes"] += n
    else:
        t["reads"] += 1
        t["read_bytes"] += n
    i += 1
h.shutdown()
save()
