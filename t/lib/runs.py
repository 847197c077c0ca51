#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers
"""A client of a gateway's runs for the tests (t/014-runs.t, t/scripts).

  runs.py URL post BODY [--raw FILE]     the stream, summarised
  runs.py URL start BODY                 "run ID" once started, then hangs up
  runs.py URL events ID [--last N] [--raw FILE] [--lines K]
  runs.py URL get PATH                   "STATUS BODY" of GET URL+PATH
  runs.py URL delete ID                  "STATUS BODY"

URL is the gateway location's, e.g. http://127.0.0.1:8080/g. Headers:
X-Role: admin and X-User: $RUNS_USER (default alice); RUNS_HEADER adds one
"Name: value". A stream is printed one event per line (`started`,
`stdout TEXT`, `stderr TEXT`, `error TEXT`, `exit_code N`, `gap LOST ID`),
then `ids ok` when every id line is the log offset just after its event
(a reattach from byte B counts from B; after a gap, from the gap's id), or
`ids bad: ...`; `--lines K` hangs up after K events. `X-Worker` of the
response, if any, is printed first as `worker PID`.
"""
import http.client
import json
import os
import socket
import sys
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=60), u.path


def headers(extra=None):
    h = {"X-Role": "admin", "X-User": os.environ.get("RUNS_USER", "alice")}
    if os.environ.get("RUNS_HEADER"):
        k, v = os.environ["RUNS_HEADER"].split(":", 1)
        h[k.strip()] = v.strip()
    h.update(extra or {})
    return h


def summary(data):
    d = json.loads(data)
    t = d["type"]
    if t == "started":
        return "started" + (" run" if "run_id" in d else "")
    if t in ("stdout", "stderr"):
        return "%s %s" % (t, d["data"].rstrip("\n"))
    if t == "error":
        return "error " + d["message"]
    if t == "exit_code":
        return "exit_code %d" % d["code"]
    if t == "gap":
        return "gap %d" % d["lost_bytes"]
    return "unknown " + data


def stream(resp, offset, raw, limit, on_started=None):
    """Prints the events of resp; checks ids against offsets from offset."""
    buf = b""
    problems = []
    out = bytearray()
    events = 0
    while True:
        chunk = resp.read1(65536)
        if not chunk:
            break
        out += chunk
        buf += chunk
        while b"\n\n" in buf:
            frame, buf = buf.split(b"\n\n", 1)
            size = len(frame) + 2
            if frame == b":":
                continue            # keep-alive, not in the log
            fields = dict(line.split(b": ", 1) for line in frame.split(b"\n"))
            text = summary(fields[b"data"].decode())
            print(text, flush=True)
            if text.startswith("gap"):
                offset = int(fields[b"id"])
            else:
                offset += size
                if b"id" in fields and int(fields[b"id"]) != offset:
                    problems.append("%s at %d" % (fields[b"id"].decode(),
                                                  offset))
            if b"id" not in fields:
                problems.append("no id")
            if on_started and text.startswith("started"):
                on_started(json.loads(fields[b"data"]))
                return
            events += 1
            if limit and events >= limit:
                resp.close()
                return
    if raw:
        with open(raw, "wb") as f:
            f.write(bytes(out))
    print("ids ok" if not problems else "ids bad: " + ", ".join(problems[:5]))


def main():
    url, cmd = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    opt = {}
    while len(args) > 1 and args[-2].startswith("--"):
        opt[args[-2]] = args[-1]
        args = args[:-2]
    conn, path = connect(url)

    if cmd in ("post", "start"):
        conn.request("POST", path, body=args[0].encode(),
                     headers=headers({"Content-Type": "application/json"}))
        resp = conn.getresponse()
        if resp.getheader("X-Worker"):
            print("worker", resp.getheader("X-Worker"))
        if resp.status != 200:
            print(resp.status, resp.read().decode())
            return 1
        if cmd == "start":
            def started(d):
                print("run", d["run_id"], flush=True)
                conn.sock.shutdown(socket.SHUT_RDWR)
            stream(resp, 0, None, 0, started)
            return 0
        stream(resp, 0, opt.get("--raw"), 0)
        return 0

    if cmd == "events":
        extra = {}
        if "--last" in opt:
            extra["Last-Event-ID"] = opt["--last"]
        conn.request("GET", path + "/runs/" + args[0] + "/events",
                     headers=headers(extra))
        resp = conn.getresponse()
        if resp.getheader("X-Worker"):
            print("worker", resp.getheader("X-Worker"))
        if resp.status != 200:
            print(resp.status, resp.read().decode())
            return 1
        stream(resp, int(opt.get("--last", 0)), opt.get("--raw"),
               int(opt.get("--lines", 0)))
        return 0

    method = "DELETE" if cmd == "delete" else "GET"
    target = path + ("/runs/" + args[0] if cmd == "delete" else args[0])
    conn.request(method, target, headers=headers())
    resp = conn.getresponse()
    worker = resp.getheader("X-Worker")
    if worker:
        print("worker", worker)
    print(resp.status, resp.read().decode())
    return 0


if __name__ == "__main__":
    sys.exit(main())
