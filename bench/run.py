#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""make bench: the module next to what operators would run instead.

usage: bench/run.py BUILD_DIR NGINX_BINARY MODULE_SO FLOOR_BINARY

In one run on this machine, the same work goes to
  module      the module in nginx
  module+runs the same with cli_gateway_runs (ids, a log kept for replay)
  node+nginx  bench/gateway.js (Node's stdlib) behind nginx proxy_pass,
              buffering off
  node        the same Node gateway, direct
  fcgiwrap    bench/gateway.cgi under Debian's fcgiwrap behind fastcgi_pass,
              buffering off
  floor       bench/floor.c: posix_spawn + read to EOF + waitpid, in a loop
Workloads: short runs (`seq 1 10`, wrk, 16 connections), one 300,000-line
stream of `seq` (lines of 2 to 7 bytes: the framing's worst case), one of
300,000 log lines (`cat` of a file of lines of about 85 bytes, written
at the start), time to the `started` event, idle streams (memory per
stream), CPU per MB streamed. Prints a table; writes bench.csv, table.md (with the
machine and the date of the run) and bench.png (gnuplot) into
BENCH_RESULTS (default BUILD_DIR/bench/results; `make bench
BENCH_RESULTS=bench/results` renews the committed ones). All servers
listen on 127.0.0.1.

BENCH_SECONDS (default 5) sets the length of each wrk run.
"""

import ctypes
import json
import os
import platform
import re
import resource
import selectors
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
RESULTS = None          # main(): BENCH_RESULTS or BUILD_DIR/bench/results
LOG_FILE = None         # main(): the log lines' file, BUILD_DIR/bench
SECONDS = float(os.environ.get("BENCH_SECONDS", "5"))
PORTS = {"module": 18081, "node+nginx": 18082, "node": 18083,
         "fcgiwrap": 18084, "module+runs": 18085}
NODE_PORT = PORTS["node"]
GATEWAYS = ["module", "module+runs", "node+nginx", "node", "fcgiwrap"]
COLUMNS = GATEWAYS + ["floor"]

SHORT_ARGS = ["1", "10"]
STREAM_LINES = 300000
STARTED_RUNS = 300
IDLE = {"module": 1000, "module+runs": 1000, "node+nginx": 1000,
        "node": 1000, "fcgiwrap": 100}
FCGI_CHILDREN = 128     # fcgiwrap serves one request per child
IDLE_SLEEP = "30"       # the idle program; streams are closed long before
PR_SET_CHILD_SUBREAPER = 36
PROGRAMS = {"/seq": "/usr/bin/seq", "/sleep": "/usr/bin/sleep",
            "/sh": "/bin/sh", "/cat": "/usr/bin/cat"}
PROGRAM_EXES = {os.path.realpath(p) for p in PROGRAMS.values()}

CONF = """
load_module {module};
worker_processes 2;
worker_rlimit_nofile 20000;
error_log logs/error.log warn;
pid logs/nginx.pid;
{user}
events {{ worker_connections 8192; }}
http {{
    access_log off;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;

    upstream node {{
        server 127.0.0.1:{node};
        keepalive 64;
    }}

    server {{
        listen 127.0.0.1:{p_module} backlog=4096;
{module_locations}
    }}

    cli_gateway_runs_zone zone=bench_runs:64m replay=1m keep=10m;

    server {{
        listen 127.0.0.1:{p_runs} backlog=4096;
{runs_locations}
    }}

    server {{
        listen 127.0.0.1:{p_proxy} backlog=4096;
        location / {{
            proxy_pass http://node;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
        }}
    }}

    server {{
        listen 127.0.0.1:{p_fcgi} backlog=4096;
{fcgi_locations}
    }}
}}
"""

MODULE_LOCATION = """
        location = {path} {{
            cli_gateway {program};
            cli_gateway_admin_claim $http_x_role admin;
        }}"""

RUNS_LOCATION = """
        location {path} {{
            cli_gateway {program};
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_runs bench_runs;
        }}"""

FCGI_LOCATION = """
        location = {path} {{
            fastcgi_pass unix:{run}/fcgiwrap.sock;
            fastcgi_buffering off;
            fastcgi_param SCRIPT_FILENAME {bench}/gateway.cgi;
            fastcgi_param REQUEST_METHOD $request_method;
            fastcgi_param CONTENT_TYPE $content_type;
            fastcgi_param CONTENT_LENGTH $content_length;
            fastcgi_param REQUEST_URI $request_uri;
            fastcgi_param CLI_GATEWAY_PROGRAM {program};
        }}"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# --- processes --------------------------------------------------------------

def children_of():
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            kids.setdefault(ppid, []).append(int(d))
    return kids


def tree(roots, programs=False):
    """The roots and their descendants: the gateway's own processes, or
    (programs=True) the programs they run."""
    kids = children_of()
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        todo.extend(kids.get(pid, []))
        try:
            exe = os.path.realpath("/proc/%d/exe" % pid)
        except OSError:
            continue
        if (exe in PROGRAM_EXES) == programs:
            out.append(pid)
    return out


def cpu_ticks(pid):
    """utime + stime of one process (its threads, not its children)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


class CpuMeter(threading.Thread):
    """CPU time of a gateway's processes, the programs excluded. Polls, so
    that processes which exit unwaited for (fcgiwrap ignores SIGCHLD, so
    its CGI scripts' times are lost to cutime) count up to their last
    sample."""

    def __init__(self, roots_fn):
        super().__init__(daemon=True)
        self.roots_fn = roots_fn
        self.seen = {}
        self.stopping = threading.Event()

    def sample(self):
        for pid in tree(self.roots_fn()):
            t = cpu_ticks(pid)
            if t is not None:
                self.seen[pid] = (self.seen.get(pid, (t, t))[0], t)

    def run(self):
        while not self.stopping.wait(0.01):
            self.sample()

    def start(self):
        self.sample()
        super().start()

    def stop(self):
        self.stopping.set()
        self.join()
        self.sample()
        return sum(last - first for first, last in self.seen.values()) \
            / os.sysconf("SC_CLK_TCK")


def pss_kib(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/smaps_rollup" % pid) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total


class Servers:
    def __init__(self, build, nginx, module):
        self.run = os.path.join(build, "bench-run")
        self.nginx = nginx
        self.module = module
        self.procs = []

    def start(self):
        shutil.rmtree(self.run, ignore_errors=True)
        for d in ("logs", "tmp"):
            os.makedirs(os.path.join(self.run, d))

        module_locations = "".join(
            MODULE_LOCATION.format(path=p, program=prog)
            for p, prog in PROGRAMS.items())
        runs_locations = "".join(
            RUNS_LOCATION.format(path=p, program=prog)
            for p, prog in PROGRAMS.items())
        fcgi_locations = "".join(
            FCGI_LOCATION.format(path=p, program=prog, run=self.run,
                                 bench=BENCH)
            for p, prog in PROGRAMS.items())
        conf = CONF.format(
            module=self.module, run=self.run, node=NODE_PORT,
            user="user root;" if os.getuid() == 0 else "",
            p_module=PORTS["module"], p_proxy=PORTS["node+nginx"],
            p_fcgi=PORTS["fcgiwrap"], module_locations=module_locations,
            p_runs=PORTS["module+runs"], runs_locations=runs_locations,
            fcgi_locations=fcgi_locations)
        conf_path = os.path.join(self.run, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)

        self.node = subprocess.Popen(
            ["node", os.path.join(BENCH, "gateway.js"), str(NODE_PORT)]
            + ["%s=%s" % kv for kv in PROGRAMS.items()])
        self.procs.append(self.node)

        self.fcgi = subprocess.Popen(
            ["fcgiwrap", "-c", str(FCGI_CHILDREN),
             "-s", "unix:" + os.path.join(self.run, "fcgiwrap.sock")])
        self.procs.append(self.fcgi)

        # in the foreground: the master is our child, reaped by us
        self.nginx_proc = subprocess.Popen(
            [self.nginx, "-p", self.run + "/", "-c", conf_path,
             "-g", "daemon off;"])
        self.procs.append(self.nginx_proc)
        self.master = self.nginx_proc.pid

        for port in PORTS.values():
            wait_port(port)
        wait_path(os.path.join(self.run, "fcgiwrap.sock"))

    def stop(self):
        for p in self.procs:
            for pid in tree([p.pid], programs=True):
                kill(pid)
            if p is self.fcgi:
                # its children outlive their master's SIGTERM
                for pid in tree([p.pid])[1:]:
                    kill(pid)
            p.terminate()
            p.wait(10)

    def workers(self):
        return children_of().get(self.master, [])

    def roots(self, gateway):
        """The processes under which a gateway works."""
        if gateway in ("module", "module+runs"):
            return self.workers()
        if gateway == "node":
            return [self.node.pid]
        if gateway == "node+nginx":
            return self.workers() + [self.node.pid]
        return self.workers() + [self.fcgi.pid]

    def pids(self, gateway):
        """The processes that do a gateway's work (not the programs)."""
        return tree(self.roots(gateway))

    def programs(self, gateway):
        return tree(self.roots(gateway), programs=True)


def kill(pid):
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def wait_port(port, seconds=10):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("bench: nothing listens on port %d" % port)


def wait_path(path, seconds=10):
    deadline = time.time() + seconds
    while not os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)


# --- HTTP -------------------------------------------------------------------

def request(path, args, timeout_secs=None):
    body = {"args": args}
    if timeout_secs is not None:
        body["timeout_secs"] = timeout_secs
    data = json.dumps(body).encode()
    # HTTP/1.0: the body is the SSE bytes as they are, closed at the end
    return (b"POST %s HTTP/1.0\r\nHost: bench\r\nX-Role: admin\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (path.encode(), len(data))) + data


def fetch(port, path, args, buf=bytearray(1 << 20)):
    """One run; returns (response body, seconds to `started`, seconds)."""
    t0 = time.perf_counter()
    started = None
    sock = socket.create_connection(("127.0.0.1", port), 30)
    sock.sendall(request(path, args))
    chunks = []
    view = memoryview(buf)
    while True:
        n = sock.recv_into(view)
        if n == 0:
            break
        chunks.append(bytes(view[:n]))
        if started is None and b'"type":"started"' in b"".join(chunks[-2:]):
            started = time.perf_counter() - t0
    sock.close()
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n")[0]:
        raise SystemExit("bench: port %d answered %r" % (port, raw[:200]))
    return body, started, time.perf_counter() - t0


# --- workloads --------------------------------------------------------------

def same_bytes(port):
    """The gateway's stream for output that needs escaping, pid masked."""
    script = ("printf 'plain\\n\\\\ \"q\" \\t tab\\001\\037\\r\\n"
              "bad \\377 byte \\342\\202\\254\\nno newline'; exit 3")
    body, _, _ = fetch(port, "/sh", ["-c", script])
    # with runs: the same but for the run id and the id lines
    body = re.sub(rb',"run_id":"[^"]*"', b"", body)
    body = re.sub(rb"\nid: [0-9a-f]+\n\n", b"\n\n", body)
    return re.sub(rb'"pid":\d+', b'"pid":0', body)


def short_runs(port):
    url = "http://127.0.0.1:%d/seq" % port
    base = ["wrk", "-t2", "-c16", "-s", os.path.join(BENCH, "post.lua")]
    subprocess.run(base + ["-d1s", url, "--", json.dumps(SHORT_ARGS)],
                   capture_output=True)  # warm-up
    out = subprocess.run(base + ["-d%gs" % SECONDS, url, "--",
                                 json.dumps(SHORT_ARGS)],
                         capture_output=True, text=True).stdout
    m = re.search(r"runs/s (\d+)\s+p50 ([\d.]+) ms\s+p99 ([\d.]+) ms\s+bad "
                  r"(\d+)", out)
    if not m:
        raise SystemExit("bench: wrk said:\n" + out)
    errors = re.findall(r"(Non-2xx.*|Socket errors.*)", out)
    return {"runs_s": float(m.group(1)), "p50_ms": float(m.group(2)),
            "p99_ms": float(m.group(3)),
            "bad": int(m.group(4)), "errors": "; ".join(errors)}


def write_log_lines(path):
    """STREAM_LINES lines like a service's log, about 85 bytes each."""
    levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN"]
    with open(path, "w") as f:
        for i in range(1, STREAM_LINES + 1):
            f.write("2026-11-30T16:%02d:%02d.%03dZ %-5s worker-%02d request "
                    "%d served in %d ms, %d bytes\n"
                    % (i // 3600 % 60, i // 60 % 60, i % 1000, levels[i % 5],
                       i % 16, i, i % 97, i * 7919 % 65536))


def seq_stream():
    return ("/seq", ["1", str(STREAM_LINES)])


def log_stream():
    return ("/cat", [LOG_FILE])


def curl_stream(port, path, args):
    """One stream read by curl (a Python reader would be the bottleneck);
    returns (seconds, bytes of body)."""
    out = subprocess.run(
        ["curl", "-sS", "-0", "-o", "/dev/null",
         "-w", "%{http_code} %{time_total} %{size_download}",
         "-H", "X-Role: admin", "-H", "Content-Type: application/json",
         "-d", json.dumps({"args": args}),
         "http://127.0.0.1:%d%s" % (port, path)],
        capture_output=True, text=True).stdout.split()
    if not out or out[0] != "200":
        raise SystemExit("bench: port %d: curl got %r" % (port, out))
    return float(out[1]), int(out[2])


def stream(servers, gateway, workload):
    port = PORTS[gateway]
    path, args = workload
    # checked once: every line there, the right end
    body, _, _ = fetch(port, path, args)
    lines = body.count(b'"type":"stdout"')
    if lines != STREAM_LINES or not re.search(
            rb'\{"type":"exit_code","code":0\}\n(id: [0-9a-f]+\n)?\n\Z', body):
        raise SystemExit("bench: %s streamed %d lines" % (gateway, lines))
    times, nbytes = [], 0
    meter = CpuMeter(lambda: servers.roots(gateway))
    meter.start()
    t_end = time.time() + 2
    while len(times) < 3 or (time.time() < t_end and len(times) < 50):
        seconds, size = curl_stream(port, path, args)
        if size != len(body):
            raise SystemExit("bench: %s sent %d bytes, then %d"
                             % (gateway, len(body), size))
        times.append(seconds)
        nbytes += size
    cpu = meter.stop()
    t = statistics.median(times)
    return {"lines_s": STREAM_LINES / t,
            "mb_s": len(body) / t / 1e6,
            "cpu_ms_per_mb": cpu * 1000 / (nbytes / 1e6)}


def started(port):
    lat = []
    for _ in range(STARTED_RUNS):
        _, first, _ = fetch(port, "/seq", SHORT_ARGS)
        lat.append(first * 1000)
    lat.sort()
    return {"p50_ms": lat[len(lat) // 2],
            "p99_ms": lat[int(len(lat) * 0.99) - 1]}


def idle_streams(servers, gateway):
    """Opens N streams of a quiet program; memory per stream of the
    gateway's processes (PSS, so shared pages are not counted N times)."""
    n = IDLE[gateway]
    port = PORTS[gateway]
    before = pss_kib(servers.pids(gateway))
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), 30)
        s.sendall(request("/sleep", [IDLE_SLEEP], 60))
        socks.append(s)
    # counted by the programs running: fcgiwrap sends no event before the
    # program ends (libfcgi buffers the CGI's output)
    deadline = time.time() + 60
    while len(servers.programs(gateway)) < n and time.time() < deadline:
        time.sleep(0.2)
    running = len(servers.programs(gateway))
    if running < n:
        raise SystemExit("bench: %s: %d of %d streams started"
                         % (gateway, running, n))
    time.sleep(1)
    during = pss_kib(servers.pids(gateway))
    for s in socks:
        s.close()
    # the module and Node stop the program when the client goes away
    deadline = time.time() + 3
    while servers.programs(gateway) and time.time() < deadline:
        time.sleep(0.1)
    left = servers.programs(gateway)
    for pid in left:
        kill(pid)
    return {"kib_per_stream": (during - before) / n, "streams": n,
            "left_running": len(left)}


def floor_runs(floor):
    out = subprocess.run([floor, str(SECONDS), "2", "0", "/usr/bin/seq"]
                         + SHORT_ARGS, capture_output=True, text=True,
                         check=True).stdout.split()
    return {"runs_s": int(out[1]) / float(out[3])}


def floor_stream(floor, workload):
    reps = 20
    path, args = workload
    out = subprocess.run([floor, "0", "1", str(reps), PROGRAMS[path]] + args,
                         capture_output=True, text=True,
                         check=True).stdout.split()
    seconds, nbytes, cpu = float(out[3]), int(out[5]), float(out[7])
    return {"lines_s": STREAM_LINES * reps / seconds,
            "mb_s": nbytes / seconds / 1e6,
            "cpu_ms_per_mb": cpu * 1000 / (nbytes / 1e6)}


# --- report -----------------------------------------------------------------

METRICS = [
    # key, workload, metric, unit, higher is better
    ("short.runs_s", "short runs (seq 1 10, 16 clients)", "runs/s", "runs/s",
     True),
    ("short.p50_ms", "short runs (seq 1 10, 16 clients)", "p50", "ms", False),
    ("short.p99_ms", "short runs (seq 1 10, 16 clients)", "p99", "ms", False),
    ("stream.lines_s", "300,000-line stream", "lines/s", "lines/s", True),
    ("stream.mb_s", "300,000-line stream", "MB/s delivered", "MB/s", True),
    ("stream.cpu_ms_per_mb", "300,000-line stream", "CPU per MB", "ms/MB",
     False),
    ("logs.lines_s", "300,000 log lines (~85 B)", "lines/s", "lines/s",
     True),
    ("logs.mb_s", "300,000 log lines (~85 B)", "MB/s delivered", "MB/s",
     True),
    ("logs.cpu_ms_per_mb", "300,000 log lines (~85 B)", "CPU per MB",
     "ms/MB", False),
    ("started.p50_ms", "time to started (300 sequential)", "p50", "ms",
     False),
    ("started.p99_ms", "time to started (300 sequential)", "p99", "ms",
     False),
    ("idle.kib_per_stream", "idle streams", "memory per stream", "KiB",
     False),
]


def fmt(v):
    if v is None:
        return "—"
    if v >= 1000:
        return "{:,.0f}".format(v)
    if v >= 10:
        return "%.1f" % v
    return "%.2f" % v


def ratio(a, b):
    return "%.2f×" % (a / b) if a is not None and b else "—"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    node = subprocess.run(["node", "--version"], capture_output=True,
                          text=True).stdout.strip()
    nginx = subprocess.run([sys.argv[2], "-v"], capture_output=True,
                           text=True).stderr.strip().split("/")[-1]
    load = os.getloadavg()[0]
    return ("%d cores (%s), %.0f GiB, Linux %s; nginx %s (2 workers), "
            "node %s; load average %.2f at the start; run on %s"
            % (os.cpu_count(), cpu, mem, platform.release(), nginx, node,
               load, time.strftime("%Y-%m-%d", time.gmtime())))


def report(results, idle_counts, desc):
    def value(key, gw):
        return results.get(gw, {}).get(key)

    header = ["workload", "metric"] + COLUMNS + ["module+runs / module",
                                                 "module / node+nginx",
                                                 "module / floor"]
    rows = []
    for key, workload, metric, unit, _ in METRICS:
        row = [workload, "%s (%s)" % (metric, unit)]
        row += [fmt(value(key, gw)) for gw in COLUMNS]
        row.append(ratio(value(key, "module+runs"), value(key, "module")))
        row.append(ratio(value(key, "module"), value(key, "node+nginx")))
        row.append(ratio(value(key, "module"), value(key, "floor")))
        rows.append(row)

    md = ["| " + " | ".join(header) + " |",
          "|" + "---|" * len(header)]
    md += ["| " + " | ".join(r) + " |" for r in rows]
    md.append("")
    md.append("Idle streams: %s. Machine: %s." % (
        ", ".join("%s %d" % kv for kv in idle_counts.items()), desc))
    with open(os.path.join(RESULTS, "table.md"), "w") as f:
        f.write("\n".join(md) + "\n")

    widths = [max(len(r[i]) for r in [header] + rows)
              for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    print("\n" + md[-1])

    with open(os.path.join(RESULTS, "bench.csv"), "w") as f:
        f.write("workload,metric,unit,gateway,value\n")
        for key, workload, metric, unit, _ in METRICS:
            for gw in COLUMNS:
                v = value(key, gw)
                if v is not None:
                    f.write('"%s","%s",%s,%s,%.6g\n'
                            % (workload, metric, unit, gw, v))


def chart(results):
    if not shutil.which("gnuplot"):
        log("bench: no gnuplot, no chart")
        return
    panels = [("short.runs_s", "short runs/s (higher is better)"),
              ("stream.lines_s", "seq lines/s (higher is better)"),
              ("logs.lines_s", "log lines/s (higher is better)"),
              ("stream.cpu_ms_per_mb", "CPU ms per MB streamed (lower)"),
              ("started.p99_ms", "p99 ms to started (lower)"),
              ("idle.kib_per_stream", "KiB per idle stream (lower)")]
    script = ['set terminal png size 1200,760 font ",9"',
              'set output "%s"' % os.path.join(RESULTS, "bench.png"),
              "set termoption noenhanced", "set multiplot layout 2,3 title "
              '"ngx_http_cli_gateway_module vs. the alternatives, one run"',
              "set style data histograms", "set style fill solid 0.8",
              "set boxwidth 0.8", "set yrange [0:*]", "unset key",
              "set xtics rotate by -30 nomirror", "set grid ytics"]
    for key, title in panels:
        rows = [(gw, results[gw][key]) for gw in COLUMNS
                if results.get(gw, {}).get(key) is not None]
        script.append('set title "%s"' % title)
        script.append("plot '-' using 2:xtic(1) lc rgb '#3b75af'")
        script += ['"%s" %g' % r for r in rows] + ["e"]
    script.append("unset multiplot")
    subprocess.run(["gnuplot"], input="\n".join(script), text=True,
                   check=True)


# --- main -------------------------------------------------------------------

def reap_orphans():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main():
    global RESULTS, LOG_FILE
    build, nginx, module, floor = sys.argv[1:5]
    RESULTS = os.path.abspath(os.environ.get("BENCH_RESULTS") or
                              os.path.join(build, "bench", "results"))
    # orphans (fcgiwrap's children, programs left behind) become ours to
    # reap rather than init's, which may not reap at all in a container
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    os.makedirs(RESULTS, exist_ok=True)
    LOG_FILE = os.path.join(os.path.abspath(build), "bench", "log-lines.txt")
    os.makedirs(os.path.dirname(LOG_FILE), exist_ok=True)
    write_log_lines(LOG_FILE)

    desc = machine()
    log("bench: " + desc)
    servers = Servers(build, nginx, module)
    servers.start()
    results = {gw: {} for gw in COLUMNS}

    def put(gw, prefix, values):
        log("bench: %s %s: %s" % (gw, prefix, ", ".join(
            "%s %s" % (k, fmt(v) if isinstance(v, float) else v)
            for k, v in values.items())))
        for k, v in values.items():
            results[gw][prefix + "." + k] = v

    try:
        reference = same_bytes(PORTS["module"])
        for gw in GATEWAYS[1:]:
            if same_bytes(PORTS[gw]) != reference:
                log("bench: %s does not send the module's bytes:\n%r\n%r"
                    % (gw, same_bytes(PORTS[gw]), reference))
                raise SystemExit(1)
        log("bench: all gateways send the same SSE bytes")

        # first, while every server is fresh (a warm heap hides allocations)
        for gw in GATEWAYS:
            put(gw, "idle", idle_streams(servers, gw))

        for gw in GATEWAYS:
            r = short_runs(PORTS[gw])
            if r["bad"] or r["errors"]:
                log("bench: %s: %d bad responses %s" % (gw, r["bad"],
                                                      r["errors"]))
            put(gw, "short", r)
        put("floor", "short", floor_runs(floor))

        for gw in GATEWAYS:
            put(gw, "stream", stream(servers, gw, seq_stream()))
        put("floor", "stream", floor_stream(floor, seq_stream()))

        for gw in GATEWAYS:
            put(gw, "logs", stream(servers, gw, log_stream()))
        put("floor", "logs", floor_stream(floor, log_stream()))

        for gw in GATEWAYS:
            put(gw, "started", started(PORTS[gw]))

    finally:
        servers.stop()
        time.sleep(0.5)
        reap_orphans()

    report(results, IDLE, desc)
    chart(results)
    log("bench: wrote %s/{bench.csv,table.md,bench.png}" % RESULTS)


if __name__ == "__main__":
    main()
