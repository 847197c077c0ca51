# Copyright (C) 2026 Seed 79e7e746 maintainers

package CliGateway;

# Shared by the t/*.t suites: a `--- sse` section that lists the expected
# events one per line and becomes an exact, anchored response_body_like.
#
#   started               event with any pid
#   stdout TEXT           {"type":"stdout","data":"TEXT\n"}; TEXT as on the
#   stderr TEXT           wire, i.e. already JSON-escaped
#   error TEXT            {"type":"error","message":"TEXT"}
#   exit_code N           {"type":"exit_code","code":N}
#   keepalive             the comment frame ":\n\n"
#   ...                   any number of events (or keep-alives)
#
# In TEXT, \xHH stands for one raw byte (JSON never has "\x", so it is
# unambiguous), for the UTF-8 on the wire.
#
# A `--- json_error` section is the error body of SPEC §2, exactly: its
# lines are the code, the message ("..." for any), then one line per
# validation error, "FIELD CODE"; the timestamp and trace_id may vary.
#
# Blocks without a --- config get the default gateway location below, and
# blocks without --- more_headers post JSON as an admin.

use strict;
use warnings;

use Test::Nginx::Socket ();

our @EXPORT_OK = qw(sse_pattern json_error_pattern);
use Exporter 'import';

sub event ($) {
    my $json = shift;
    return 'event: cli\ndata: ' . $json . '\n\n';
}

sub text ($) {
    my $text = shift;
    my $re = '';

    for my $part (split /(\\x[0-9a-fA-F]{2})/, $text) {
        $re .= $part =~ /^\\x([0-9a-fA-F]{2})$/ ? sprintf('\\x%s', $1)
                                                 : quotemeta($part);
    }

    return $re;
}

sub sse_pattern {
    my $spec = shift;
    my $re = '\A';

    for my $line (split /\n/, $spec) {
        next if $line =~ /^\s*$/;

        if ($line eq 'started') {
            $re .= event('\{"type":"started","pid":[1-9][0-9]*\}');

        } elsif ($line =~ /^(stdout|stderr) ?(.*)$/s) {
            $re .= event('\{"type":"' . $1 . '","data":"' . text($2)
                         . '\\\\n"\}');

        } elsif ($line =~ /^error (.*)$/s) {
            $re .= event('\{"type":"error","message":"' . text($1)
                         . '"\}');

        } elsif ($line =~ /^exit_code (-?\d+)$/) {
            $re .= event('\{"type":"exit_code","code":' . $1 . '\}');

        } elsif ($line eq 'keepalive') {
            $re .= ':\n\n';

        } elsif ($line eq '...') {
            $re .= '(?:event: cli\ndata: [^\n]*\n\n|:\n\n)*?';

        } else {
            die "unknown --- sse line: $line\n";
        }
    }

    return $re . '\z';
}

sub json_string ($) {
    my $s = shift;
    return $s eq '...' ? '"[^"]*"' : '"' . quotemeta($s) . '"';
}

sub json_error_pattern {
    my ($code, $message, @fields) = split /\n/, shift;

    my $errors = join ',', map {
        my ($field, $kind) = split / /, $_;
        '\{"field":' . json_string($field) . ',"message":"[^"]*","code":'
        . json_string($kind) . '\}'
    } @fields;

    return '\A\{"code":' . json_string($code) . ',"message":'
           . json_string($message) . ',"details":null,"error_key":null,'
           . '"path":"/[^"]*","validation_errors":\[' . $errors . '\],'
           . '"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",'
           . '"trace_id":"[0-9a-f]{32}"\}\z';
}

# The request line and body that run SCRIPT with sh -c.
sub sh ($) {
    require JSON::PP;
    return "POST /cli\n" . JSON::PP::encode_json({ args => ["-c", shift] });
}

# awk that reads "PID STAT" lines of the worker's children and prints
# "zombies N". The list must hold the running shell itself (one of those
# children): else it prints "not seen", as an empty list observed nothing.
sub count_zombies () {
    return q{awk -v me=$$ '$1 == me { seen = 1 } $2 ~ /^Z/ { z++ }}
         . q{ END { print seen ? "zombies " z + 0 : "not seen" }'};
}

# sh for a driver run that holds runs of /cli open (t/006-limits.t):
#   hold [USER]  a run of USER (header X-User; none when USER is empty) that
#                prints its worker's pid, then sleeps 39.71 s; sets $got to
#                that pid once the run started, else to the refusal (status,
#                Retry-After, code, message); $n is the run's number
#   let_go N     run N's client goes away, so its program is stopped (a
#                refused one is gone already)
#   is_run V     "run" for a pid, else V
# The runs still held are let go when the driver exits.
our $hold_sh = <<'SH';
dir=$(mktemp -d)
trap 'for p in "$dir"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$dir"' EXIT
n=0
hold() {
    n=$((n + 1))
    if [ -n "$1" ]; then user="X-User: $1"; else user="X-No-User: 1"; fi
    : > "$dir/$n"
    curl -sS -N -D "$dir/$n.h" -H 'X-Role: admin' -H "$user" \
         -H 'Content-Type: application/json' \
         -d '{"args":["-c","echo $PPID; exec sleep 39.71"]}' \
         "http://127.0.0.1:$PORT/cli" > "$dir/$n" 2>/dev/null &
    echo $! > "$dir/$n.pid"
    for _ in $(seq 200); do
        got=$(sed -n 's/^data: {"type":"stdout","data":"\([0-9]*\)\\n"}$/\1/p' "$dir/$n")
        [ -n "$got" ] && return
        if grep -q '"code":"' "$dir/$n"; then
            wait "$(cat "$dir/$n.pid")"
            rm "$dir/$n.pid"
            got=$(tr -d '\r' < "$dir/$n.h" \
                  | grep -oE '^HTTP/1.1 [0-9]+|^Retry-After: .*'; \
                  grep -oE '"(code|message)":"[^"]*"' "$dir/$n")
            got=$(echo $got)
            return
        fi
        sleep 0.05
    done
    got="no answer"
}
let_go() {
    [ -f "$dir/$1.pid" ] && kill "$(cat "$dir/$1.pid")" 2>/dev/null
    rm -f "$dir/$1.pid"
}
is_run() { case $1 in ''|*[!0-9]*) echo "$1" ;; *) echo run ;; esac; }
SH

# sh for a driver run that reads the metrics at /metrics (t/013-status.t):
#   metrics         the Prometheus text, now
#   run BODY [PATH [CURL OPTION...]]  posts BODY to PATH (/cli) as an admin
#                   and adds the SSE bytes it got to $sse
#   ask CURL ARG... a request whose answer is not looked at
#   changes BEFORE AFTER  the series that changed between two texts, with
#                   how much ("+N"), the gauges as they are, and whether
#                   the events' bytes grew by $sse
our $metrics_sh = <<'SH';
sse=0
metrics() { curl -sS "http://127.0.0.1:$PORT/metrics"; }
run() {
    body=$1 path=${2:-/cli}
    shift; [ $# -gt 0 ] && shift
    bytes=$(curl -s -N -H 'X-Role: admin' -H 'Content-Type: application/json' \
                 "$@" -d "$body" "http://127.0.0.1:$PORT$path" | wc -c)
    sse=$((sse + bytes))
}
ask() { curl -sS -o /dev/null "$@"; }
changes() {
    printf '%s\n--\n%s\n' "$1" "$2" | awk -v sse="$sse" '
        /^#/ { next }
        $0 == "--" { after = 1; next }
        !after { was[$1] = $2; next }
        $1 ~ /_running$|_detached$/ { print $1, $2; next }
        $1 == "cli_gateway_events_bytes_total" {
            d = $2 - was[$1]
            print $1, (d == sse ? "+ the SSE bytes the clients got" \
                                : "+" d ", the clients got " sse)
            next
        }
        $2 != was[$1] { print $1, "+" ($2 - was[$1]) }'
}
SH

our $default_config = <<'CONF';
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
CONF

Test::Nginx::Socket::add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->config) {
        $block->set_value('config', $default_config);
    }

    if (!defined $block->more_headers) {
        $block->set_value('more_headers',
                          "X-Role: admin\nContent-Type: application/json");
    }

    if (defined $block->json_error) {
        $block->set_value('response_body_like',
                          json_error_pattern($block->json_error));
    }

    if (defined $block->sse) {
        $block->set_value('response_body_like', sse_pattern($block->sse));
    }
});

1;
