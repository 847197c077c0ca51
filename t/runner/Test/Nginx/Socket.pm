package Test::Nginx::Socket;

=pod

A small implementation of the subset of Test::Nginx::Socket's interface
(openresty/test-nginx) that this project's t/*.t suites use. Debian does not
package Test::Nginx, so `make test` puts this directory on @INC only when
`perl -MTest::Nginx::Socket` fails; where upstream is installed, it runs the
same files. Semantics follow upstream: one nginx per block, requests sent
one per connection with "Connection: close", chunked bodies decoded (an
unfinished one fails), error.log checked after each request for the lines
written since the previous check.

Supported: run_tests, no_shuffle, repeat_each (1), master_on, workers,
worker_connections, log_level, add_block_preprocessor, env_to_nginx; the
sections main_config, http_config, config, request (eval: string or list),
more_headers, error_code, response_headers, raw_response_headers_like,
response_body, response_body_like, ignore_response, error_log,
no_error_log, timeout, abort,
wait, must_die, ONLY, SKIP, LAST; TEST_NGINX_BINARY, TEST_NGINX_SERVROOT,
TEST_NGINX_LOAD_MODULES, TEST_NGINX_SERVER_PORT (TEST_NGINX_PORT).

=cut

use Test::Base -Base;

use Cwd qw(cwd);
use File::Path qw(make_path remove_tree);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @EXPORT = qw(run_tests no_shuffle repeat_each master_on master_off
                 workers worker_connections log_level no_long_string
                 no_root_location add_block_preprocessor env_to_nginx);

our $ServRoot = $ENV{TEST_NGINX_SERVROOT} || cwd() . '/t/servroot';
our $Port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';

my $master = 'off';
my $workers = 1;
my $worker_connections = 64;
my $log_level = 'debug';
my @block_preprocessors;
my @env_to_nginx;

sub no_shuffle () {}
sub no_long_string () {}
sub no_root_location () {}
sub repeat_each (@) { return 1 }
sub master_on () { $master = 'on' }
sub master_off () { $master = 'off' }
sub workers ($) { $workers = shift }
sub worker_connections ($) { $worker_connections = shift }
sub log_level ($) { $log_level = shift }
sub add_block_preprocessor (&) { push @block_preprocessors, shift }
sub env_to_nginx (@) { push @env_to_nginx, @_ }

$ENV{TEST_NGINX_SERVER_PORT} ||= $Port;
$ENV{TEST_NGINX_SERVER_ROOT} ||= $ServRoot;
$ENV{TEST_NGINX_HTML_DIR} ||= "$ServRoot/html";

# ---- nginx: configuration, start, stop -------------------------------------

sub expand_env ($) {
    my $text = shift // '';
    $text =~ s/\$(TEST_NGINX_[_A-Z0-9]+)/
        defined $ENV{$1} ? $ENV{$1} : die "environment $1 is not set\n"/ge;
    return $text;
}

sub write_config ($) {
    my $block = shift;

    remove_tree($ServRoot);
    make_path(map { "$ServRoot/$_" } qw(conf logs html));

    my $modules = join '', map { "load_module $_;\n" }
                           split ' ', $ENV{TEST_NGINX_LOAD_MODULES} // '';
    my $env = join '', map { "env $_;\n" } @env_to_nginx;
    my $main = expand_env($block->main_config);
    my $http = expand_env($block->http_config);
    my $config = expand_env($block->config);
    my $user = $> == 0 ? "user root;\n" : '';

    open my $out, '>', "$ServRoot/conf/nginx.conf" or die "$!\n";
    print $out <<"CONF";
$modules
worker_processes $workers;
daemon on;
master_process $master;
error_log logs/error.log $log_level;
pid logs/nginx.pid;
$user$env
$main

events {
    worker_connections $worker_connections;
}

http {
    access_log logs/access.log;
    default_type text/plain;
    keepalive_timeout 68;

    client_body_temp_path $ServRoot/client_body_temp;
    proxy_temp_path $ServRoot/proxy_temp;
    fastcgi_temp_path $ServRoot/fastcgi_temp;
    uwsgi_temp_path $ServRoot/uwsgi_temp;
    scgi_temp_path $ServRoot/scgi_temp;

$http

    server {
        listen $Port;
        server_name localhost;
        client_max_body_size 30M;

$config
    }
}
CONF
    close $out;
}

# Starts nginx; returns its exit status (0 when it daemonized).
sub start_nginx () {
    my $cmd = "$NginxBinary -e $ServRoot/logs/error.log -p $ServRoot/ "
              . "-c $ServRoot/conf/nginx.conf";
    system("$cmd > /dev/null 2>&1");
    return $? >> 8;
}

sub nginx_pid () {
    open my $in, '<', "$ServRoot/logs/nginx.pid" or return undef;
    my $pid = <$in>;
    chomp $pid if defined $pid;
    return $pid;
}

sub wait_for_port () {
    for (1 .. 200) {
        my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                         PeerPort => $Port);
        if ($sock) {
            close $sock;
            return 1;
        }
        sleep 0.02;
    }
    return 0;
}

sub stop_nginx () {
    my $pid = nginx_pid();
    return unless $pid;

    kill 'TERM', $pid;
    for (1 .. 300) {
        return unless kill 0, $pid;
        sleep 0.02;
    }
    kill 'KILL', $pid;
    for (1 .. 100) {
        return unless kill 0, $pid;
        sleep 0.02;
    }
}

# ---- the client ------------------------------------------------------------

sub build_request ($$) {
    my ($text, $more_headers) = @_;

    $text =~ s/^\s+//;
    my ($first, $body) = split /\n/, $text, 2;
    $body //= '';
    my ($method, $uri, $proto) = split ' ', $first;
    $uri //= '/';
    $proto //= 'HTTP/1.1';

    my $headers = $more_headers // '';
    $headers =~ s/\s+$//s;
    my $chunked = $headers =~ /^Transfer-Encoding:\s*chunked/mi;

    if (!$chunked) {
        $body =~ s/^\s+|\s+$//gs;
    }

    my $req = "$method $uri $proto\r\n";
    $req .= "Host: localhost\r\n" unless $headers =~ /^Host:/mi;
    $req .= "Connection: close\r\n" unless $headers =~ /^Connection:/mi;
    $req .= join '', map { "$_\r\n" } split /\n/, $headers;
    if (!$chunked && $body ne '' && $headers !~ /^Content-Length:/mi) {
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }
    return "$req\r\n$body";
}

# Sends one request and reads until the server closes or the timeout;
# returns the raw response and whether it timed out.
sub send_request ($$) {
    my ($req, $timeout) = @_;

    my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $Port)
        or return ('', 0, "cannot connect: $!");
    binmode $sock;
    $sock->autoflush(1);
    print $sock $req;

    my $raw = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($sock);

    while (1) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            close $sock;
            return ($raw, 1);
        }
        my $n = sysread $sock, my $buf, 65536;
        last if !$n;
        $raw .= $buf;
    }

    close $sock;
    return ($raw, 0);
}

# Splits a raw response; de-chunks like upstream (an unfinished chunked
# body is an error).
sub parse_response ($) {
    my $raw = shift;

    my ($head, $body) = split /\r\n\r\n/, $raw, 2;
    $body //= '';
    my ($status_line, @lines) = split /\r\n/, $head // '';
    my ($status) = ($status_line // '') =~ m{^HTTP/\d\.\d\s+(\d+)};
    my %headers;
    for (@lines) {
        my ($k, $v) = /^([^:]+):\s*(.*)$/ or next;
        $headers{lc $k} = $v;
    }

    my $error;
    if (($headers{'transfer-encoding'} // '') eq 'chunked') {
        my $decoded = '';
        my $done;
        while ($body =~ /\G([0-9A-Fa-f]+)[ \t]*\r\n/gc) {
            my $size = hex $1;
            if ($size == 0) {
                $done = $body =~ /\G\r\n/gc;
                last;
            }
            if ($body !~ /\G(.{$size})\r\n/gcs) {
                last;
            }
            $decoded .= $1;
        }
        $error = "no last chunk found - $body" unless $done;
        $body = $decoded;
    }

    return { status => $status, headers => \%headers, head => $head // '',
             body => $body, error => $error };
}

# ---- checks ----------------------------------------------------------------

sub nth ($$) {
    my ($value, $i) = @_;
    return ref $value eq 'ARRAY' ? $value->[$i] : $value;
}

sub read_log_from ($) {
    my $offset = shift;
    open my $in, '<', "$ServRoot/logs/error.log" or return ([], $offset);
    seek $in, $offset, 0;
    my @lines = <$in>;
    return (\@lines, tell $in);
}

sub log_patterns ($) {
    my $spec = shift;
    return () unless defined $spec;
    return ($spec) if ref $spec eq 'Regexp';
    return @$spec if ref $spec eq 'ARRAY';
    chomp $spec;
    return split /\n+/, $spec;
}

sub matches ($$) {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub check_error_log ($$$) {
    my ($block, $name, $lines) = @_;

    for my $pat (log_patterns($block->error_log)) {
        my $found = grep { matches($_, $pat) } @$lines;
        ok($found, "$name - pattern \"$pat\" "
                   . ($found ? 'matches' : 'should match')
                   . ' a line in error.log (req 0)');
    }

    for my $pat (log_patterns($block->no_error_log)) {
        my ($line) = grep { matches($_, $pat) } @$lines;
        ok(!$line, "$name - pattern \"$pat\" should not match any line in "
                   . 'error.log but matches line "' . ($line // '') . '"');
    }
}

sub check_response ($$$$) {
    my ($block, $name, $res, $i) = @_;

    my $code = nth($block->error_code, $i) // 200;
    $code =~ s/\s+$//;
    is($res->{status}, $code, "$name - status code ok");

    if (defined(my $pats = $block->raw_response_headers_like)) {
        like($res->{head}, qr/${\ nth($pats, $i)}/s,
             "$name - raw resp headers like");
    }

    if (defined(my $spec = nth($block->response_headers, $i))) {
        for my $line (split /\n/, $spec) {
            next if $line =~ /^\s*$/;
            if ($line =~ /^!\s*([^:]+?)\s*$/) {
                ok(!defined $res->{headers}{lc $1},
                   "$name - header $1 not present");
            } elsif ($line =~ /^([^:]+):\s*(.*?)\s*$/) {
                is($res->{headers}{lc $1}, $2, "$name - header $1 ok");
            }
        }
    }

    if (defined(my $body = nth($block->response_body, $i))) {
        is($res->{body}, $body, "$name - response_body - response is expected");
    }

    if (defined(my $pat = nth($block->response_body_like, $i))) {
        like($res->{body}, qr/$pat/s,
             "$name - response_body_like - response is expected");
    }
}

# ---- the run ---------------------------------------------------------------

sub run_block ($) {
    my $block = shift;
    my $name = "$0 " . $block->name;

    $_->($block) for @block_preprocessors;

    stop_nginx();   # before write_config() removes its pid file
    write_config($block);
    my $status = start_nginx();

    if (defined $block->must_die) {
        isnt($status, 0, "$name - die as expected");
        my ($lines) = read_log_from(0);
        check_error_log($block, $name, $lines);
        stop_nginx() if $status == 0;
        return;
    }

    if ($status != 0 || !wait_for_port()) {
        my ($lines) = read_log_from(0);
        fail("$name - nginx failed to start: " . join '', @$lines);
        return;
    }

    my $requests = $block->request;
    $requests = [$requests] unless ref $requests eq 'ARRAY';
    my $timeout = $block->timeout // 3;
    my $offset = 0;

    for my $i (0 .. $#$requests) {
        my $req = build_request($requests->[$i],
                                nth($block->more_headers, $i));
        my ($raw, $timed_out, $err) = send_request($req, $timeout);

        if ($err) {
            fail("$name - $err");
        } elsif ($timed_out && !defined $block->abort) {
            fail("ERROR: client socket timed out - $name");
        }

        if (!defined $block->ignore_response) {
            my $res = parse_response($raw);
            if ($res->{error}) {
                fail("$name - $res->{error}");
            } else {
                check_response($block, $name, $res, $i);
            }
        }

        sleep($block->wait) if $block->wait;
        (my $lines, $offset) = read_log_from($offset);
        check_error_log($block, $name, $lines);
    }

    stop_nginx();
}

sub run_tests () {
    my @blocks = blocks();

    if (my @only = grep { defined $_->ONLY } @blocks) {
        @blocks = @only;
    }

    for my $block (@blocks) {
        next if defined $block->SKIP;
        run_block($block);
        last if defined $block->LAST;
    }

    stop_nginx();
}

1;
