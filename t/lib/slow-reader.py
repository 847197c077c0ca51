#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""A slow client of a gateway stream, run as a gateway program by
t/012-backpressure.t: it asks URL to run a writer that floods stdout, reads
the stream slowly for a while, and prints what it saw of the writer (how
much it could write) and of the worker (how much it grew). Then it goes
away and checks that the writer is stopped.

usage: slow-reader.py URL [LINE_BYTES [GROWTH_MB]]
  LINE_BYTES  length of the writer's lines, newline included (100); 1 is a
              flood of empty lines, 48 bytes of SSE for each byte written
  GROWTH_MB   what the worker may grow by (16)"""

import json
import os
import socket
import sys
import time
from urllib.parse import urlsplit

TOTAL = 200 * 1000 * 1000         # what the writer tries to write
READ_SECONDS = 3                  # how long we read, slowly
READ_RATE = 1000 * 1000           # bytes a second

LINE_BYTES = int(sys.argv[2]) if len(sys.argv) > 2 else 100
GROWTH_MB = int(sys.argv[3]) if len(sys.argv) > 3 else 16

# whole lines in writes of about 64 KiB
WRITER = ("import sys\n"
          f"chunk = (b'x' * {LINE_BYTES - 1} + b'\\n')"
          f" * {65536 // LINE_BYTES}\n"
          "w = sys.stdout.buffer\n"
          f"for _ in range({TOTAL} // len(chunk)): w.write(chunk)\n")


def proc_field(pid, name, key):
    with open(f"/proc/{pid}/{name}") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1])
    raise KeyError(key)


def gone(pid):
    """Reaped: not running, and not a zombie waiting for the worker."""
    return not os.path.exists(f"/proc/{pid}")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    url = urlsplit(sys.argv[1])
    body = json.dumps({"args": ["-c", WRITER], "timeout_secs": 60}).encode()
    sock = socket.create_connection((url.hostname, url.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(b"POST " + url.path.encode() + b" HTTP/1.1\r\n"
                 b"Host: localhost\r\nX-Role: admin\r\n"
                 b"Content-Type: application/json\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body)

    data = b""
    while b'"pid":' not in data or b"}" not in data.split(b'"pid":')[1]:
        data += sock.recv(4096)
    pid = int(data.split(b'"pid":')[1].split(b"}")[0])
    worker = proc_field(pid, "status", "PPid:")
    rss_before = proc_field(worker, "status", "VmRSS:")

    received = len(data)
    deadline = time.monotonic() + READ_SECONDS
    while time.monotonic() < deadline:
        received += len(sock.recv(READ_RATE // 20))
        time.sleep(0.05)

    written = proc_field(pid, "io", "wchar:")
    grown_kb = proc_field(worker, "status", "VmRSS:") - rss_before

    # Without backpressure the writer is done in a fraction of a second and
    # the worker holds its 200 MB; with it, the writer waits on a full pipe.
    print("writer still running:", not gone(pid))
    print("writer blocked below 40 MB:", written < 40 * 1000 * 1000)
    print(f"worker grew less than {GROWTH_MB} MB:", grown_kb < GROWTH_MB * 1024)

    sock.close()
    for _ in range(100):
        if gone(pid):
            break
        time.sleep(0.05)
    print("writer gone after the disconnect:", gone(pid))
    print(f"written {written} received {received} grown {grown_kb} kB",
          file=sys.stderr)


main()
