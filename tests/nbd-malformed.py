#!/usr/bin/env python3
"""Malformed NBD input against a dmp agent: each case on its own connection, each checked for the
server's exact reaction (close, or an error reply with the connection kept).
Usage: nbd-malformed.py SOCKET FILE_VOLUME MEMORY_VOLUME"""
import socket
import struct
import sys

SOCK, FILE_VOL, MEM_VOL = sys.argv[1:4]
NBDMAGIC, IHAVEOPT = 0x4E42444D41474943, 0x49484156454F5054
REQUEST_MAGIC, SIMPLE_REPLY_MAGIC = 0x25609513, 0x67446698
READ, WRITE, DISC = 0, 1, 2
EINVAL = 22


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(SOCK)
    magic, opt, _flags = struct.unpack(">QQH", recv_exact(s, 18))
    assert (magic, opt) == (NBDMAGIC, IHAVEOPT), "bad greeting"
    return s


def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise EOFError("closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def open_export(name):
    """Fixed newstyle with NO_ZEROES, then NBD_OPT_EXPORT_NAME: returns (socket, size)."""
    s = connect()
    s.sendall(struct.pack(">I", 3))
    s.sendall(struct.pack(">QII", IHAVEOPT, 1, len(name)) + name.encode())
    size, _flags = struct.unpack(">QH", recv_exact(s, 10))
    return s, size


def request(s, cmd, offset, length, flags=0, cookie=1):
    s.sendall(struct.pack(">IHHQQI", REQUEST_MAGIC, flags, cmd, cookie, offset, length))


def reply(s):
    magic, error, cookie = struct.unpack(">IIQ", recv_exact(s, 16))
    assert magic == SIMPLE_REPLY_MAGIC, hex(magic)
    return error, cookie


def expect_closed(s, what):
    try:
        data = s.recv(4096)
        while data:
            data = s.recv(4096)
    except ConnectionResetError:
        pass
    except socket.timeout:
        raise AssertionError(what + ": the server kept the connection open")
    s.close()
    print("ok: " + what + ": connection closed")


# 1. Garbage instead of the client flags (an HTTP client on the NBD socket).
s = connect()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
expect_closed(s, "garbage handshake")

# 2. A bad option magic.
s = connect()
s.sendall(struct.pack(">I", 1) + b"\xde\xad\xbe\xef" * 4)
expect_closed(s, "bad option magic")

# 3. An option claiming 4 GiB of data: refused before anything is allocated.
s = connect()
s.sendall(struct.pack(">IQII", 1, IHAVEOPT, 7, 0xFFFFFFFF) + b"x" * 100)
expect_closed(s, "option length 4 GiB")

# 4. Client leaves in the middle of the option data.
s = connect()
s.sendall(struct.pack(">IQII", 1, IHAVEOPT, 7, 64) + b"x" * 10)
s.close()
print("ok: truncated option sent")

# 5. A bad request magic in transmission.
s, size = open_export(FILE_VOL)
s.sendall(b"\x00" * 28)
expect_closed(s, "bad request magic")

# 6. A WRITE claiming 4 GiB - 1 bytes (over the 32 MiB maximum): closed, nothing allocated or written.
s, size = open_export(FILE_VOL)
request(s, WRITE, 0, 0xFFFFFFFF)
try:
    s.sendall(b"\xff" * 65536)
except (BrokenPipeError, ConnectionResetError):
    pass  # the server may close on the header alone, before this payload is sent: that is right too
expect_closed(s, "WRITE over the maximum length")

# 7. A truncated request header, then EOF.
s, size = open_export(FILE_VOL)
s.sendall(struct.pack(">IHH", REQUEST_MAGIC, 0, READ))
s.close()
print("ok: truncated request header sent")

# 8. A client that vanishes in the middle of a 1 MiB write: nothing reaches the file.
s, size = open_export(FILE_VOL)
request(s, WRITE, 0, 1 << 20)
s.sendall(b"\xee" * 100000)
s.close()
print("ok: vanished mid-write")

# 9. An unknown command gets NBD_EINVAL and the connection carries on (one good READ follows).
s, size = open_export(FILE_VOL)
request(s, 99, 0, 0, cookie=7)
error, cookie = reply(s)
assert (error, cookie) == (EINVAL, 7), (error, cookie)
request(s, READ, 0, 4096, cookie=8)
error, cookie = reply(s)
assert (error, cookie) == (0, 8), (error, cookie)
recv_exact(s, 4096)
request(s, DISC, 0, 0)
expect_closed(s, "unknown command -> EINVAL, then READ ok, then DISC")

# 10. DISC right behind 8 writes whose replies were not yet read: every write is answered, then close.
s, size = open_export(MEM_VOL)
for i in range(8):
    request(s, WRITE, i << 20, 1 << 20, cookie=100 + i)
    s.sendall(bytes([i + 1]) * (1 << 20))
request(s, DISC, 0, 0)
cookies = sorted(reply(s) for _ in range(8))
assert cookies == [(0, 100 + i) for i in range(8)], cookies
expect_closed(s, "DISC after 8 writes in flight: 8 replies, then")
print("PASS")
