#!/usr/bin/env python3
"""Starts N runs of `exec sleep TAG` on the gateway at 127.0.0.1:PORT/cli and
holds their streams open. Prints "started N" once every run's `started`
event has arrived (or "started K of N" and exits 1 when some did not within
30 s), then keeps the connections for two minutes, or until it is killed.

usage: hold-runs.py PORT N TAG
"""
import selectors
import socket
import sys
import time


def main():
    port, n, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    body = ('{"args":["-c","exec sleep %s"]}' % tag).encode()
    request = (b"POST /cli HTTP/1.1\r\nHost: x\r\nX-Role: admin\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
               % len(body)) + body

    sel = selectors.DefaultSelector()
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(request)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)

    started = 0
    deadline = time.monotonic() + 30
    while started < n and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=1):
            data = key.data
            chunk = key.fileobj.recv(65536)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            data += chunk
            if b'"type":"started"' in data:
                started += 1
                sel.unregister(key.fileobj)

    if started < n:
        print("started %d of %d" % (started, n), flush=True)
        sys.exit(1)

    print("started %d" % n, flush=True)
    time.sleep(120)


main()
