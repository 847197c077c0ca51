#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""A client that is behind when the keep-alive timer fires, run as a
gateway program by t/012-backpressure.t: it asks URL (keep-alive 1s, a
small send buffer) to run a program that prints about 60 KiB of SSE at once
and then is quiet for 6 s, reads nothing for 2.5 s, then reads to the end
and counts the keep-alive frames that came after the last line: the quiet
part of the stream must still be kept alive.

usage: keepalive-behind.py URL"""

import json
import socket
import sys
import time
from urllib.parse import urlsplit

PROGRAM = ("import sys, time\n"
           "for i in range(400): sys.stdout.write('x' * 100 + '\\n')\n"
           "sys.stdout.flush()\n"
           "time.sleep(6)\n")


def main():
    sys.stdout.reconfigure(line_buffering=True)
    url = urlsplit(sys.argv[1])
    body = json.dumps({"args": ["-c", PROGRAM]}).encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((url.hostname, url.port))
    sock.sendall(b"POST " + url.path.encode() + b" HTTP/1.1\r\n"
                 b"Host: localhost\r\nX-Role: admin\r\n"
                 b"Content-Type: application/json\r\nConnection: close\r\n"
                 b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
                 + body)

    time.sleep(2.5)  # the timer fires while nginx cannot send

    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk

    last_line = data.rfind(b'"type":"stdout"')
    frames = data[last_line:].count(b"\r\n:\n\n\r\n")
    print("lines:", data.count(b'"type":"stdout"'))
    print("keep-alive frames while quiet, at least 3:", frames >= 3)
    print(f"keep-alive frames after the last line: {frames}", file=sys.stderr)


main()
