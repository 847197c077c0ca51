#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""An h2c client that resets a stream while the connection is backed up,
run as a gateway program by t/011-http2.t.

Stream 1 runs a writer that floods stdout; the client does not read, so
DATA frames of stream 1 wait in nginx's HTTP/2 queue. It resets stream 1
(its program is stopped and reaped), starts stream 3 with another writer,
and only then reads the connection to its end. nginx still sends the frames
queued for stream 1, from the buffers of its run: they must hold stream 1's
events, whole, and the connection's framing must stay intact.

usage: h2-reset.py HOST:PORT PATH"""

import json
import re
import socket
import struct
import sys
import time

HOST, PORT = sys.argv[1].rsplit(":", 1)
PATH = sys.argv[2].encode()
LINES = 20000


def frame(kind, flags, sid, payload):
    return (struct.pack(">I", len(payload))[1:] + bytes([kind, flags])
            + struct.pack(">I", sid) + payload)


def hpack_int(n):
    if n < 127:
        return bytes([n])
    out = [127]
    n -= 127
    while n >= 128:
        out.append((n & 127) | 128)
        n >>= 7
    return bytes(out + [n])


def header(name, value):
    # literal without indexing, new name, no Huffman
    return b"\x00" + hpack_int(len(name)) + name + hpack_int(len(value)) + value


def request(sid, tag, lines):
    writer = ("import sys\n"
              "w = sys.stdout.write\n"
              f"for i in range({lines}): w('{tag}-%07d-' % i + 'x' * 60 + '\\n')\n")
    body = json.dumps({"args": ["-c", writer]}).encode()
    block = b"".join(header(n, v) for n, v in [
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", PATH),
        (b":authority", b"localhost"), (b"content-type", b"application/json"),
        (b"x-role", b"admin"), (b"content-length", str(len(body)).encode())])
    return frame(1, 0x4, sid, block) + frame(0, 0x1, sid, body)


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((HOST, int(PORT)))
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
          + frame(4, 0, 0, struct.pack(">HI", 4, 16 << 20))  # stream window
          + frame(8, 0, 0, struct.pack(">I", 64 << 20)))     # connection's
s.sendall(request(1, "A", 10 * 1000 * 1000))
time.sleep(2)
s.sendall(frame(3, 0, 1, struct.pack(">I", 8)))             # CANCEL
time.sleep(1.5)
s.sendall(request(3, "B", LINES))
time.sleep(1)

data = {1: bytearray(), 3: bytearray()}
framing_ok = True
buf = b""
ended = False
s.settimeout(20)

while not ended:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
    while len(buf) >= 9 and len(buf) >= 9 + int.from_bytes(buf[:3], "big"):
        size = int.from_bytes(buf[:3], "big")
        kind, flags = buf[3], buf[4]
        sid = int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
        payload, buf = buf[9:9 + size], buf[9 + size:]
        if kind > 9 or sid not in (0, 1, 3):
            framing_ok = False
            ended = True
            break
        if kind == 0:
            data[sid] += payload
            if size:
                s.sendall(frame(8, 0, 0, struct.pack(">I", size)))
            if sid == 3 and flags & 0x1:
                ended = True
        elif kind == 4 and not flags & 0x1:
            s.sendall(frame(4, 0x1, 0, b""))
        elif kind == 7:
            ended = True


def numbers(sid, tag):
    text = data[sid].decode("utf-8", "replace")
    return [int(n) for n in re.findall(tag + r"-(\d{7})-x{60}\\n", text)]


one, three = numbers(1, "A"), numbers(3, "B")
events_1 = data[1].decode("utf-8", "replace").split("\n\n")

print("framing intact:", framing_ok)
print("stream 1 got some lines:", len(one) > 1000)
print("stream 1 lines are its own, in order:",
      one == list(range(len(one))) and b"B-" not in data[1]
      and all(e.startswith("event: cli\ndata: {") for e in events_1[:-1]))
print("stream 3 lines complete, in order:", three == list(range(LINES)))
print("stream 3 ends with exit_code 0:",
      data[3].endswith(b'data: {"type":"exit_code","code":0}\n\n'))
