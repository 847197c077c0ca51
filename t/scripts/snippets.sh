#!/bin/sh
# Copyright (C) 2026 Seed 79e7e746 maintainers

# Every ```nginx block of the README and docs/ passes nginx -t as an
# operator would paste it, and a gateway it defines answers requests
# (t/lib/snippets.py; the conventions are in docs/testing.md).
# Prints TAP; run by `make test` through prove --exec sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
exec python3 t/lib/snippets.py "${TEST_NGINX_BINARY:-/usr/sbin/nginx}" \
    "${TEST_NGINX_LOAD_MODULES:?set TEST_NGINX_LOAD_MODULES}" \
    README.md docs/*.md
