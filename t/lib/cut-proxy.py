#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""A TCP proxy that breaks connections, for t/scripts/client.sh: it passes
connections on 127.0.0.1:PORT to 127.0.0.1:TARGET, and cuts each of the
first CUTS of them (closes both sides, as a dropped link would) once BYTES
bytes of the answer have reached the client. The next SERVE connections
(default: any number) pass whole; after them it stops listening, so that
a client trying again finds nothing there. Prints "ready" when it listens
and one line "cut N" to stderr for each connection it cuts.

usage: cut-proxy.py PORT TARGET BYTES CUTS [SERVE]"""

import socket
import sys
import threading


def pipe(src, dst, limit, done):
    """Copies src to dst, at most limit bytes (None: all), then closes
    both; done is set once either direction stops."""
    sent = 0
    try:
        while limit is None or sent < limit:
            want = 65536 if limit is None else min(65536, limit - sent)
            data = src.recv(want)
            if not data:
                break
            dst.sendall(data)
            sent += len(data)
    except OSError:
        pass
    done.set()
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client, target, limit):
    try:
        upstream = socket.create_connection(("127.0.0.1", target))
    except OSError:
        client.close()
        return
    done = threading.Event()
    threading.Thread(target=pipe, args=(client, upstream, None, done),
                     daemon=True).start()
    pipe(upstream, client, limit, done)
    done.wait()
    client.close()
    upstream.close()


def main():
    port, target, limit, cuts = (int(a) for a in sys.argv[1:5])
    serve_more = int(sys.argv[5]) if len(sys.argv) > 5 else None

    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(16)
    print("ready", flush=True)

    n = 0
    threads = []
    while serve_more is None or n < cuts + serve_more:
        client, _ = listener.accept()
        n += 1
        cut = n <= cuts
        if cut:
            print("cut %d" % n, file=sys.stderr, flush=True)
        t = threading.Thread(target=serve,
                             args=(client, target, limit if cut else None))
        t.start()
        threads.append(t)
    listener.close()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
