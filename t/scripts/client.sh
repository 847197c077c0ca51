#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# tools/cli-gateway-client end to end: streams, exit codes, errors.
# Prints TAP; run by `make test` through prove --exec sh.
set -u
. "$(dirname "$0")/common.inc"

write_conf "${TEST_NGINX_CLIENT_PORT:-1988}" "" \
           '$http_authorization "Bearer test-admin-token"'
start

client="$(dirname "$0")/../../tools/cli-gateway-client"
export CLI_GATEWAY_URL="http://127.0.0.1:$port/cli"

export CLI_GATEWAY_TOKEN=test-admin-token
run() { python3 "$client" "$@"; }

echo "1..12"

run -- -c 'echo out; echo err >&2; exit 3' > "$root/out" 2> "$root/err"
code=$?
check "stdout events go to stdout" '[ "$(cat "$root/out")" = out ]'
check "stderr events go to stderr" '[ "$(cat "$root/err")" = err ]'
check "the exit status is the program's" '[ "$code" -eq 3 ]'

run -- -c 'printf "no newline"' > "$root/out"
check "data is written as it is" '[ "$(cat "$root/out")" = "no newline" ]'

run --timeout 0 -- -c 'sleep 5' 2> "$root/err"
code=$?
check "a timeout exits 124 and says so" \
      '[ "$code" -eq 124 ] && grep -q "Timeout after 0s" "$root/err"'

run -- -c 'kill -9 $$'
code=$?
check "a program ended by a signal exits 255" '[ "$code" -eq 255 ]'

CLI_GATEWAY_TOKEN=not-admin run -- -c 'true' 2> "$root/err"
code=$?
check "a refusal exits 1 with the gateway's message" \
      '[ "$code" -eq 1 ] && grep -q "HTTP 403: Admin role required" "$root/err"'

CLI_GATEWAY_URL=http://127.0.0.1:1/cli run -- -c true 2>/dev/null
code=$?
check "an unreachable gateway exits 69" '[ "$code" -eq 69 ]'

# a gateway behind basic auth, the admin claim from $remote_user
printf 'ops:%s\n' "$(openssl passwd -apr1 ops-secret)" > "$root/htpasswd"
write_conf "$port" "auth_basic ops; auth_basic_user_file $root/htpasswd;" \
           '$remote_user ops'
"$nginx" -p "$root/" -c "$root/nginx.conf" -s reload 2> /dev/null
for _ in $(seq 50); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
         "http://127.0.0.1:$port/cli")" = 401 ] && break
    sleep 0.1
done
unset CLI_GATEWAY_TOKEN

run --user ops:ops-secret -- -c 'echo basic' > "$root/out"
code=$?
check "--user sends basic authentication" \
      '[ "$code" -eq 0 ] && [ "$(cat "$root/out")" = basic ]'

CLI_GATEWAY_URL="http://ops:ops-secret@127.0.0.1:$port/cli" \
    run -- -c 'echo url' > "$root/out"
check "so does the URL's user:password" '[ "$(cat "$root/out")" = url ]'

CLI_GATEWAY_USER=ops:ops-secret run -- -c 'echo env' > "$root/out"
check "so does CLI_GATEWAY_USER" '[ "$(cat "$root/out")" = env ]'

run --user ops:wrong -- -c true 2> "$root/err"
code=$?
check "nginx's HTML page is told by its title, in one line" \
      '[ "$code" -eq 1 ] && [ "$(cat "$root/err")" = "cli-gateway-client: HTTP 401: 401 Authorization Required" ]'
