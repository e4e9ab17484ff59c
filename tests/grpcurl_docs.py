#!/usr/bin/env python3
"""Runs every grpcurl command of docs/grpcurl.md against live apps, translated mechanically to
`buf curl` (grpcurl is not installable here), and compares each answer's shape (JSON key paths, the
number of messages, the error code) with the output block that follows the command in the doc.

Usage: grpcurl_docs.py DOC check|write SUBST...   where SUBST is FROM=TO (e.g. localhost:8080=127.0.0.1:41234),
applied to each command before it runs. `write` replaces the output blocks with the live output
(values included), turning the substitutions back, so the doc shows real output."""
import json
import os
import re
import shlex
import signal
import subprocess
import sys

BLOCK = re.compile(r"(```sh\n)(grpcurl [^`]*?)(\n```\n+```(?:json|text)\n)(.*?)(```\n)", re.S)


def translate(cmd):
    """grpcurl argv -> (buf curl argv, seconds to stop a stream after, or None)."""
    args = shlex.split(cmd.replace("\\\n", " "))
    assert args[0] == "grpcurl", cmd
    out = ["buf", "curl", "--protocol", "grpc"]
    max_time = None
    rest = []
    i = 1
    while i < len(args):
        a = args[i]
        if a == "-plaintext":
            out.append("--http2-prior-knowledge")
        elif a == "-emit-defaults":
            out.append("--emit-defaults")
        elif a in ("-d", "-H"):
            out += [a, args[i + 1]]
            i += 1
        elif a == "-max-time":
            max_time = float(args[i + 1])
            i += 1
        elif a.startswith("-"):
            raise SystemExit(f"grpcurl flag {a} has no translation; add one to {sys.argv[0]}")
        else:
            rest.append(a)
        i += 1
    scheme = "http" if "--http2-prior-knowledge" in out else "https"
    if rest[1:] == ["list"]:
        return out + ["--list-services", f"{scheme}://{rest[0]}"], None
    address, method = rest
    return out + [f"{scheme}://{address}/{method}"], max_time


CODES = {"canceled": "Canceled", "unknown": "Unknown", "invalid_argument": "InvalidArgument",
         "deadline_exceeded": "DeadlineExceeded", "not_found": "NotFound", "already_exists": "AlreadyExists",
         "permission_denied": "PermissionDenied", "resource_exhausted": "ResourceExhausted",
         "failed_precondition": "FailedPrecondition", "aborted": "Aborted", "out_of_range": "OutOfRange",
         "unimplemented": "Unimplemented", "internal": "Internal", "unavailable": "Unavailable",
         "data_loss": "DataLoss", "unauthenticated": "Unauthenticated"}


def run(cmd):
    """Runs the translated command; returns the output as grpcurl prints it."""
    argv, max_time = translate(cmd)
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)  # buf is a node wrapper: stop its whole group
    try:
        out, err = p.communicate(timeout=max_time if max_time else 20)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return out + "ERROR:\n  Code: DeadlineExceeded\n  Message: context deadline exceeded\n"
    if p.returncode != 0:
        e = json.loads(err)
        return out + f"ERROR:\n  Code: {CODES[e['code']]}\n  Message: {e['message']}\n"
    return out


def shape(text):
    """(key paths of every JSON message, message count, error code, plain lines) of grpcurl output."""
    body, _, error = text.partition("ERROR:\n")
    code = re.search(r"Code: (\w+)", error).group(1) if error else None
    paths, count, plain, pos = set(), 0, [], 0
    dec = json.JSONDecoder()
    body = body.strip()
    if body.startswith("{"):
        while pos < len(body):
            value, pos = dec.raw_decode(body, pos)
            count += 1
            walk(value, "", paths)
            while pos < len(body) and body[pos].isspace():
                pos += 1
    else:
        plain = body.split()
    return sorted(paths), count, code, sorted(plain)


def walk(value, prefix, paths):
    if isinstance(value, dict):
        for k, v in value.items():
            walk(v, f"{prefix}.{k}", paths)
    elif isinstance(value, list):
        for v in value:
            walk(v, prefix + "[]", paths)
    else:
        paths.add(prefix)


def main():
    doc, mode, substs = sys.argv[1], sys.argv[2], [s.split("=", 1) for s in sys.argv[3:]]
    text = open(doc).read()
    failures, n = [], 0

    def one(m):
        nonlocal n
        n += 1
        cmd, documented = m.group(2), m.group(4)
        live_cmd = cmd
        for a, b in substs:
            live_cmd = live_cmd.replace(a, b)
        live = run(live_cmd)
        for a, b in substs:
            live = live.replace(b, a)
        if mode == "write":
            return m.group(1) + cmd + m.group(3) + live + m.group(5)
        if shape(live) != shape(documented):
            failures.append(f"{cmd}\n  documented: {shape(documented)}\n  live:       {shape(live)}")
        else:
            print(f"ok: {cmd.splitlines()[0]}")
        return m.group(0)

    new = BLOCK.sub(one, text)
    if mode == "write":
        open(doc, "w").write(new)
    if n == 0:
        raise SystemExit(f"no grpcurl command found in {doc}")
    for f in failures:
        print("MISMATCH " + f, file=sys.stderr)
    print(f"{n} commands, {len(failures)} mismatches")
    sys.exit(1 if failures else 0)


main()
