#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""A slow client that reads a whole stream, run as a gateway program by
t/012-backpressure.t: it asks URL to run a writer that floods stdout and
stderr at once with lines of every kind (empty, long, escaped, multibyte,
invalid UTF-8), reads the stream at a limited rate so that the gateway
keeps falling behind and catching up, and checks that every line of each
stream arrived once, in order, as the encoder must write it.

usage: slow-whole.py URL [LINES [BYTES_PER_SECOND]]"""

import http.client
import json
import socket
import sys
import time
from urllib.parse import urlsplit

LINES = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
RATE = int(sys.argv[3]) if len(sys.argv) > 3 else 2 * 1000 * 1000

# payload(i) as bytes (what the writer prints) and as the text expected
# back; both sides use this same source, so the writer is built from it
PAYLOAD = '''
def payload(i):
    k = i % 6
    if k == 0:
        return b""
    if k == 1:
        return b"x" * (i % 2000)
    if k == 2:
        return b"short"
    if k == 3:
        return b'tab\\t "quoted" back\\\\slash'
    if k == 4:
        return "caf\\u00e9 \\u20ac \\U0001F600".encode()
    return b"bad\\xffbyte"
'''
exec(PAYLOAD)

WRITER = ("import sys\n" + PAYLOAD +
          "o, e = sys.stdout.buffer, sys.stderr.buffer\n"
          f"for i in range({LINES}):\n"
          "    o.write(b'o%d:' % i + payload(i) + b'\\n')\n"
          "    e.write(b'e%d:' % i + payload(i) + b'\\n')\n")


def expected(tag, i):
    return (tag + str(i) + ":").encode() + payload(i) + b"\n"


def main():
    sys.stdout.reconfigure(line_buffering=True)
    url = urlsplit(sys.argv[1])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    conn.connect()
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    conn.request("POST", url.path,
                 body=json.dumps({"args": ["-c", WRITER]}),
                 headers={"X-Role": "admin",
                          "Content-Type": "application/json"})
    resp = conn.getresponse()

    seen = {"stdout": 0, "stderr": 0}
    in_order = {"stdout": True, "stderr": True}
    codes, buf = [], b""
    start = time.monotonic()
    received = 0

    while True:
        chunk = resp.read1(16384)
        if not chunk:
            break
        received += len(chunk)
        buf += chunk
        *events, buf = buf.split(b"\n\n")
        for ev in events:
            name, data = ev.split(b"\n", 1)
            event = json.loads(data[len(b"data: "):])
            kind = event["type"]
            if kind in seen:
                tag = "o" if kind == "stdout" else "e"
                want = expected(tag, seen[kind]).decode("utf-8", "replace")
                if name != b"event: cli" or event["data"] != want:
                    in_order[kind] = False
                seen[kind] += 1
            elif kind == "exit_code":
                codes.append(event["code"])
        # behind the program: the gateway must wait for us
        ahead = received / RATE - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)

    for kind in ("stdout", "stderr"):
        print(f"{kind}: {seen[kind]} lines, all in order:",
              in_order[kind] and seen[kind] == LINES)
    print("exit codes:", codes)
    print(f"received {received} bytes in {time.monotonic() - start:.1f} s",
          file=sys.stderr)


main()
