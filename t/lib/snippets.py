#!/usr/bin/env python3
# Copyright (C) 2026 Seed 79e7e746 maintainers

"""Every ```nginx block of README.md and docs/*.md, run as an operator
would paste it. Prints TAP; run by t/scripts/snippets.sh.

The fence's second word says where the block goes: none (a whole
nginx.conf), http, server, location (the gateway's), or "none" for a block
that is not a configuration. Each block is wrapped accordingly, the paths
a reader would replace are replaced by the test's (load_module, the
program of cli_gateway, auth_basic_user_file, cli_gateway_jwt_key, alias,
listen, proxy_pass), and nginx -t must pass. A block that defines a
gateway is then started: a request without credentials must get 401 or
403, and one with the credentials the block asks for (a user of its
password file, a token of the stand-in auth service, a token signed with
its key) must run to exit_code 0.

usage: snippets.py NGINX MODULE FILE...
env: TEST_NGINX_SNIPPETS_PORT (default 1980; the stand-in auth service
takes the next one)
"""

import base64
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

NGINX, MODULE = sys.argv[1], sys.argv[2]
FILES = sys.argv[3:]
PORT = int(os.environ.get("TEST_NGINX_SNIPPETS_PORT", "1980"))
AUTH_PORT = PORT + 1
PASSWORD = "ops-secret"
AUTH_TOKEN = "admin-token"
SECRET = b"snippet-test-secret-of-more-than-32-bytes"
CONTEXTS = ("main", "http", "server", "location")

FENCE = re.compile(r"^```nginx(?:[ \t]+(\w+))?[ \t]*$")

n = 0


def tap(ok, name, why=""):
    global n
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not ok and why:
        for line in why.rstrip().splitlines()[:40]:
            print("#   " + line)
    sys.stdout.flush()


def blocks(path):
    """(line number, context, text) of each ```nginx block."""
    out, cur = [], None
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if cur is None:
                m = FENCE.match(line.rstrip("\n"))
                if m:
                    cur = (i, m.group(1) or "main", [])
            elif line.rstrip() == "```":
                out.append((cur[0], cur[1], "".join(cur[2])))
                cur = None
            else:
                cur[2].append(line)
    return out


# --- what the block points at, made in the test's directory

def htpasswd(path):
    hashed = subprocess.run(["openssl", "passwd", "-apr1", PASSWORD],
                            capture_output=True, text=True,
                            check=True).stdout.strip()
    with open(path, "w") as f:
        f.write("ops:%s\n" % hashed)
    os.chmod(path, 0o644)


def substitute(text, tmp):
    ports = iter(range(PORT, PORT + 1))

    def listen(m):
        try:
            return "%slisten 127.0.0.1:%d;" % (m.group(1), next(ports))
        except StopIteration:
            raise ValueError("more than one listen: not supported")

    text = re.sub(r"(?m)^(\s*)load_module\s+\S+;", r"\1load_module %s;"
                  % MODULE, text)
    text = re.sub(r"(?m)^(\s*cli_gateway\s+)\S+;", r"\1/bin/echo;", text)
    text = re.sub(r"(?m)^(\s*)listen\s+[^;]*;", listen, text)
    # a server without listen takes port 80: the test's port instead
    text = re.sub(r"(?m)^(\s*)(server\s*\{[^\n]*\n)(?![\s\S]*^\s*listen\s)",
                  lambda m: "%s%s%s    listen 127.0.0.1:%d;\n"
                  % (m.group(1), m.group(2), m.group(1), PORT), text,
                  count=1)
    text = re.sub(r"(?m)^(\s*proxy_pass\s+)https?://[^/;]+",
                  r"\g<1>http://127.0.0.1:%d" % AUTH_PORT, text)

    def user_file(m):
        htpasswd(os.path.join(tmp, "htpasswd"))
        return "%s%s/htpasswd;" % (m.group(1), tmp)
    text = re.sub(r"(?m)^(\s*auth_basic_user_file\s+)\S+;", user_file, text)

    def jwt_key(m):
        if m.group(2) != "HS256":
            raise ValueError("no test key for %s" % m.group(2))
        with open(os.path.join(tmp, "secret"), "wb") as f:
            f.write(SECRET)
        os.chmod(os.path.join(tmp, "secret"), 0o644)
        return "%s%s %s/secret;" % (m.group(1), m.group(2), tmp)
    text = re.sub(r"(?m)^(\s*cli_gateway_jwt_key\s+)(\S+)\s+\S+;", jwt_key,
                  text)

    def alias(m):
        os.makedirs(os.path.join(tmp, "alias"), exist_ok=True)
        return "%s%s/alias/;" % (m.group(1), tmp)
    text = re.sub(r"(?m)^(\s*alias\s+)\S+;", alias, text)
    return text


def indent(text, by):
    return "".join(by + line if line.strip() else line
                   for line in text.splitlines(True))


def wrap(context, text, tmp):
    """A whole nginx.conf around the block."""
    temp = "".join("    %s_temp_path %s/%s;\n" % (k, tmp, k) for k in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    temp += "    access_log %s/access.log;\n" % tmp
    top = "pid %s/nginx.pid;\nerror_log %s/error.log info;\n" % (tmp, tmp)
    if context == "main":
        if "load_module" not in text:
            text = "load_module %s;\n" % MODULE + text
        text, found = re.subn(r"(?m)^(\s*http\s*\{[^\n]*\n)",
                              lambda m: m.group(1) + temp, text, count=1)
        return top + text
    if context == "http":
        body = text
    elif context == "server":
        body = "server {\n    listen 127.0.0.1:%d;\n\n%s}\n" % (
            PORT, indent(text, "    "))
    else:
        body = ("server {\n    listen 127.0.0.1:%d;\n\n"
                "    location = /api/v1/admin/cli {\n%s    }\n}\n"
                % (PORT, indent(text, "        ")))
    return ("load_module %s;\n%sevents {}\n\nhttp {\n%s\n%s}\n"
            % (MODULE, top, temp, indent(body, "    ")))


# --- the requests

def gateway_path(text, context):
    if context == "location":
        return "/api/v1/admin/cli"
    at = re.search(r"(?m)^\s*cli_gateway\s", text).start()
    locations = [m for m in re.finditer(r"location\s+(?:=\s*)?(\S+)\s*\{",
                                        text) if m.start() < at]
    return locations[-1].group(1) if locations else None


def jwt():
    def b64(b):
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": "u-1", "session_id": "s-1",
                             "user_type": "admin",
                             "exp": int(time.time()) + 300}).encode())
    sig = hmac.new(SECRET, ("%s.%s" % (head, claims)).encode(),
                   hashlib.sha256).digest()
    return "%s.%s.%s" % (head, claims, b64(sig))


def credentials(text):
    if re.search(r"(?m)^\s*auth_basic_user_file\s", text):
        return "Basic " + base64.b64encode(
            ("ops:" + PASSWORD).encode()).decode(), "basic auth"
    if re.search(r"(?m)^\s*cli_gateway_jwt\s", text):
        return "Bearer " + jwt(), "a signed token"
    if re.search(r"(?m)^\s*auth_request\s", text):
        return "Bearer " + AUTH_TOKEN, "the auth service's token"
    return None, None


def args_for(text):
    m = re.search(r"(?m)^\s*cli_gateway_allow\s+([^;]*);", text)
    return m.group(1).split() if m else ["hello"]


def post(path, args, authorization=None):
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
    c.request("POST", path, json.dumps({"args": args}), headers)
    r = c.getresponse()
    body = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, r.getheader("Content-Type", ""), body


class Auth(http.server.BaseHTTPRequestHandler):
    """The stand-in auth service of auth_request: one admin token."""

    def do_GET(self):
        if self.headers.get("Authorization") == "Bearer " + AUTH_TOKEN:
            self.send_response(204)
            self.send_header("X-User-Type", "admin")
            self.send_header("X-User-Id", "u-1")
        else:
            self.send_response(401)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *a):
        pass


def run_gateway(name, text, context, tmp):
    path = gateway_path(text, context)
    conf = os.path.join(tmp, "nginx.conf")
    start = subprocess.run([NGINX, "-p", tmp + "/", "-c", conf],
                           capture_output=True, text=True)
    if start.returncode != 0:
        tap(False, "%s: nginx starts" % name, start.stderr)
        return
    try:
        for _ in range(50):
            try:
                post(path, [])
                break
            except OSError:
                time.sleep(0.1)
        gateway_requests(name, text, path, tmp)
    except (OSError, http.client.HTTPException) as e:
        tap(False, "%s: %s answers" % (name, path), str(e) + error_log(tmp))
    finally:
        subprocess.run([NGINX, "-p", tmp + "/", "-c", conf, "-s", "stop"],
                       capture_output=True)
        for _ in range(50):
            if not os.path.exists(os.path.join(tmp, "nginx.pid")):
                break
            time.sleep(0.1)


def gateway_requests(name, text, path, tmp):
    args = args_for(text)
    status, _, body = post(path, args)
    tap(status in (401, 403),
        "%s: without credentials, %s answers 401 or 403" % (name, path),
        "got %d\n%s" % (status, body + error_log(tmp)))
    auth, what = credentials(text)
    if auth is None:
        print("# %s: no credentials the test can make" % name)
        return
    status, ctype, body = post(path, args, auth)
    ok = (status == 200 and ctype.startswith("text/event-stream")
          and '"type":"exit_code","code":0' in body)
    tap(ok, "%s: with %s, %s runs to its exit_code" % (name, what, path),
        "got %d %s\n%s" % (status, ctype, body + error_log(tmp)))


def error_log(tmp):
    try:
        with open(os.path.join(tmp, "error.log")) as f:
            lines = [l for l in f if "[info]" not in l and "[notice]" not in l]
        return "".join(lines[-5:])
    except OSError:
        return ""


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", AUTH_PORT), Auth)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    for path in FILES:
        for line, context, text in blocks(path):
            name = "%s:%d" % (path, line)
            if context == "none":
                continue
            if context not in CONTEXTS:
                tap(False, "%s: a known context" % name,
                    "```nginx %s: use one of %s or none"
                    % (context, ", ".join(CONTEXTS)))
                continue
            tmp = tempfile.mkdtemp(prefix="cli-gateway-snippet.")
            os.chmod(tmp, 0o755)      # the workers read files in it
            try:
                try:
                    conf = wrap(context, substitute(text, tmp), tmp)
                except ValueError as e:
                    tap(False, "%s: nginx -t" % name, str(e))
                    continue
                with open(os.path.join(tmp, "nginx.conf"), "w") as f:
                    f.write(conf)
                t = subprocess.run([NGINX, "-t", "-p", tmp + "/", "-c",
                                    os.path.join(tmp, "nginx.conf")],
                                   capture_output=True, text=True)
                tap(t.returncode == 0, "%s: nginx -t (%s)" % (name, context),
                    t.stderr + "\n--- as tested:\n" + conf)
                if t.returncode == 0 and \
                        re.search(r"(?m)^\s*cli_gateway\s", text):
                    run_gateway(name, text, context, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    server.shutdown()
    print("1..%d" % n)


if __name__ == "__main__":
    main()
