#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# The configurations in examples/ as they are, with their paths, ports and
# keys replaced by the test's: each passes nginx -t and serves real requests
# (over TLS and HTTP/2 where the example listens so).
# Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

examples=$(cd "$(dirname "$0")/../../examples" && pwd)
demo_cli="$examples/demo-cli"
base=${TEST_NGINX_EXAMPLES_PORT:-1992}
mkdir -p "$root/logs" "$root/tls"

# The certificate the examples' TLS listeners get, made now.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -days 1 -subj /CN=localhost -keyout "$root/tls/test.key" \
    -out "$root/tls/test.crt" 2>/dev/null || { echo "Bail out! openssl"; exit 1; }

# use_example FILE FROM TO ...: $root/nginx.conf is examples/FILE with each
# FROM replaced by TO. A FROM the example lacks is a failure: the test
# follows the example, not a copy of it.
use_example() {
    file="$examples/$1"
    shift
    cp "$file" "$root/nginx.conf"
    set -- "load_module modules/" "load_module $(dirname "$module")/" \
        "events {" "pid $root/nginx.pid;
error_log $root/logs/error.log info;
$( [ "$(id -u)" -eq 0 ] && echo 'user root;' )
events {" \
        "http {" "http {
    client_body_temp_path $root/body;
    proxy_temp_path $root/proxy;
    fastcgi_temp_path $root/fastcgi;
    uwsgi_temp_path $root/uwsgi;
    scgi_temp_path $root/scgi;" "$@"
    while [ $# -gt 1 ]; do
        if ! grep -qF -- "$1" "$root/nginx.conf"; then
            echo "Bail out! $file has no \"$1\""
            exit 1
        fi
        FROM=$1 TO=$2 perl -0pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' \
            "$root/nginx.conf"
        shift 2
    done
    FROM=/var/log/nginx/ TO="$root/logs/" \
        perl -pi -e 's/\Q$ENV{FROM}\E/$ENV{TO}/g' "$root/nginx.conf"
}

configtest() { "$nginx" -t -q -p "$root/" -c "$root/nginx.conf"; }

# run_example PORT SCHEME: start it, wait for the port
run_example() {
    "$nginx" -p "$root/" -c "$root/nginx.conf" || return 1
    for _ in $(seq 50); do
        curl -sk -o /dev/null "$2://127.0.0.1:$1/" && return 0
        sleep 0.1
    done
    return 1
}

stop_example() {
    pid=$(cat "$root/nginx.pid")
    "$nginx" -p "$root/" -c "$root/nginx.conf" -s stop 2>/dev/null
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
}

# the events with the pid left out, one line each
events() { grep '^data: ' | sed 's/"pid":[0-9]*/"pid":N/'; }

# session_events TOKEN CONTEXT SESSION USER: what `demo-cli env` prints
# of the SYSTEMPROMPT_* environment the original gateway sets
session_events() {
    cat <<EOF
data: {"type":"started","pid":N}
data: {"type":"stdout","data":"SYSTEMPROMPT_AUTH_TOKEN=$1\n"}
data: {"type":"stdout","data":"SYSTEMPROMPT_CLI_REMOTE=1\n"}
data: {"type":"stdout","data":"SYSTEMPROMPT_CONTEXT_ID=$2\n"}
data: {"type":"stdout","data":"SYSTEMPROMPT_SESSION_ID=$3\n"}
data: {"type":"stdout","data":"SYSTEMPROMPT_USER_ID=$4\n"}
data: {"type":"exit_code","code":0}
EOF
}

# a JSON error's code and message
error_of() { sed 's/^{"code":"\([^"]*\)","message":"\([^"]*\)".*/\1: \2/'; }

echo "1..21"


# --- systemprompt-edge.conf: auth_request to an auth service, TLS, h2

edge=$base auth=$((base + 1))

# The auth service: X-User-* headers for the two test tokens, else 401.
timeout 120 python3 - "$auth" <<'PY' &
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

USERS = {"Bearer admin-token": ("admin", "u-admin", "s-1"),
         "Bearer user-token": ("user", "u-user", "s-2")}

class Auth(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        user = USERS.get(self.headers.get("Authorization"))
        ok = user and self.path == "/api/v1/auth/verify"
        self.send_response(200 if ok else 401)
        if ok:
            for name, value in zip(("X-User-Type", "X-User-Id",
                                    "X-Session-Id"), user):
                self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Auth).serve_forever()
PY
auth_pid=$!
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$auth/" && break
    sleep 0.1
done

use_example systemprompt-edge.conf \
    "listen  443 ssl http2;" "listen  127.0.0.1:$edge ssl http2;" \
    "server     127.0.0.1:3000;" "server     127.0.0.1:$auth;" \
    "/etc/nginx/tls/api.example.com." "$root/tls/test." \
    "/app/bin/systemprompt" "$demo_cli" \
    "cli_gateway_working_directory  /app;" \
    "cli_gateway_working_directory  $root;"

check "systemprompt-edge.conf passes nginx -t" configtest
run_example "$edge" https

edge_post() {
    curl -sS -N -k --http2 -H 'Content-Type: application/json' \
         -w '\n%{http_code} HTTP/%{http_version}\n' "$@" \
         "https://127.0.0.1:$edge/api/v1/admin/cli"
}

edge_post -H 'Authorization: Bearer admin-token' -H 'x-context-id: ctx-h' \
          -d '{"args":["env"]}' > "$root/out"
check "edge: an admin runs the program over HTTP/2 with TLS" \
      '[ "$(tail -n 1 "$root/out")" = "200 HTTP/2" ]'
check "edge: the original's environment, context id from x-context-id" \
      '[ "$(events < "$root/out")" = "$(session_events admin-token ctx-h s-1 u-admin)" ]'

edge_post -H 'Authorization: Bearer admin-token' -H 'x-context-id: ctx-h' \
          -d '{"args":["env"],"context_id":"ctx-b"}' > "$root/out"
check "edge: the body's context_id comes before the header" \
      'grep -qF "SYSTEMPROMPT_CONTEXT_ID=ctx-b\\n" "$root/out"'

edge_post -H 'Authorization: Bearer user-token' -d '{"args":["env"]}' \
          > "$root/out"
check "edge: a user who is not admin gets 403, nothing runs" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "forbidden: Admin role required for CLI gateway" ] && [ "$(tail -n 1 "$root/out")" = "403 HTTP/2" ]'

edge_post -D "$root/headers" -d '{"args":["env"]}' > "$root/out"
check "edge: no token is the auth service's 401, as JSON" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "unauthorized: Authentication required" ] && grep -qi "^www-authenticate: Bearer" "$root/headers"'

# nginx's log escaping shows a " as \x22
line='"POST /api/v1/admin/cli HTTP/2.0" 200 user=u-admin pid=[1-9][0-9]* exit=0 duration=[0-9]*\.[0-9]\{3\} bytes=[1-9][0-9]* args=\[\\x22env\\x22\]$'
check "edge: the access log names the user, args and exit code" \
      'grep -q -- "$line" "$root/logs/cli-gateway.log"'

stop_example
kill "$auth_pid" 2>/dev/null
wait "$auth_pid" 2>/dev/null


# --- jwt-only.conf: the module verifies an HS256 token itself

jwt=$((base + 2))
secret='an example secret of more than thirty-two bytes'
printf '%s\n' "$secret" > "$root/cli-gateway.secret"

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# sign CLAIMS_JSON [SECRET]: an HS256 token
sign() {
    input="$(printf '%s' '{"alg":"HS256","typ":"JWT"}' | b64url).$(printf '%s' "$1" | b64url)"
    printf '%s.%s' "$input" "$(printf '%s' "$input" \
        | openssl dgst -sha256 -hmac "${2:-$secret}" -binary | b64url)"
}
exp=$(( $(date +%s) + 600 ))
admin=$(sign "{\"sub\":\"u-7\",\"session_id\":\"s-7\",\"user_type\":\"admin\",\"exp\":$exp}")

use_example jwt-only.conf \
    "listen  8443 ssl;" "listen  127.0.0.1:$jwt ssl;" \
    "/etc/nginx/tls/cli.example.com." "$root/tls/test." \
    "/etc/nginx/cli-gateway.secret" "$root/cli-gateway.secret" \
    "/app/bin/systemprompt" "$demo_cli"

check "jwt-only.conf passes nginx -t" configtest
run_example "$jwt" https

jwt_post() {
    curl -sS -N -k -H 'Content-Type: application/json' -D "$root/headers" \
         -w '\n%{http_code}\n' "$@" "https://127.0.0.1:$jwt/api/v1/admin/cli"
}

jwt_post -H "Authorization: Bearer $admin" -H 'x-context-id: ctx-j' \
         -d '{"args":["env"]}' > "$root/out"
check "jwt: an admin token runs the program with its claims in the env" \
      '[ "$(events < "$root/out")" = "$(session_events "$admin" ctx-j s-7 u-7)" ] && [ "$(tail -n 1 "$root/out")" = 200 ]'

jwt_post -d '{"args":["env"]}' > "$root/out"
check "jwt: no token is 401 with WWW-Authenticate: Bearer" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "unauthorized: Missing token" ] && grep -q "^WWW-Authenticate: Bearer" "$root/headers"'

forged=$(sign "{\"sub\":\"u-7\",\"user_type\":\"admin\",\"exp\":$exp}" \
              'not the secret, though just as long as it')
jwt_post -H "Authorization: Bearer $forged" -d '{"args":["env"]}' > "$root/out"
check "jwt: a token signed with another key is 401 invalid_token" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "unauthorized: Invalid token: bad signature" ] && grep -q "^WWW-Authenticate: Bearer error=\"invalid_token\"" "$root/headers"'

user=$(sign "{\"sub\":\"u-8\",\"user_type\":\"user\",\"exp\":$exp}")
jwt_post -H "Authorization: Bearer $user" -d '{"args":["env"]}' > "$root/out"
check "jwt: a token without user_type admin is 403" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "forbidden: Admin role required for CLI gateway" ] && [ "$(tail -n 1 "$root/out")" = 403 ]'

stop_example


# --- tool-gateway.conf: apt-cache for the ops team, behind basic auth

tool=$((base + 3))
{
    printf 'alice:%s\n' "$(openssl passwd -apr1 alice-pw)"
    printf 'carol:%s\n' "$(openssl passwd -apr1 carol-pw)"
} > "$root/ops.htpasswd"

use_example tool-gateway.conf \
    "listen  127.0.0.1:9000;" "listen  127.0.0.1:$tool;" \
    "/etc/nginx/ops.htpasswd" "$root/ops.htpasswd"

check "tool-gateway.conf passes nginx -t" configtest
run_example "$tool" http

tool_post() {
    curl -sS -N -H 'Content-Type: application/json' -w '\n%{http_code}\n' \
         "$@" "http://127.0.0.1:$tool/tools/apt-cache"
}

tool_post -u alice:alice-pw -d '{"args":["policy","nginx"]}' > "$root/out"
check "tool: an allowed subcommand streams the tool's answer" \
      '[ "$(events < "$root/out" | sed -n "2p")" = "data: {\"type\":\"stdout\",\"data\":\"nginx:\\n\"}" ] && grep -q "Installed: " "$root/out"'
check "tool: and ends with the tool's exit code" \
      '[ "$(events < "$root/out" | tail -n 1)" = "data: {\"type\":\"exit_code\",\"code\":0}" ]'

tool_post -u alice:alice-pw -d '{"args":["gencaches"]}' > "$root/out"
check "tool: a subcommand no rule allows is 403, nothing runs" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "forbidden: Command not allowed by any cli_gateway_allow rule" ] && [ "$(tail -n 1 "$root/out")" = 403 ]'

tool_post -u carol:carol-pw -d '{"args":["policy","nginx"]}' > "$root/out"
check "tool: a user the gateway does not name is 403" \
      '[ "$(head -n 1 "$root/out" | error_of)" = "forbidden: Admin role required for CLI gateway" ]'

tool_post -d '{"args":["policy","nginx"]}' > "$root/out"
check "tool: no credentials is basic auth's 401" \
      '[ "$(tail -n 1 "$root/out")" = 401 ]'

tool_post -u alice:alice-pw \
    -d '{"args":["show","1","2","3","4","5","6","7","8","9","10","11","12","13","14","15","16"]}' \
    > "$root/out"
check "tool: more args than cli_gateway_max_args is 422" \
      '[ "$(head -n 1 "$root/out" | error_of | cut -d: -f1)" = validation_error ] && [ "$(tail -n 1 "$root/out")" = 422 ]'

line=' alice \[.*\] "POST /tools/apt-cache HTTP/1.1" 200 args=\[\\x22policy\\x22,\\x22nginx\\x22\] pid=[1-9][0-9]* exit=0 duration=[0-9]*\.[0-9]\{3\} bytes=[1-9][0-9]*$'
check "tool: the access log has the user, args, pid, exit and bytes" \
      'grep -q -- "$line" "$root/logs/ops-tools.log"'

check "no example logged an alert or a crash" \
      '[ -s "$root/logs/error.log" ] && ! grep -E "\[(alert|crit|emerg)\]" "$root/logs/error.log"'

stop_example
