# Copyright (C) 2026 Seed 79e7e746 maintainers

package Test::Nginx::Socket;

=pod

This is not upstream Test::Nginx.  It implements a subset of the interface
of Test::Nginx::Socket (openresty/test-nginx) with upstream's semantics, so
that the same t/*.t files run where upstream is not installed (Debian does
not package it).  It is used only when upstream Test::Nginx is not
installed: `make test` puts t/runner on @INC only when
`perl -MTest::Nginx::Socket -e1` fails.  Test::Nginx::Util (beside this
file) holds the settings and nginx's life cycle; this file sends the
requests and checks the answers and the logs.

Supported: the functions exported below; the sections main_config,
http_config, post_main_config, config, server_name, log_level, user_files,
init, post_setup_server_root, request (eval: a string, or an array of
requests, each a string or an array of packets with optional
delay_before), request_eval, raw_request (eval: packets),
raw_request_middle_delay, pipelined_requests, more_headers (eval: one per
request), shutdown, timeout, abort, wait, ignore_response, http09,
error_code, error_code_like, response_headers (incl. "!Name"),
response_headers_like, raw_response_headers_like/_unlike, response_body,
response_body_eval, response_body_like/_unlike, response_body_filters,
response_body_json_sort, charset, write_resp_body_file, error_log,
no_error_log, grep_error_log, grep_error_log_out, access_log,
no_access_log, shutdown_error_log, no_shutdown_error_log, must_die,
suppress_stderr, curl (prints the command), skip_eval, skip_nginx,
skip_nginx2, skip_openssl, todo, no_check_leak (ignored), reload_fails,
server_addr_for_client, error_log_file, ONLY, SKIP, LAST; and the
environment variables TEST_NGINX_BINARY, _LOAD_MODULES, _SERVROOT,
_SERVER_PORT, _PORT, _CLIENT_PORT, _LOG_LEVEL, _MASTER_PROCESS, _TIMEOUT,
_SLEEP, _NO_SHUFFLE, _NO_CLEAN, _USE_HUP, _USE_VALGRIND, _FAST_SHUTDOWN,
_FORCE_RESTART_ON_TEST, _NO_NGINX_MANAGER, _CHECK_ACCUM_ERR_LOG,
_WORKER_USER, _EVENT_TYPE, _RANDOMIZE.  HTTP/2, HTTP/3, the embedded
TCP/UDP servers, systemtap, leak and benchmark modes are not: a test that
needs them stops with a message.

Known differences: under TEST_NGINX_USE_VALGRIND, valgrind's report is
printed when nginx exits and also fails a test when it shows an invalid
access or a definite leak through a loaded module (upstream only prints
it); an nginx that will not start is given up on at once unless its port
is still busy (upstream retries for 30 s before bailing out).

=cut

use strict;
use warnings;

use Test::Base -base;
use Test::Nginx::Util;

use Digest::MD5 ();
use Digest::SHA ();
use Encode ();
use IO::Select ();
use IO::Socket::INET ();
use JSON::PP ();
use List::Util qw(min);
use POSIX qw(EAGAIN WNOHANG);
use Time::HiRes qw(sleep);

our @EXPORT = qw(
    env_to_nginx is_str plan run_tests repeat_each config_preamble
    worker_connections master_process_enabled no_long_string workers
    master_on master_off log_level no_shuffle no_root_location use_hup
    server_name server_addr server_root html_dir server_port
    server_port_for_client timeout no_nginx_manager check_accum_error_log
    add_block_preprocessor bail_out add_test_cleanup_handler
    add_cleanup_handler add_response_body_check
);

our @ResponseBodyChecks;
our $TotalConnectingTimeouts = 0;

my $HaveLongString = eval { require Test::LongString; 1 };

$RunTestHelper = \&run_test_helper;
$CheckErrorLog = \&check_error_log;
$CheckShutdownErrorLog = \&check_shutdown_error_log;

sub add_response_body_check ($) { push @ResponseBodyChecks, shift }

# Failures that upstream adds outside the planned count (timeouts, broken
# chunked bodies, ...) turn off the plan check so that only they show.
sub extra_fail {
    Test::More->builder->no_ending(1);
    fail($_[0]);
}

sub body_is {
    my ($got, $expected, $desc) = @_;
    return is($got, $expected, $desc) if $NoLongString || !$HaveLongString;
    return Test::LongString::is_string($got, $expected, $desc);
}

sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

# ---- building requests -----------------------------------------------------

# "--- more_headers" lines ("# ..." skipped) as header lines; and whether
# they make the request body chunked.
sub parse_more_headers {
    my ($out, $chunked) = ('');
    for my $header (split /\n+/, shift) {
        next if $header =~ /^\s*\#/;
        my ($key, $val) = split /:\s*/, $header, 2;
        ($key, $val) = ($key // '', $val // '');
        $chunked = 1 if lc $key eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# Where a cut at offset $off of the original request falls in the built
# one.  A segment is [length in the original, text in the built request];
# text inserted at a cut goes with the packet before it, as upstream.
sub map_offset {
    my ($segs, $off) = @_;
    my ($pos, $out) = (0, 0);
    for my $seg (@$segs) {
        my ($len, $text) = @$seg;
        return $out + min($off - $pos, length $text) if $pos + $len > $off;
        ($pos, $out) = ($pos + $len, $out + length $text);
    }
    return $out;
}

# "METHOD [URI [VERSION]]\nBODY" becomes a full request as upstream builds
# it: the request line normalised (URI "/" and HTTP/1.1 by default), Host
# and Connection unless given, Content-Length for a body that is not
# chunked nor already measured (such a body is trimmed first), then the
# body.  A request split into packets stays split at the same places.
sub build_request {
    my ($name, $headers, $chunked, $conn, $packets) = @_;
    my $req = join '', map { $_ // '' } @$packets;

    my ($first, $content) = $req =~ /\A([^\n]*\n?)(.*)\z/s;
    bail_out("$name - Request line should be non-empty") if $first eq '';
    my ($ws, $meth, $sp1, $url, $sp2, $ver) = $first =~
        /^(\s*)(\S+)( *)(?:(\S+)( *))?(?:(\S+)( *))?(\s*)$/
        or bail_out("$name - Request line is not valid. Should be 'meth "
                    . "[url [version]]' but got \"$first\".");
    $_ //= '' for $url, $sp2, $ver;

    my $body = $content;
    my $len_header = '';
    if (!$chunked && $body ne '' && $headers !~ /(?:^|\n)Content-Length:/) {
        $body =~ s/^\s+|\s+$//gs;
        $len_header = 'Content-Length: ' . length($body) . "\r\n";
    }

    $headers =~ s/(?<!\r)\n/\r\n/g;
    my $head = '';
    $head .= "Host: $ServerName\r\n" if $headers !~ /(?:^|\n)Host:/i;
    $head .= "Connection: $conn\r\n" if $headers !~ /(?:^|\n)Connection/i;
    $head .= "$headers$len_header\r\n";

    my $line_len = length "$ws$meth$sp1$url$sp2$ver";
    my @segs = ([length $ws, ''], [length $meth, "$meth "],
                [length $sp1, ''],
                [length $url, ($url ne '' ? $url : '/') . ' '],
                [length $sp2, ''],
                [length $ver, ($ver ne '' ? $ver : 'HTTP/1.1') . "\r\n"],
                [length($first) - $line_len, ''], [0, $head],
                [length $content, $body]);
    my $built = join '', map { $_->[1] } @segs;

    my (@out, $orig);
    my $prev = 0;
    for my $i (0 .. $#$packets) {
        $orig += length($packets->[$i] // '');
        my $cut = $i == $#$packets ? length $built : map_offset(\@segs, $orig);
        push @out, substr $built, $prev, $cut - $prev;
        $prev = $cut;
    }
    return \@out;
}

# The block's requests: a list of requests, each a list of packets
# ({ value => bytes, delay_before => seconds }) sent on one connection.
sub get_req_from_block {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $raw = $block->raw_request)) {
        return [[map { { value => $_ } } ref $raw eq 'ARRAY' ? @$raw : $raw]];
    }

    my $request;
    if (defined $block->request_eval) {
        diag "$name - request_eval DEPRECATED. Use request eval instead.";
        $request = eval $block->request_eval;
        warn $@ if $@;
    } else {
        $request = $block->request;
        1 while defined $request && !ref $request
                && $request =~ s/^\s*\#[^\n]+\s+|^\s+//s;
    }

    my $more = $block->more_headers || '';
    my $headers_for = sub {
        my $i = shift;
        return parse_more_headers($more) if ref $more ne 'ARRAY';
        return parse_more_headers($more->[$i]
            // bail_out("--- more_headers lacks data for the ${i}th request"));
    };

    if (defined(my $reqs = $block->pipelined_requests)) {
        bail_out("$name - invalid entries in --- pipelined_requests")
            if ref $reqs ne 'ARRAY';
        my $all = '';
        for my $i (0 .. $#$reqs) {
            my $req = expand_env_in_text($reqs->[$i], $name,
                                         $Test::Nginx::Util::RandPorts);
            $all .= build_request($name, $headers_for->($i),
                        $i == $#$reqs ? 'close' : 'keep-alive', [$req])->[0];
        }
        return [[{ value => $all }]];
    }

    if (!ref $request) {
        my $built = build_request($name, $headers_for->(0), 'close',
                                  [$request]);
        return [[{ value => $built->[0] }]];
    }

    bail_out("$name - invalid ---request : MUST be string or array of "
             . "requests") if ref $request ne 'ARRAY';

    my @list;
    for my $i (0 .. $#$request) {
        my $one = $request->[$i];
        my @packets = map {
            ref $_ eq 'HASH' ? { %$_ } : !ref $_ ? { value => $_ }
                : bail_out("$name - Invalid syntax. $_ should be a string "
                           . "or hash with value.")
        } ref $one eq 'ARRAY' ? @$one
          : !ref $one ? $one
          : bail_out("$name - Invalid syntax. $one should be a string or "
                     . "an array of packets.");
        my $built = build_request($name, $headers_for->($i), 'close',
                                  [map { $_->{value} } @packets]);
        $packets[$_]{value} = $built->[$_] for 0 .. $#packets;
        push @list, \@packets;
    }
    return \@list;
}

sub shell_quote {
    return join ' ', map {
        my $s = $_;
        $s =~ m{^[-\w.:/=@]+$} ? $s : do { $s =~ s/'/'\\''/g; "'$s'" }
    } @_;
}

# --- curl: print a curl command line that sends the (first) request.
sub print_curl_cmd {
    my ($block, $req) = @_;
    my $text = join '', map { $_->{value} } @$req;
    my ($meth, $uri, $ver) = $text =~ m{^\s*(\w+)\s+(\S+)(?:\s+HTTP/(\S+))?\r?\n}
        or return;
    my @args = ('curl', '-i', '-H', 'User-Agent:', '-H', 'Accept:',
                '-H', 'Host:', '-sS');
    push @args, $meth eq 'HEAD' ? '-I' : $meth ne 'GET' ? ('-X', $meth) : ();
    push @args, '-0' if ($ver // '0.9') ne '1.1';

    my ($head, $body) = $text =~ /\A[^\n]*\n(.*?)\r?\n\r?\n(.*)\z/s;
    my @headers = grep { !/^Connection\s*:/i } split /\r\n/, $head // '';
    push @args, map { ('-H', $_) } @headers;
    if (defined $body && $body ne '') {
        push @args, '-H', 'Content-Type: '
            if !grep { /^\s*Content-Type\s*:/i } @headers;
        my $file = html_dir() . '/curl.data.bin';
        open my $out, '>', $file or die "Could not open $file: $!";
        print $out $body;
        close $out;
        push @args, '--data-binary', "\@$file";
    }

    my $timeout = $block->timeout || timeout();
    my $addr = $block->server_addr_for_client // $ServerAddr;
    push @args, '--connect-timeout', $timeout, '--max-time', $timeout,
                "http://$addr:$ServerPortForClient$uri";
    warn '# ', shell_quote(@args), "\n";
}

# ---- the client ------------------------------------------------------------

sub connect_to_nginx {
    my ($block, $timeout) = @_;
    my $name = $block->name;
    my $addr = $block->server_addr_for_client // $ServerAddr;
    my $where = "$addr:$ServerPortForClient";

    # nginx may still be starting (slowly under valgrind): retry with a
    # growing wait, as upstream does.
    for my $try (1 .. 50) {
        my $sock = IO::Socket::INET->new(PeerAddr => $addr,
            PeerPort => $ServerPortForClient, Proto => 'tcp',
            Timeout => $timeout);
        return $sock if $sock;
        my $err = $!;

        my $child = $Test::Nginx::Util::ChildPid;
        if (defined $child && waitpid($child, WNOHANG) != 0) {
            warn "WARNING: Child process $child is already gone.\n";
            warn `tail -n20 $Test::Nginx::Util::ErrLogFile`;
            extra_fail("$name - Can't connect to $where: $err (aborted)\n");
            return;
        }

        my $wait = min(1, (sleep_time() + sleep_time() * $try) * $try / 2);
        warn "$name - Can't connect to $where: $err\n"
             . "\tRetry connecting after $wait sec\n" if $wait >= 0.6;
        sleep $wait;
    }

    my $msg = "$name - Can't connect to $where: $! (aborted)\n";
    bail_out($msg) if ++$TotalConnectingTimeouts >= 3;
    extra_fail($msg);
    return;
}

# Writes the packets in turn (each after its delay) while reading, until
# nginx closes the connection or nothing happens for $timeout seconds (an
# idle timeout, not a total one, as upstream's).  A timeout is a failure
# unless the block says --- abort; either way the bytes read so far are
# the response.
sub send_request {
    my ($packets, $middle_delay, $timeout, $block) = @_;
    my $name = $block->name;

    my $sock = connect_to_nginx($block, $timeout) or return undef;
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my @bits = @$packets;
    my $buf = (shift @bits)->{value};
    my ($off, $resp, $writing) = (0, '', 1);
    my $sel = IO::Select->new($sock);

    while (1) {
        my ($readable, $writable) = IO::Select->select($sel,
            $writing ? $sel : undef, undef, $timeout);

        if (!$readable && !$writable) {
            close $sock;
            if (defined $block->abort) {
                sleep 0.005;
            } else {
                extra_fail("ERROR: client socket timed out - $name\n");
            }
            last;
        }

        if ($readable && @$readable) {
            my $open = 1;
            while (1) {
                my $n = sysread $sock, my $chunk, 16384;
                if (!defined $n) {
                    last if $! == EAGAIN;
                    warn "WARNING: $name - HTTP response read failure: $!";
                }
                if (!$n) {
                    $open = 0;
                    last;
                }
                $resp .= $chunk;
            }
            if (!$open) {
                close $sock;
                last;
            }
        }

        next if !$writing || !$writable || !@$writable;

        while (1) {
            if ($off < length $buf) {
                my $n = syswrite $sock, $buf, length($buf) - $off, $off;
                if (!defined $n) {
                    last if $! == EAGAIN;
                    warn "write failed: $!\n";
                    $resp = "write failed: $!" if $resp eq '';
                    close $sock;
                    return $resp;
                }
                $off += $n;
                next;
            }

            my $next = shift @bits;
            if (!$next) {
                $writing = 0;
                if (defined(my $how = $block->shutdown)) {
                    shutdown $sock, $how eq '' ? 1 : $how;
                }
                last;
            }
            ($buf, $off) = ($next->{value}, 0);
            my $delay = $next->{delay_before} // $middle_delay;
            sleep $delay if $delay;
        }
    }

    return $resp;
}

# ---- responses ---------------------------------------------------------------

sub header_values {
    my ($res, $key) = @_;
    $key =~ tr/_/-/;    # as HTTP::Headers looks them up
    return map { $_->[1] } grep { lc $_->[0] eq lc $key } @{ $res->{headers} };
}

sub header_value {
    my @values = header_values(@_);
    return @values ? join(', ', @values) : undef;
}

# Splits a raw response the way upstream does with HTTP::Response->parse,
# then decodes a chunked body (a malformed or unfinished one is a failure
# and no response) or cuts the body at Content-Length.  Returns the
# response, the raw header block, and the bytes after the body (the next
# pipelined response).
sub parse_response {
    my ($name, $raw, $head_req) = @_;
    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';

    my ($str, $status_line) = ($raw);
    if ($str =~ s/^(.*)\n//) {
        $status_line = $1;
    } else {
        ($status_line, $str) = ($str, '');
    }
    $status_line =~ s/\r\z//;

    my @headers;
    while (1) {
        if ($str =~ s/^([^\s:]+)[ \t]*: ?(.*)\n?//) {
            push @headers, [$1, $2];
        } elsif (@headers && $str =~ s/^([ \t].*)\n?//) {
            $headers[-1][1] .= "\n$1";
        } else {
            $str =~ s/^\r?\n//;
            last;
        }
        $headers[-1][1] =~ s/\r\z//;
    }

    my @fields = $status_line =~ /^\d{3} / ? (undef, split ' ', $status_line, 2)
                                           : split ' ', $status_line, 3;
    my $code = $fields[1];
    undef $code if defined $code && $code !~ /^\d+$/;
    my $res = { code => $code, headers => \@headers, content => $str };

    return ($res, $raw_headers) if $code && ($code == 304 || $code == 101);

    my $left;
    my $enc = header_value($res, 'Transfer-Encoding');
    my $len = header_value($res, 'Content-Length');

    if (defined $enc && $enc eq 'chunked') {
        my @trailers = header_values($res, 'Trailer');
        my $decoded = '';
        while (1) {
            if (!@trailers && $str =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = $1 if $str =~ /\G(.+)/gcs;
                last;
            }
            if (@trailers && $str =~ /\G0[ \t]*\r\n/gc) {
                for my $trailer (@trailers) {
                    next if $str =~ /\G\Q$trailer\E: [^\n]*\r\n/gc;
                    extra_fail("$name - invalid trailer data received "
                               . "(expected $trailer).");
                    return;
                }
                if ($str !~ /\G\r\n/gc) {
                    extra_fail("$name - invalid chunked data received "
                               . "(expected CRLF).");
                    return;
                }
                $left = $1 if $str =~ /\G(.+)/gcs;
                last;
            }

            if ($str =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                if (length($str) - pos($str) < $size) {
                    extra_fail("$name - invalid chunked data received "
                               . "(not enought octets for the data section)");
                    return;
                }
                $decoded .= substr $str, pos($str), $size;
                pos($str) += $size;
                if ($str !~ /\G\r\n/gc) {
                    extra_fail("$name - invalid chunked data received "
                               . "(expected CRLF).");
                    return;
                }
            } elsif ($str =~ /\G(.+)/gcs) {
                extra_fail("$name - invalid chunked body received: $1");
                return;
            } else {
                extra_fail("$name - no last chunk found - $str");
                return;
            }
        }
        $res->{content} = $decoded;

    } elsif (defined $len && $len =~ /^\s*\d+\s*$/) {
        if (length $str < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got " . length($str) . "\n" if !$head_req;
        } elsif (length $str > $len) {
            $left = substr $str, $len;
            $res->{content} = substr $str, 0, $len;
        }
    }

    return ($res, $raw_headers, $left);
}

# ---- checks --------------------------------------------------------------------

# A section that is an array gives one value per request; a block with
# several requests must give arrays.
sub get_indexed_value {
    my ($name, $value, $idx, $need_array) = @_;
    my $is_array = ref $value && ref $value eq 'ARRAY';
    if ($need_array) {
        return $value->[$idx] if $is_array;
        bail_out("$name - You asked for many requests, the expected results "
                 . "should be arrays as well.");
    }
    return $is_array ? $value->[0] : $value;
}

sub check_error_code {
    my ($block, $res, $idx, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->{code}) || '';

    if (defined(my $like = $block->error_code_like)) {
        my $pat = get_indexed_value($name, $like, $idx, $need_array);
        like($got, qr/$pat/sm, "$name - status code ok");
    } elsif (defined(my $code = $block->error_code)) {
        is($got, get_indexed_value($name, $code, $idx, $need_array),
           "$name - status code ok");
    } else {
        is($got, 200, "$name - status code ok");
    }
}

sub check_raw_response_headers {
    my ($block, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;
    for my $kind ('like', 'unlike') {
        my $section = "raw_response_headers_$kind";
        my $spec = $block->$section;
        next if !defined $spec;
        my $pat = get_indexed_value($name, $spec, $idx, $need_array);
        my $check = $kind eq 'like' ? \&like : \&unlike;
        $check->($raw_headers, qr/$pat/s, "$name - raw resp headers $kind");
    }
}

# "Name: value" lines, "!Name" for a header that must be absent; in the
# order written (upstream goes through a hash).
sub parse_headers_spec {
    my (@keys, %vals);
    for my $line (split /\n/, shift) {
        $line =~ s/^\s+|\s+$//g;
        my ($key, $val) = $line =~ s/^!\s*// ? ($line, undef)
                                              : split /\s*:\s*/, $line, 2;
        $key //= '';
        push @keys, $key if !exists $vals{$key};
        $vals{$key} = $val;
    }
    return map { [$_, $vals{$_}] } @keys;
}

sub check_response_headers {
    my ($block, $res, $raw_headers, $idx, $need_array) = @_;
    my $name = $block->name;

    if (defined(my $spec = $block->response_headers)) {
        for (parse_headers_spec(get_indexed_value($name, $spec, $idx,
                                                  $need_array)))
        {
            my ($key, $val) = @$_;
            if (!defined $val) {
                unlike($raw_headers, qr/^\s*\Q$key\E\s*:/ms,
                       "$name - header $key not present in the raw headers");
                next;
            }
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            $val =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            my $got = $res ? header_value($res, $key) : undef;
            is($got // '', $val, "$name - header $key ok");
        }

    } elsif (defined($spec = $block->response_headers_like)) {
        for (parse_headers_spec(get_indexed_value($name, $spec, $idx,
                                                  $need_array)))
        {
            my ($key, $val) = @$_;
            my $got = $res ? header_value($res, $key) : undef;
            $val //= '';
            like($got // '', qr/^$val$/, "$name - header $key like ok");
        }
    }
}

my %BodyFilters = (
    md5_hex => \&Digest::MD5::md5_hex, sha1_hex => \&Digest::SHA::sha1_hex,
    uc => sub { uc shift }, lc => sub { lc shift },
    ucfirst => sub { ucfirst shift }, lcfirst => sub { lcfirst shift },
    length => sub { length shift },
);

# --- response_body_filters: names or code refs applied to the body before
# it is compared; an array of arrays gives one list per request.
sub transform_response_body {
    my ($block, $res, $idx) = @_;
    my $filters = $block->response_body_filters;
    return if !defined $filters || !$res || !defined $res->{content};
    my $name = $block->name;

    if (!ref $filters) {
        $filters =~ s/^\s+|\s+$//gs;
        $filters = [split /\s+/, $filters];
    } elsif (ref $filters ne 'ARRAY') {
        $filters = [$filters];
    }
    if (ref $filters->[0] eq 'ARRAY') {
        $filters = $filters->[$idx] // bail_out("$name - the "
            . "---response_body_filters two-dimensional array unmatch the "
            . "specified request($idx)");
    }

    for my $filter (ref $filters eq 'ARRAY' ? @$filters : $filters) {
        my $code = ref $filter eq 'CODE' ? $filter : $BodyFilters{$filter}
            or bail_out("$name - unknown filter, \"$filter\", specified in "
                        . "the --- response_body_filters section");
        $res->{content} = $code->($res->{content});
    }
}

sub check_response_body {
    my ($block, $res, $idx, $repeated, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->{content} : undef;

    if (defined(my $file = $block->write_resp_body_file) && $res) {
        open my $out, '>', $file
            or bail_out("$name - failed to write to file '$file': $!");
        print $out $content // '';
        close $out;
    }

    # Lines LWP used to add; upstream still strips them.
    if (defined $content) {
        $content =~ s/^TE: deflate,gzip;q=0\.3\r\n//gm;
        $content =~ s/^Connection: TE, close\r\n//gm;
    }

    if (defined $block->response_body || defined $block->response_body_eval) {
        if (defined $block->response_body_json_sort) {
            my $js = JSON::PP->new->canonical(1)->loose(1);
            my $obj;
            $content = $js->encode($obj) . "\n"
                if eval { $obj = $js->decode($content); 1 };
        }

        my $expected;
        if ($block->response_body_eval) {
            diag "$name - response_body_eval is DEPRECATED. Use "
                 . "response_body eval instead.";
            $expected = eval get_indexed_value($name,
                $block->response_body_eval, $idx, $need_array);
            warn $@ if $@;
        } else {
            $expected = get_indexed_value($name, $block->response_body,
                                          $idx, $need_array);
        }

        Encode::from_to($expected, 'UTF-8', $block->charset)
            if $block->charset;

        if (defined $expected && !ref $expected) {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
            $expected = expand_env_in_text($expected, $name,
                                           $Test::Nginx::Util::RandPorts);
        }

        my $which = "(repeated req $repeated, req $idx)";
        if (ref $expected) {
            like($content, $expected, "$name - response_body - like $which");
        } else {
            body_is($content, $expected,
                    "$name - response_body - response is expected $which");
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $type = defined $block->response_body_like ? 'like' : 'unlike';
        my $section = "response_body_$type";
        my $pat = get_indexed_value($name, $block->$section, $idx,
                                    $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        $pat =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
        my $summary = trim($content) // '';
        my $check = $type eq 'like' ? \&like : \&unlike;
        $check->($content, qr/$pat/s,
                 "$name - response_body_$type - response is expected "
                 . "($summary)");
    }

    $_->($block, $res ? $res->{content} : undef, $idx, $repeated, 0)
        for @ResponseBodyChecks;
}

# "--- error_log" and friends: lines of substrings, or (eval) one qr// or
# an array of strings and qr//s.
sub log_patterns {
    my $pats = shift;
    if (!ref $pats) {
        chomp $pats;
        return split /\n+/, $pats;
    }
    return ref $pats eq 'Regexp' ? ($pats) : @$pats;
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# Counted as upstream counts them: a wanted pattern is one test (passing
# at its first matching line); an unwanted one is one test when no line
# matches and one failure per matching line otherwise.
sub check_log {
    my ($name, $file, $spec, $lines, $want, $dry_run, $suffix) = @_;
    my @pats = grep { defined } log_patterns($spec);

    if ($dry_run) {
        SKIP: { skip "$name - tests skipped due to dry_run", scalar @pats }
        return;
    }

    my %hit;
    for my $j (0 .. $#$lines) {
        my $line = $lines->[$j];
        for my $i (0 .. $#pats) {
            next if ($want && $hit{$i}) || !line_matches($line, $pats[$i]);
            if ($want) {
                pass(qq{$name - pattern "$pats[$i]" matches a line in }
                     . "$file$suffix");
            } else {
                Test::More->builder->no_ending(1) if $hit{$i};
                my @more = @$lines[$j + 1 .. min($j + 9, $#$lines - 1)];
                fail(qq{$name - pattern "} . fmt_str($pats[$i])
                     . qq{" should not match any line in $file but matches }
                     . qq{line "} . fmt_str($line) . qq{"$suffix\n}
                     . join '', @more);
            }
            $hit{$i} = 1;
        }
    }

    for my $i (grep { !$hit{$_} } 0 .. $#pats) {
        if ($want) {
            fail(qq{$name - pattern "$pats[$i]" should match a line in }
                 . "$file$suffix");
        } else {
            pass(qq{$name - pattern "} . fmt_str($pats[$i])
                 . qq{" does not match a line in $file$suffix});
        }
    }
}

sub value_contains {
    my ($val, $pat) = @_;
    return $val =~ /\Q$pat\E/ if !ref $val || ref $val eq 'Regexp';
    return ref $val eq 'ARRAY' && grep { value_contains($_, $pat) } @$val;
}

sub check_assertions {
    my ($name, $lines, $re) = @_;
    for my $line (grep { $_ =~ $re } @$lines) {
        (my $text = $line) =~ s/\n\z//;
        extra_fail("$name - $text\n");
    }
}

sub check_error_log {
    my ($block, $res, $dry_run, $repeated, $need_array) = @_;
    my $name = $block->name;
    my $suffix = " (req $repeated)";
    my $lines;

    my $grep_pat = $block->grep_error_log;
    if (!defined $grep_pat && defined $block->grep_error_log_out) {
        bail_out("$name - No --- grep_error_log defined but "
                 . "--- grep_error_log_out is defined");
    }
    $grep_pat = $grep_pat->[$repeated] if ref $grep_pat eq 'ARRAY';

    if (defined $grep_pat) {
        my $expected = $block->grep_error_log_out
            // bail_out("$name - No --- grep_error_log_out defined but "
                        . "--- grep_error_log is defined");
        $expected = expand_env_in_text($expected, $name,
                        $Test::Nginx::Util::RandPorts) if !ref $expected;
        $expected = $expected->[$repeated] if ref $expected eq 'ARRAY';

        $lines ||= error_log_data();
        my $matched = '';
        for my $line (@$lines) {
            my $hit = ref $grep_pat ? $line =~ $grep_pat
                                    : $line =~ /\Q$grep_pat\E/;
            $matched .= "$&\n" if $hit && $& !~ /\n/;
        }

        if (ref $expected eq 'Regexp') {
            like($matched, $expected, "$name - grep_error_log_out$suffix");
        } else {
            body_is($matched, $expected, "$name - grep_error_log_out$suffix");
        }
    }

    # Alerts, crits and emergs are reported unless the block looks for them.
    my %report = map { $_ => 1 } qw(alert crit emerg);
    for my $section (qw(error_log no_error_log)) {
        my $pats = $block->$section;
        next if !defined $pats;
        $lines ||= error_log_data();
        check_log($name, 'error.log', $pats, $lines,
                  $section eq 'error_log', $dry_run, $suffix);
        $report{$_} = 0 for grep { value_contains($pats, "[$_") } keys %report;
    }

    my $level = join '|', grep { $report{$_} } sort keys %report;
    if ($level && !$dry_run) {
        $lines ||= error_log_data();
        warn "WARNING: $name - " . fmt_str($_) . "\n"
            for grep { /\[(?:$level)\]/ } @$lines;
    }

    check_assertions($name, $lines || [], qr/\bAssertion .*?failed\b/);
}

sub check_access_log {
    my ($block, $repeated) = @_;
    my $lines;
    for my $section (qw(access_log no_access_log)) {
        my $pats = $block->$section;
        next if !defined $pats;
        $lines ||= access_log_data();
        check_log($block->name, 'access.log', $pats, $lines,
                  $section eq 'access_log', 0, " (req $repeated)");
    }
}

# Run when the block's nginx has stopped (when the next block starts, or
# at the end): the lines it logged since the block's last check.
sub check_shutdown_error_log {
    my ($block, $dry_run) = @_;
    my $lines;
    for my $section (qw(shutdown_error_log no_shutdown_error_log)) {
        my $pats = $block->$section;
        next if !defined $pats;
        $lines ||= error_log_data();
        check_log($block->name, 'error.log', $pats, $lines,
                  $section eq 'shutdown_error_log', $dry_run, '');
        check_assertions($block->name, $lines, qr/\bAssertion .*? failed\.$/)
            if $section eq 'shutdown_error_log';
    }
}

# ---- one test block ------------------------------------------------------------

sub run_test_helper {
    my ($block, $dry_run, $repeated) = @_;
    my $name = $block->name;

    for my $section (qw(http2 http3 tcp_listen udp_listen stap)) {
        bail_out("$name - --- $section is not supported by the fallback "
                 . "Test::Nginx in t/runner") if defined $block->$section;
    }

    my $reqs = get_req_from_block($block);
    bail_out("$name - request empty") if !@$reqs;
    print_curl_cmd($block, $reqs->[0]) if defined $block->curl;

    my $timeout = parse_time($block->timeout) // timeout();
    my $pipelined = $block->pipelined_requests;
    my $need_array = $pipelined || @$reqs > 1;
    my ($res, $req_idx) = (undef, 0);

    for my $req (@$reqs) {
        my $raw = send_request($req, scalar $block->raw_request_middle_delay,
                               $timeout, $block);
        my $head_req = (join '', map { $_->{value} } @$req) =~ /^\s*HEAD\s+/;

        # Pipelined requests share one connection: one response after the
        # other in the bytes read.
        my $left_to_parse = $pipelined ? @$pipelined : 0;

        while (1) {
            $raw //= '';
            my ($raw_headers, $left);
            if (!defined $block->ignore_response) {
                if (defined $block->http09) {
                    ($res, $raw_headers) = ({ code => 200, headers => [],
                                              content => $raw }, '');
                } else {
                    ($res, $raw_headers, $left)
                        = parse_response($name, $raw, $head_req);
                }
            }

            if ($left_to_parse) {
                $raw = $left;
                $left_to_parse--;
            } elsif (defined $left && $left ne '') {
                $left =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
                warn "WARNING: $name - unexpected extra bytes after last "
                     . "chunk in response: \"$left\"\n";
            }

            if (!defined $block->ignore_response) {
                check_error_code($block, $res, $req_idx, $need_array);
                check_raw_response_headers($block, $raw_headers, $req_idx,
                                           $need_array);
                check_response_headers($block, $res, $raw_headers, $req_idx,
                                       $need_array);
                transform_response_body($block, $res, $req_idx);
                check_response_body($block, $res, $req_idx, $repeated,
                                    $need_array);
            }

            # The log is checked after each request (the lines since the
            # check before), the last time after the loop.
            if ($left_to_parse || $req_idx < $#$reqs) {
                sleep $block->wait if $block->wait;
                check_error_log($block, $res, $dry_run, $repeated, $need_array);
                check_access_log($block, $repeated)
                    if !defined $block->ignore_response;
            }

            $req_idx++;
            last if !$left_to_parse;
        }
    }

    sleep $block->wait if $block->wait;
    check_error_log($block, $res, $dry_run, $repeated, $need_array);
    check_access_log($block, $repeated) if !defined $block->ignore_response;
}

1;
