#!/usr/bin/env python3
"""Floods an NBD server's unix socket, as a careless or hostile host would, and holds the flood
until stdin closes.

  nbd-flood.py SOCKET IDLE STALLED EXPORT...

IDLE connections finish their handshake (NBD_OPT_GO, the exports taken in turn) and then send
nothing; STALLED connections read the greeting, send the client flags and half an option header,
and stall there. Prints "ready IDLE STALLED" once all are in place. Then it watches the stalled
ones and prints "dropped N SECONDS" when the server has closed all of them (N of them, SECONDS
after they stalled). When stdin closes it closes everything and prints "closed".
"""
import resource
import select
import socket
import struct
import sys
import threading
import time

IHAVEOPT = 0x49484156454F5054
NBD_OPT_GO = 7
NBD_REP_ACK = 1
REPLY_MAGIC = 0x3E889045565A9


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError(f"server closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    greeting = recv_exactly(s, 18)
    if greeting[8:16] != struct.pack(">Q", IHAVEOPT):
        raise SystemExit("not a fixed newstyle greeting")
    s.sendall(struct.pack(">I", 3))  # FIXED_NEWSTYLE | NO_ZEROES
    return s


def go(s, export):
    name = export.encode()
    data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
    s.sendall(struct.pack(">QII", IHAVEOPT, NBD_OPT_GO, len(data)) + data)
    while True:
        magic, _, rtype, length = struct.unpack(">QIII", recv_exactly(s, 20))
        if magic != REPLY_MAGIC:
            raise SystemExit("bad option reply magic")
        payload = recv_exactly(s, length)
        if rtype == NBD_REP_ACK:
            return
        if rtype & 0x80000000:
            raise SystemExit(f"NBD_OPT_GO {export}: error {rtype:#x}: {payload.decode(errors='replace')}")


def main():
    path, idle, stalled, exports = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    idle_socks = []
    for i in range(idle):
        s = connect(path)
        go(s, exports[i % len(exports)])
        idle_socks.append(s)
    stalled_socks = []
    for _ in range(stalled):
        s = connect(path)
        s.sendall(struct.pack(">Q", IHAVEOPT))  # half of an option header, then nothing
        stalled_socks.append(s)
    began = time.monotonic()
    print(f"ready {len(idle_socks)} {len(stalled_socks)}", flush=True)

    def watch():
        # poll, not select: these descriptors are above select's limit of 1024.
        poller = select.poll()
        open_ = {s.fileno(): s for s in stalled_socks}
        for fd in open_:
            poller.register(fd, select.POLLIN)
        while open_:
            for fd, _ in poller.poll(1000):
                try:
                    gone = not open_[fd].recv(1)
                except OSError:
                    gone = True
                if gone:
                    poller.unregister(fd)
                    del open_[fd]
        print(f"dropped {len(stalled_socks)} {time.monotonic() - began:.1f}", flush=True)

    if stalled_socks:
        threading.Thread(target=watch, daemon=True).start()
    sys.stdin.read()
    for s in idle_socks + stalled_socks:
        s.close()
    print("closed", flush=True)


if __name__ == "__main__":
    main()
