#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""Soak test: many runs of every kind against one nginx, then the books.

usage: t/soak/soak.py NGINX_BINARY MODULE_SO [RUNS] [CLIENTS]

Runs normal exits, nonzero exits, signals, timeouts, client disconnects
mid-stream and slow readers from many concurrent clients, then checks that
every exit_code is what the program did, no zombie or program is left, the
workers' descriptors are back to their baseline, their memory is within 5 %
of its value after warm-up, and error.log has no [alert] or [crit]. Prints
the figures; exits 1 when a check fails.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PORT = int(os.environ.get("CLI_GATEWAY_SOAK_PORT", "1987"))

CONF = """
load_module {module};
worker_processes 2;
error_log logs/error.log notice;
pid logs/nginx.pid;
{user}
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    server {{
        listen 127.0.0.1:{port} backlog=1024;
        location = /cli {{
            cli_gateway /bin/sh;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_stop_grace 500ms;
        }}
    }}
}}
"""

# kind -> (args, timeout_secs, expected exit_code or None, how to read)
def workload(i):
    kind = i % 6
    if kind == 0:
        return "normal", ["-c", "seq 1 20"], None, 0, "all"
    if kind == 1:
        code = i % 100 + 1
        return "nonzero", ["-c", "echo out; echo err >&2; exit %d" % code], \
            None, code, "all"
    if kind == 2:
        return "signal", ["-c", "echo bye; kill -9 $$"], None, -1, "all"
    if kind == 3:
        return "timeout", ["-c", "sleep 5"], 0, -1, "all"
    if kind == 4:
        return "disconnect", ["-c", "echo start; exec sleep 31.3"], None, \
            None, "disconnect"
    return "slow", ["-c", "seq 1 20000"], None, 0, "slow"


def request(args, timeout_secs):
    body = {"args": args}
    if timeout_secs is not None:
        body["timeout_secs"] = timeout_secs
    data = json.dumps(body).encode()
    return (b"POST /cli HTTP/1.1\r\nHost: soak\r\nX-Role: admin\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            b"Content-Length: %d\r\n\r\n" % len(data)) + data


def run_one(i):
    kind, args, timeout_secs, expected, mode = workload(i)
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=30)
    try:
        sock.sendall(request(args, timeout_secs))
        raw = bytearray()
        while True:
            chunk = sock.recv(4096 if mode == "slow" else 65536)
            if not chunk:
                break
            raw += chunk
            if mode == "disconnect" and b'"data":"start\\n"' in raw:
                return kind, None, None
            if mode == "slow" and len(raw) < 400000:
                time.sleep(0.002)  # behind the program: backpressure
    finally:
        sock.close()

    codes = re.findall(rb'"type":"exit_code","code":(-?\d+)', raw)
    got = int(codes[-1]) if codes else "none"
    if kind == "slow" and raw.count(b'"type":"stdout"') != 20000:
        got = "lost lines"
    return kind, expected, got


def worker_pids(root):
    master = open(os.path.join(root, "logs/nginx.pid")).read().strip()
    out = subprocess.run(["pgrep", "-P", master], capture_output=True,
                         text=True).stdout.split()
    return [int(p) for p in out]


def worker_stats(root):
    stats = {}
    for pid in worker_pids(root):
        rss = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        stats[pid] = (len(os.listdir("/proc/%d/fd" % pid)), rss)
    return stats


def zombies(root):
    count = 0
    for pid in worker_pids(root):
        out = subprocess.run(["ps", "-o", "stat=", "--ppid", str(pid)],
                             capture_output=True, text=True).stdout
        count += sum(1 for s in out.split() if s.startswith("Z"))
    return count


def hammer(first, count, clients, results):
    lock = threading.Lock()
    next_i = [first]

    def client():
        while True:
            with lock:
                i = next_i[0]
                if i >= first + count:
                    return
                next_i[0] += 1
            try:
                results.append(run_one(i))
            except Exception as e:  # a failed request is a failed check
                results.append(("error", None, repr(e)))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main():
    nginx, module = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10000
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    warmup = max(runs // 10, 1)

    root = tempfile.mkdtemp(prefix="cli-gateway-soak.")
    os.makedirs(os.path.join(root, "logs"))
    with open(os.path.join(root, "nginx.conf"), "w") as f:
        f.write(CONF.format(module=module, root=root, port=PORT,
                            user="user root;" if os.getuid() == 0 else ""))
    subprocess.run([nginx, "-p", root + "/", "-c", root + "/nginx.conf"],
                   check=True)
    time.sleep(0.5)

    try:
        baseline = worker_stats(root)
        results = []
        hammer(0, warmup, clients, results)
        time.sleep(1)
        warm = worker_stats(root)

        start = time.time()
        hammer(warmup, runs - warmup, clients, results)
        elapsed = time.time() - start
        time.sleep(2)  # disconnects: stop, grace, reap

        final = worker_stats(root)
        left = subprocess.run(["pgrep", "-f", "sleep 31[.]3"],
                              capture_output=True, text=True).stdout.split()
        zombie_count = zombies(root)
        log = open(os.path.join(root, "logs/error.log")).read()
        alerts = [l for l in log.splitlines()
                  if "[alert]" in l or "[crit]" in l or "[emerg]" in l]
    finally:
        subprocess.run([nginx, "-p", root + "/", "-c", root + "/nginx.conf",
                        "-s", "stop"])
        time.sleep(0.5)

    wrong = [r for r in results if r[1] != r[2]]
    kinds = {}
    for r in results:
        kinds[r[0]] = kinds.get(r[0], 0) + 1

    fds_ok = all(final.get(p, (None,))[0] == baseline[p][0] for p in baseline)
    rss_ok = all(final[p][1] <= warm[p][1] * 1.05 for p in warm if p in final)

    print("runs: %d in %d clients, %s" % (len(results), clients,
          ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("measured phase: %d runs in %.1f s, %.0f runs/s"
          % (runs - warmup, elapsed, (runs - warmup) / elapsed))
    for pid in sorted(baseline):
        print("worker %d: fds %d -> %d, RSS after warm-up %d kB, at the end "
              "%d kB" % (pid, baseline[pid][0], final.get(pid, (-1, -1))[0],
                         warm.get(pid, (-1, -1))[1],
                         final.get(pid, (-1, -1))[1]))
    print("exit codes wrong: %d, zombies: %d, programs left: %d, "
          "alert/crit lines: %d" % (len(wrong), zombie_count, len(left),
                                    len(alerts)))
    for r in wrong[:10]:
        print("  wrong:", r)
    for line in alerts[:10]:
        print("  log:", line)

    ok = (not wrong and zombie_count == 0 and not left and not alerts
          and fds_ok and rss_ok and set(final) == set(baseline))
    print("soak: %s" % ("PASS" if ok else "FAIL"))
    if ok:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("nginx prefix kept in", root)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
