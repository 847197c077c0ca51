#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""A TCP proxy that breaks connections, for t/scripts/client.sh and the
browser test: it passes connections on 127.0.0.1:PORT to 127.0.0.1:TARGET,
and cuts the first CUTS of them (closes both sides, as a dropped link
would) once BYTES bytes of the answer have reached the client. The next
SERVE connections (default: any number) pass whole; after them it stops
listening, so that a client trying again finds nothing there.

With --after MARKER, the bytes are counted from the first MARKER in an
answer (e.g. "text/event-stream"), and a connection whose answers never
have one passes whole and does not count: a browser sends its POST on a
connection that has carried other requests first. Prints "ready" when it
listens.

usage: cut-proxy.py [--after MARKER] PORT TARGET BYTES CUTS [SERVE]"""

import socket
import sys
import threading


class Cuts:
    """How many connections are still to be cut."""

    def __init__(self, n):
        self.left = n
        self.lock = threading.Lock()

    def take(self):
        with self.lock:
            if self.left <= 0:
                return False
            self.left -= 1
            return True


def shut(*socks):
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def forward(src, dst):
    """The client's side: copies src to dst until either side stops."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    shut(src, dst)


def answer(upstream, client, limit, marker, cuts):
    """The answer's side: copies upstream to client; once this connection
    is to be cut (from its start, or from the marker on), stops after
    limit bytes and closes both."""
    left = limit if marker is None and cuts.take() else None
    seen = b""           # the end of what passed: a marker may be split
    try:
        while left is None or left > 0:
            data = upstream.recv(65536 if left is None else min(65536, left))
            if not data:
                break
            if left is None and marker is not None:
                seen += data
                at = seen.find(marker)
                if at < 0:
                    seen = seen[1 - len(marker):]
                elif cuts.take():
                    # the bytes after the marker, all in data, count
                    after = len(seen) - at - len(marker)
                    keep = len(data) - max(0, after - limit)
                    data, left = data[:keep], max(0, limit - after)
                    marker = None
                else:
                    marker = None       # no cuts left: passes whole
            elif left is not None:
                left -= len(data)
            client.sendall(data)
    except OSError:
        pass
    shut(upstream, client)


def serve(client, target, limit, marker, cuts):
    try:
        upstream = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        return
    t = threading.Thread(target=forward, args=(client, upstream), daemon=True)
    t.start()
    answer(upstream, client, limit, marker, cuts)
    t.join()
    client.close()
    upstream.close()


def main():
    args = sys.argv[1:]
    marker = None
    if args[:1] == ["--after"]:
        marker, args = args[1].encode(), args[2:]
    port, target, limit, n_cuts = (int(a) for a in args[:4])
    serve_more = int(args[4]) if len(args) > 4 else None

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    print("ready", flush=True)

    cuts = Cuts(n_cuts)
    accepted = 0
    threads = []
    while serve_more is None or accepted < n_cuts + serve_more:
        client, _ = listener.accept()
        accepted += 1
        t = threading.Thread(target=serve,
                             args=(client, target, limit, marker, cuts))
        t.start()
        threads.append(t)
    listener.close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
