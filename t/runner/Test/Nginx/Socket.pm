package Test::Nginx::Socket;

=pod

This file implements a subset of the interface of Test::Nginx::Socket
(openresty/test-nginx): the functions and sections that this project's
t/*.t suites use, with upstream's semantics. Debian does not package
Test::Nginx, so `make test` puts t/runner on @INC only when upstream
Test::Nginx is not installed; where it is, the same files run under it.

Functions: run_tests, no_shuffle, repeat_each, master_on, master_off,
workers, worker_connections, log_level, no_long_string, no_root_location,
add_block_preprocessor, env_to_nginx, plus Test::Base's (plan, blocks, ...).
Sections: main_config, http_config, config, request, more_headers,
error_code, response_headers, raw_response_headers_like, response_body,
response_body_like, ignore_response, error_log, no_error_log, timeout,
abort, wait, log_level, must_die; ONLY, SKIP and LAST (Test::Base's own).
Environment: TEST_NGINX_BINARY, TEST_NGINX_SERVROOT, TEST_NGINX_LOAD_MODULES,
TEST_NGINX_SERVER_PORT (or TEST_NGINX_PORT), TEST_NGINX_TIMEOUT,
TEST_NGINX_LOG_LEVEL, TEST_NGINX_MASTER_PROCESS, TEST_NGINX_SLEEP,
TEST_NGINX_NO_SHUFFLE; $TEST_NGINX_* variables are expanded in the
configuration sections.

=cut

use strict;
use warnings;

# Lower-case -base: inherit Test::Base's import (so `use Test::Nginx::Socket
# 'no_plan'` plans and exports Test::More's functions) without Spiffy's
# source filter, which -Base would apply to this file.
use Test::Base -base;

use File::Path qw(remove_tree);
use File::Spec ();
use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(EAGAIN EINTR EWOULDBLOCK);
use Scalar::Util qw(looks_like_number);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(run_tests no_shuffle repeat_each master_on master_off
                 workers worker_connections log_level no_long_string
                 no_root_location add_block_preprocessor env_to_nginx);

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                  || 1984;
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcess = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $NoShuffle = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $Sleep = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $Workers = 1;
our $WorkerConnections = 64;
our $RepeatEach = 1;
our $NoRootLocation = 0;
our @EnvToNginx;
our @BlockPreprocessors;

our $ServRoot = $ENV{TEST_NGINX_SERVROOT}
                || File::Spec->rel2abs('t/servroot');
our $LogDir = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $PidFile = "$LogDir/nginx.pid";
our $ConfFile = "$ServRoot/conf/nginx.conf";
our $HtmlDir = "$ServRoot/html";

$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

# Section values are read in scalar context: a section no block has is
# an empty list in list context.

# Offset in error.log up to which earlier checks have already looked.
my $ErrLogPos = 0;

sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () {}    # we always compare with plain is()
sub no_root_location () { $NoRootLocation = 1 }
sub master_on () { $MasterProcess = 'on' }
sub master_off () { $MasterProcess = 'off' }
sub workers (@) { $Workers = shift if @_; $Workers }
sub worker_connections (@) {
    $WorkerConnections = shift if @_;
    $WorkerConnections;
}
sub log_level (@) { $LogLevel = shift if @_; $LogLevel }
sub repeat_each (@) { $RepeatEach = shift if @_; $RepeatEach }

# Upstream runs the preprocessor added last first.
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }

sub env_to_nginx (@) {
    for my $v (@_) {
        croak "env_to_nginx: bad argument value: $v"
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail { Test::More::BAIL_OUT(join '', @_) }

# "300ms" -> 0.3, "2s" -> 2, "0.5" -> 0.5
sub parse_time {
    my $t = shift;
    return undef unless defined $t;
    if ($t =~ s/([^_a-zA-Z])ms$/$1/) {
        $t /= 1000;
    } else {
        $t =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $t;
}

sub expand_env {
    my ($text, $name) = @_;
    return '' unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        defined $ENV{$1} ? $ENV{$1}
                         : bail("$name - No environment $1 defined.\n")
    }eg;
    return $text;
}

# ---- nginx: server root, configuration, start and stop ---------------------

# Removes only what we create, so that a mistaken TEST_NGINX_SERVROOT cannot
# cost anyone their files: rmdir fails on anything else.
sub setup_server_root {
    if (-d $ServRoot) {
        remove_tree("$ServRoot/conf", $LogDir, $HtmlDir,
                    glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
        rmdir $ServRoot or bail("Can't remove $ServRoot (not empty?): $!");
    }
    for my $dir ($ServRoot, $LogDir, $HtmlDir, "$ServRoot/conf") {
        mkdir $dir or bail("Failed to do mkdir $dir: $!");
    }
    open my $out, '>', "$HtmlDir/index.html"
        or bail("Can't open $HtmlDir/index.html for writing: $!");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub write_config {
    my $block = shift;
    my $name = $block->name;

    my $modules = join ' ', map { "load_module $_;" }
                            split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $main = expand_env("$modules " . ($block->main_config // ''), $name);
    my $http = expand_env(scalar $block->http_config, $name);
    my $config = expand_env(scalar $block->config, $name);
    my $level = $block->log_level || $LogLevel;

    # upstream keeps these variables for preload and sanitizer builds
    my $env = join '', map { "env $_;\n" }
        qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN MOCKEAGAIN_WRITE_TIMEOUT_PATTERN
           LD_PRELOAD LD_LIBRARY_PATH DYLD_INSERT_LIBRARIES
           DYLD_FORCE_FLAT_NAMESPACE),
        map { /\s/ ? "'$_'" : $_ } @EnvToNginx;

    my $temp = join ' ', map { "${_}_temp_path $ServRoot/${_}_temp;" }
        grep { $http !~ /\b${_}_temp_path\b/ }
        qw(client_body proxy fastcgi uwsgi scgi);

    my $root = $NoRootLocation ? '' : <<"ROOT";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
ROOT

    open my $out, '>', $ConfFile
        or bail("Can't open $ConfFile for writing: $!");
    print $out <<"CONF";
worker_processes  $Workers;
daemon on;
master_process $MasterProcess;
error_log $ErrLogFile $level;
pid       $PidFile;
$env
$main

http {
    access_log $LogDir/access.log; $temp

    default_type text/plain;
    keepalive_timeout  68000ms;

$http
    server {
        listen          $ServerPort;
        server_name     'localhost';
        client_max_body_size 30M;

$config

$root    }
}

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
CONF
    print $out "user root;\n" if $> == 0;
    close $out;
}

# kill 0 also succeeds on a zombie that nobody has reaped yet.
sub is_running {
    my $pid = shift;
    return 0 unless kill 0, $pid;
    open my $in, '<', "/proc/$pid/stat" or return 1;
    my $stat = <$in> // '';
    return $stat !~ /^\d+ \(.*\) Z/s;
}

sub nginx_pid {
    open my $in, '<', $PidFile or return undef;
    my $pid = do { local $/; <$in> } // '';
    close $in;
    return $pid =~ /^\s*(\d+)/ ? $1 : undef;
}

# Like upstream: a graceful QUIT, up to the timeout, then SIGKILL to the
# whole group (a daemonized nginx leads its own; killing the master alone
# would leave its workers holding the port).
sub stop_nginx {
    my $pid = nginx_pid();
    if (!defined $pid || !is_running($pid)) {
        unlink $PidFile;
        return;
    }

    kill 'QUIT', $pid;
    my $deadline = time + $Timeout;
    sleep 0.05 while is_running($pid) && time < $deadline;
    return unless is_running($pid);

    warn "timeout when waiting for the nginx process $pid to exit\n";
    kill 'KILL', (getpgrp($pid) == $pid ? -$pid : $pid);
    $deadline = time + $Timeout;
    sleep 0.05 while is_running($pid) && time < $deadline;
    unlink $PidFile;
}

# Runs the nginx command line; returns its wait status. -e: Debian's nginx
# would otherwise write startup errors to its own log before reading ours.
sub run_nginx {
    my $cmd = "$NginxBinary -e $ErrLogFile -p $ServRoot/ -c $ConfFile"
              . ' > /dev/null';
    system $cmd;
    return $?;
}

# ---- requests --------------------------------------------------------------

# more_headers text -> ("Name: value\r\n" lines, whether the body is
# already chunked)
sub parse_more_headers {
    my $text = shift;
    my ($out, $chunked) = ('', 0);
    for my $line (split /\n+/, $text) {
        next if $line =~ /^\s*#/;
        my ($key, $val) = split /:\s*/, $line, 2;
        $val //= '';
        $chunked = 1 if lc $key eq 'transfer-encoding' && $val eq 'chunked';
        $out .= "$key: $val\r\n";
    }
    return ($out, $chunked);
}

# "METHOD [URI [PROTO]]\nbody" -> the bytes on the wire. Like upstream, a
# body is trimmed and given a Content-Length unless the headers say chunked
# or carry their own Content-Length, in which case it is sent as written.
sub build_request {
    my ($name, $text, $more_headers) = @_;
    my ($headers, $chunked) = parse_more_headers($more_headers // '');

    my ($first, $body) = split /\n/, $text, 2;
    $body //= '';
    my ($method, $uri, $proto) = split ' ', $first // '';
    bail("$name - Request line should be non-empty") unless defined $method;
    $uri //= '/';
    $proto //= 'HTTP/1.1';

    my $extra = '';
    $extra .= "Host: localhost\r\n" if $headers !~ /(?:^|\n)Host:/mi;
    $extra .= "Connection: close\r\n" if $headers !~ /(?:^|\n)Connection/mi;
    if (!$chunked && $body ne '' && $headers !~ /(?:^|\n)Content-Length:/) {
        $body =~ s/^\s+|\s+$//g;
        $headers .= 'Content-Length: ' . length($body) . "\r\n";
    }
    return "$method $uri $proto\r\n$extra$headers\r\n$body";
}

sub requests_of {
    my $block = shift;
    my $name = $block->name;
    my $request = $block->request;
    bail("$name - request empty") unless defined $request;

    my @texts;
    if (ref $request eq 'ARRAY') {
        @texts = @$request;
    } elsif (!ref $request) {
        # leading blank and "#" comment lines are not part of a request
        1 while $request =~ s/^\s*#[^\n]+\s+|^\s+//s;
        @texts = ($request);
    } else {
        bail("$name - invalid --- request: MUST be string or array");
    }

    my $more = $block->more_headers || '';
    my @reqs;
    for my $i (0 .. $#texts) {
        my $hdrs = $more;
        if (ref $more eq 'ARRAY') {
            $hdrs = $more->[$i];
            bail("$name - --- more_headers lacks data for request $i")
                unless defined $hdrs;
        }
        push @reqs, build_request($name, $texts[$i], $hdrs);
    }
    return @reqs;
}

sub connect_server {
    for my $try (1 .. 50) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $ServerPort,
                                         Proto => 'tcp',
                                         Timeout => $Timeout);
        return $sock if $sock;
        my $wait = ($Sleep + $Sleep * $try) * $try / 2;
        sleep($wait > 1 ? 1 : $wait);
    }
    return undef;
}

# Writes the request while reading the response, until the server closes
# or nothing has happened for $timeout seconds (an idle timeout, as
# upstream's select loop). Returns the raw response.
sub send_request {
    my ($block, $req, $timeout) = @_;
    my $name = $block->name;

    my $sock = connect_server();
    if (!$sock) {
        fail("$name - Can't connect to 127.0.0.1:$ServerPort: $! (aborted)");
        return '';
    }
    $sock->blocking(0);
    local $SIG{PIPE} = 'IGNORE';

    my ($resp, $off) = ('', 0);
    my $rsel = IO::Select->new($sock);
    my $wsel = IO::Select->new($sock);

    while ($rsel->count) {
        my ($r, $w) = IO::Select->select($rsel, $wsel->count ? $wsel : undef,
                                         undef, $timeout);
        if (!$r && !$w) {
            next if $! == EINTR;
            if (!defined $block->abort) {
                fail("ERROR: client socket timed out - $name\n");
            }
            last;
        }

        if ($w && @$w) {
            my $n = syswrite $sock, $req, length($req) - $off, $off;
            if (defined $n) {
                $off += $n;
                $wsel->remove($sock) if $off >= length $req;
            } elsif ($! != EAGAIN && $! != EWOULDBLOCK) {
                # the server may answer (413, 400) before taking it all;
                # its answer is still there to read
                warn "$name - write failed: $!\n";
                $wsel->remove($sock);
            }
        }

        if ($r && @$r) {
            my $n = sysread $sock, my $buf, 65536;
            if (!defined $n) {
                next if $! == EAGAIN || $! == EWOULDBLOCK;
                warn "WARNING: $name - HTTP response read failure: $!\n";
                last;
            }
            last if $n == 0;
            $resp .= $buf;
        }
    }

    close $sock;
    return $resp;
}

# ---- responses -------------------------------------------------------------

# Raw bytes -> { code, headers => { lc name => [values] }, raw_headers,
# body }, or undef after failing a test for a malformed chunked body, as
# upstream does; upstream's later checks then see no response at all.
sub parse_response {
    my ($name, $raw, $head_req) = @_;

    my $raw_headers = $raw =~ /(.*?\r\n)\r\n/s ? $1 : '';
    my ($status_line, $rest) = split /\r?\n/, $raw, 2;
    $status_line //= '';
    $rest //= '';
    my ($code) = $status_line =~ m{^(?:\S+\s+)?(\d+)(?:\s|$)};

    my %headers;
    my $last;
    while ($rest =~ s/^([^\r\n]*)\r?\n//) {
        my $line = $1;
        last if $line eq '';
        if ($line =~ /^([^\s:]+)[ \t]*: ?(.*)$/) {
            push @{ $headers{lc $1} }, $2;
            $last = lc $1;
        } elsif ($line =~ /^\s+(.*)/ && defined $last) {
            $headers{$last}[-1] .= " $1";
        }
    }
    my $body = $rest;
    my $res = { code => $code, headers => \%headers,
                raw_headers => $raw_headers, body => $body };

    return $res if defined $code && ($code == 304 || $code == 101);

    my $left;
    my $te = header($res, 'Transfer-Encoding');
    my $len = header($res, 'Content-Length');

    if (defined $te && $te eq 'chunked') {
        my $decoded = '';
        while (1) {
            if ($body =~ /\G0[ \t]*\r\n\r\n/gc) {
                $left = $1 if $body =~ /\G(.+)/gcs;
                last;
            }
            if ($body =~ /\G[ \t]*([A-Fa-f0-9]+)[ \t]*\r\n/gc) {
                my $size = hex $1;
                if ($size > length($body) - pos($body)) {
                    fail("$name - invalid chunked data received "
                         . "(not enought octets for the data section)");
                    return undef;
                }
                $decoded .= substr $body, pos($body), $size;
                pos($body) += $size;
                if ($body !~ /\G\r\n/gc) {
                    fail("$name - invalid chunked data received "
                         . "(expected CRLF).");
                    return undef;
                }
            } elsif ($body =~ /\G(.+)/gcs) {
                fail("$name - invalid chunked body received: $1");
                return undef;
            } else {
                fail("$name - no last chunk found - $body");
                return undef;
            }
        }
        $res->{body} = $decoded;

    } elsif (defined $len && $len =~ /^\d+$/) {
        if (length $body < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . 'but got ' . length($body) . "\n" unless $head_req;
        } elsif (length $body > $len) {
            $left = substr $body, $len;
            $res->{body} = substr $body, 0, $len;
        }
    }

    if (defined $left) {
        $left =~ s/([\0-\037\200-\377])/sprintf('\x{%02x}', ord $1)/eg;
        warn "WARNING: $name - unexpected extra bytes after last chunk in "
             . "response: \"$left\"\n";
    }
    return $res;
}

# Like HTTP::Headers: repeated fields are joined with ", ".
sub header {
    my ($res, $key) = @_;
    my $vals = $res && $res->{headers}{lc $key};
    return $vals ? join(', ', @$vals) : undef;
}

# With several requests an expectation must be a list with one entry per
# request; with one request a list is allowed and its first entry is used.
sub indexed {
    my ($name, $value, $i, $need_array) = @_;
    if (ref $value eq 'ARRAY') {
        return $value->[$need_array ? $i : 0];
    }
    bail("$name - You asked for many requests, the expected results should "
         . 'be arrays as well.') if $need_array && defined $value;
    return $value;
}

sub check_response {
    my ($block, $res, $rep, $i, $need_array) = @_;
    my $name = $block->name;
    my $raw_headers = $res ? $res->{raw_headers} : undef;

    my $code = $block->error_code;
    $code = defined $code ? indexed($name, $code, $i, $need_array) : 200;
    is(($res && $res->{code}) || '', $code, "$name - status code ok");

    if (defined(my $pat = $block->raw_response_headers_like)) {
        $pat = indexed($name, $pat, $i, $need_array);
        like($raw_headers, qr/$pat/s, "$name - raw resp headers like");
    }

    if (defined(my $spec = $block->response_headers)) {
        $spec = indexed($name, $spec, $i, $need_array);
        for my $line (split /\n/, $spec) {
            $line =~ s/^\s+|\s+$//g;
            next if $line eq '';
            if ($line =~ s/^!\s*//) {
                unlike($raw_headers, qr/^\s*\Q$line\E\s*:/ms,
                       "$name - header $line not present in the raw headers");
                next;
            }
            my ($key, $val) = split /\s*:\s*/, $line, 2;
            $val //= '';
            $val =~ s/\$ServerPort\b/$ServerPort/g;
            is(header($res, $key) // '', $val, "$name - header $key ok");
        }
    }

    my $body = $res ? $res->{body} : undef;
    if (defined(my $expected = $block->response_body)) {
        $expected = indexed($name, $expected, $i, $need_array);
        my $what = "(repeated req $rep, req $i)";
        if (ref $expected) {
            like($body, $expected, "$name - response_body - like $what");
        } else {
            $expected =~ s/\$ServerPort\b/$ServerPort/g;
            $expected = expand_env($expected, $name);
            is($body, $expected,
               "$name - response_body - response is expected $what");
        }

    } elsif (defined(my $pat = $block->response_body_like)) {
        # a qr// from eval is stringified here as upstream does; it keeps
        # its own flags inside (?^...:)
        $pat = indexed($name, $pat, $i, $need_array);
        $pat =~ s/\$ServerPort\b/$ServerPort/g;
        my $summary = $body // '';
        $summary =~ s/^\s+|\s+$//g;
        $summary =~ s/\n/ /g;
        $summary =~ s/\s{2,}/ /g;
        like($body, qr/$pat/s,
             "$name - response_body_like - response is expected ($summary)");
    }
}

# ---- error.log -------------------------------------------------------------

# The lines written since the previous call. Upstream sleeps a little first:
# nginx logs some of a request after it has closed the connection.
sub new_log_lines {
    sleep $Sleep * 3;
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogPos, 0;
    my @lines = <$in>;
    $ErrLogPos = tell $in;
    close $in;
    return \@lines;
}

sub patterns_of {
    my $pats = shift;
    return [$pats] if ref $pats eq 'Regexp';
    return [@$pats] if ref $pats eq 'ARRAY';
    chomp $pats;
    return [split /\n+/, $pats];
}

sub line_matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

# Quoted for a test name on one line.
sub fmt_str {
    my $s = shift;
    chomp $s;
    $s =~ s/"/\\"/g;
    $s =~ s/\r/\\r/g;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub mentions {
    my ($pats, $text) = @_;
    return grep { !ref $_ || ref $_ eq 'Regexp' ? "$_" =~ /\Q$text\E/ : 0 }
           ref $pats eq 'ARRAY' ? @$pats : ($pats);
}

sub check_error_log {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines = new_log_lines();
    my %warn = map { $_ => 1 } qw(alert crit emerg);

    if (defined(my $spec = $block->error_log)) {
        $warn{$_} = 0 for grep { mentions($spec, "[$_") } keys %warn;
        my $pats = patterns_of($spec);
        # each pattern passes once, in the order of the lines it matches
        for my $line (@$lines) {
            for my $pat (@$pats) {
                next unless defined $pat && line_matches($line, $pat);
                pass("$name - pattern \"$pat\" matches a line in error.log "
                     . "(req $rep)");
                undef $pat;
            }
        }
        for my $pat (grep { defined } @$pats) {
            fail("$name - pattern \"$pat\" should match a line in error.log "
                 . "(req $rep)");
        }
    }

    if (defined(my $spec = $block->no_error_log)) {
        $warn{$_} = 0 for grep { mentions($spec, "[$_") } keys %warn;
        my $pats = patterns_of($spec);
        my %found;
        # one failure for every line matched
        for my $n (0 .. $#$lines) {
            for my $pat (grep { defined } @$pats) {
                next unless line_matches($lines->[$n], $pat);
                $found{$pat} = 1;
                my $end = $n + 10 < $#$lines ? $n + 10 : $#$lines;
                fail("$name - pattern \"" . fmt_str($pat) . '" should not '
                     . 'match any line in error.log but matches line "'
                     . fmt_str($lines->[$n]) . "\" (req $rep)\n"
                     . join '', @$lines[$n + 1 .. $end - 1]);
            }
        }
        for my $pat (grep { defined && !$found{$_} } @$pats) {
            pass("$name - pattern \"" . fmt_str($pat) . '" does not match a '
                 . "line in error.log (req $rep)");
        }
    }

    # not failures, but worth seeing, unless a pattern is about them
    for my $level (grep { $warn{$_} } sort keys %warn) {
        warn "WARNING: $name - " . fmt_str($_) . "\n"
            for grep { /\[$level\]/ } @$lines;
    }

    for my $line (grep { /\bAssertion .*?failed\b/ } @$lines) {
        fail("$name - " . fmt_str($line) . "\n");
    }
}

# ---- the run ---------------------------------------------------------------

sub run_requests {
    my ($block, $rep) = @_;
    my $name = $block->name;

    my @reqs = requests_of($block);
    my $timeout = parse_time(scalar $block->timeout) // $Timeout;
    my $need_array = @reqs > 1;

    for my $i (0 .. $#reqs) {
        my $raw = send_request($block, $reqs[$i], $timeout);

        if (!defined $block->ignore_response) {
            my $head_req = $reqs[$i] =~ /^\s*HEAD\s/;
            my $res = parse_response($name, $raw, $head_req);
            check_response($block, $res, $rep, $i, $need_array);
        }

        # after each request but the last here, the last one below
        if ($i < $#reqs) {
            sleep scalar $block->wait if $block->wait;
            check_error_log($block, $rep);
        }
    }

    sleep scalar $block->wait if $block->wait;
    check_error_log($block, $rep);
}

sub run_block {
    my $block = shift;
    my $name = $block->name;

    stop_nginx();
    setup_server_root();
    write_config($block);
    $ErrLogPos = 0;

    if (defined(my $must_die = $block->must_die)) {
        for my $rep (0 .. $RepeatEach - 1) {
            my $status = run_nginx();
            if ($status == -1) {
                fail("$name - failed to execute the nginx command line");
            } elsif ($status & 128) {
                fail("$name - nginx core dumped");
            } elsif (looks_like_number($must_die)) {
                is($must_die, $status >> 8,
                   "$name - die with the expected exit code");
            } else {
                isnt($status, 0, "$name - die as expected");
            }
            check_error_log($block, $rep);
            if ($status == 0) {
                warn "WARNING: $name - nginx must die but it does not; "
                     . "killing it (req $rep)\n";
                sleep $Sleep;
                stop_nginx();
            }
        }
        return;
    }

    # A port still held by the previous nginx's exiting workers: retry for
    # up to 30 seconds, as upstream, before giving up on the whole run.
    my $waited = 0;
    for (my $try = 1; ; $try++) {
        my $status = run_nginx();
        last if $status == 0;
        bail("$name - Cannot start nginx using command \"$NginxBinary\" "
             . "(status code $status).") if $waited >= 30;
        my $delay = 0.1 * $try > 1 ? 1 : 0.1 * $try;
        sleep $delay;
        $waited += $delay;
    }
    sleep $Sleep;

    $ErrLogPos = 0;
    run_requests($block, $_) for 0 .. $RepeatEach - 1;
}

sub run_tests () {
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    for my $block ($NoShuffle ? blocks() : shuffle blocks()) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value(name => "$0 " . $block->name);
        run_block($block);
    }

    stop_nginx();
}

END {
    local $?;    # keep Test::Builder's exit status
    stop_nginx() if -f $PidFile;
}

1;
