#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""Memory check: nginx (one process) under valgrind memcheck serves runs of
every kind (soak.py's workload), an HTTP/2 stream reset with frames
still queued (t/lib/h2-reset.py), and runs kept in a zone (detached,
reattached from the start and after an id, with a gap, cancelled, listed;
t/lib/runs.py), stops gracefully, and valgrind must report
no invalid access and no definite leak in the module's code (nginx's own
ngx_set_environment leaks 8 bytes by design in a single process). Output
blocks are mapped outside the heap, where valgrind does not look: the
module counts them and alerts at exit if any was not given back, so
error.log must have no [alert] or [crit].

usage: t/soak/valgrind.py NGINX_BINARY MODULE_SO [RUNS] [CLIENTS]
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import soak

CONF = """
load_module {module};
master_process off;
daemon off;
error_log logs/error.log notice;
pid logs/nginx.pid;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {root}/body;
    server {{
        listen 127.0.0.1:{port};
        location = /cli {{
            cli_gateway /bin/sh;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_stop_grace 500ms;
            cli_gateway_max_args 8;
        }}
    }}
    cli_gateway_runs_zone zone=runs:1m replay=4k keep=10m node=valgrind;
    server {{
        listen 127.0.0.1:{runs_port};
        location /r {{
            cli_gateway /bin/sh;
            cli_gateway_admin_claim $http_x_role admin;
            cli_gateway_user $http_x_user;
            cli_gateway_runs runs detach=1m;
        }}
    }}
    server {{
        listen 127.0.0.1:{h2_port} http2;
        location = /py {{
            cli_gateway /usr/bin/python3;
            cli_gateway_admin_claim $http_x_role admin;
        }}
    }}
}}
"""
H2_PORT = soak.PORT + 1
RUNS_PORT = soak.PORT + 2
RUNS = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "..", "lib", "runs.py")


def runs(*args):
    url = "http://127.0.0.1:%d/r" % RUNS_PORT
    return subprocess.run(["python3", RUNS, url] + list(args),
                          capture_output=True, text=True, timeout=120).stdout


def exercise_runs():
    """Every path of a run in a zone once; the problems found."""
    problems = []

    def run_id_of(out):
        ids = [l[4:] for l in out.splitlines() if l.startswith("run ")]
        return ids[0] if ids else "none"

    def expect(what, out, *marks):
        if not all(m in out for m in marks):
            problems.append("%s: %r" % (what, out[-300:]))

    expect("a run", runs("post", '{"args":["-c","echo a; echo b >&2"]}'),
           "stdout a", "stderr b", "exit_code 0", "ids ok")
    out = runs("start", '{"args":["-c","sleep 1; seq 1 500; sleep 1"]}')
    run_id = run_id_of(out)
    expect("detached", out, "run ")
    expect("reattached, with a gap", runs("events", run_id),
           "gap ", "exit_code 0", "ids ok")
    expect("after an id", runs("events", run_id, "--last", "59"),
           "gap ", "exit_code 0", "ids ok")
    out = runs("start", '{"args":["-c","exec sleep 60"]}')
    run_id = run_id_of(out)
    expect("cancelled", runs("delete", run_id), "202 ")
    time.sleep(3)
    expect("its log", runs("events", run_id), "error Cancelled",
           "exit_code -1", "ids ok")
    expect("the list", runs("get", "/runs"), "200 [", '"state":"exited"')
    return problems
H2_RESET = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "lib", "h2-reset.py")


def wait_port(port, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def main():
    nginx, module = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    clients = int(sys.argv[4]) if len(sys.argv) > 4 else 8

    root = tempfile.mkdtemp(prefix="cli-gateway-valgrind.")
    os.makedirs(os.path.join(root, "logs"))
    with open(os.path.join(root, "nginx.conf"), "w") as f:
        f.write(CONF.format(module=module, root=root, port=soak.PORT,
                            h2_port=H2_PORT, runs_port=RUNS_PORT))

    vlog = os.path.join(root, "valgrind.log")
    proc = subprocess.Popen(
        ["valgrind", "--tool=memcheck", "--leak-check=full",
         "--show-leak-kinds=definite", "--num-callers=30",
         "--trace-children=no", "--log-file=" + vlog,
         nginx, "-p", root + "/", "-c", root + "/nginx.conf"])

    ok = wait_port(soak.PORT, 60)
    results = []
    h2 = ""
    runs_problems = ["not run"]
    if ok:
        soak.hammer(0, runs, clients, results)
        # an HTTP/2 stream reset while nginx still holds its frames: they
        # are sent later from the run's buffers, which must still be there
        h2 = subprocess.run(["python3", H2_RESET, "127.0.0.1:%d" % H2_PORT,
                             "/py"], capture_output=True, text=True,
                            timeout=120).stdout
        runs_problems = exercise_runs()
        time.sleep(2)
    proc.send_signal(signal.SIGQUIT)  # graceful: exit_process runs
    proc.wait(timeout=120)

    report = open(vlog).read()
    # one record per blank-line separated block of valgrind's log
    records = re.split(r"==\d+== \n", report)
    invalid = [r for r in records
               if re.search(r"Invalid (read|write|free)|uninitialised|"
                            r"Mismatched free|overlap", r)]
    leaks = [r for r in records if "definitely lost in loss record" in r]
    ours = [r for r in leaks if re.search(r"cli_gateway|cligw", r)]
    wrong = [r for r in results if r[1] != r[2]]
    log = open(os.path.join(root, "logs/error.log")).read()
    alerts = [l for l in log.splitlines() if "[alert]" in l or "[crit]" in l]

    print("runs under valgrind: %d, exit codes wrong: %d" % (len(results),
                                                            len(wrong)))
    print("valgrind: %d invalid accesses, %d definite leaks (%d in the "
          "module, %d in nginx itself)" % (len(invalid), len(leaks),
                                           len(ours), len(leaks) - len(ours)))
    h2_ok = h2.count(": True") == 5 and ": False" not in h2
    print("h2 stream reset: %s" % ("ok" if h2_ok else "FAILED"))
    for line in h2.splitlines() if not h2_ok else []:
        print("  h2:", line)
    print("runs in a zone: %s" % ("ok" if not runs_problems else "FAILED"))
    for p in runs_problems:
        print("  runs:", p)
    print("alert/crit lines: %d" % len(alerts))
    for r in (invalid + ours)[:5]:
        print(r)
    for line in alerts[:5]:
        print("  log:", line)

    passed = (ok and results and not wrong and not invalid and not ours
              and not alerts and h2_ok and not runs_problems)
    print("valgrind: %s" % ("PASS" if passed else "FAIL"))
    if passed:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print("report kept in", vlog)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
