# Copyright (C) 2026 Seed 79e7e746 maintainers

package Test::Nginx::Util;

# Half of the fallback Test::Nginx (see the POD of Test::Nginx::Socket):
# the settings a test file can change, and nginx's life cycle for each test
# block.  The client side and the checks live in Socket.pm, which plugs them
# in through $RunTestHelper, $CheckErrorLog and $CheckShutdownErrorLog, as
# upstream's Util.pm does.

use strict;
use warnings;

use Carp ();
use Exporter 'import';
use File::Find ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use POSIX qw(SIGKILL SIGQUIT SIGTERM WNOHANG);
use Scalar::Util qw(looks_like_number);
use Test::More ();
use Time::HiRes qw(sleep time);

sub gen_rand_port ($);

our @EXPORT = qw(
    run_tests repeat_each no_shuffle no_long_string no_root_location
    log_level master_on master_off master_process_enabled workers
    worker_connections env_to_nginx add_block_preprocessor add_cleanup_handler
    add_test_cleanup_handler config_preamble check_accum_error_log use_hup
    no_nginx_manager timeout server_addr server_name server_port
    server_port_for_client server_root html_dir bail_out is_str
    expand_env_in_text parse_time error_log_data access_log_data
    get_pid_from_pidfile is_running trim sleep_time
    $ServerAddr $ServerName $ServerPort $ServerPortForClient $ServRoot
    $ConfFile $PidFile $RepeatEach $NginxVersion $NoLongString
    $RunTestHelper $CheckErrorLog $CheckShutdownErrorLog
);

# ---- settings: environment first, then the test file's calls -------------

our $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerAddr = '127.0.0.1';
our $ServerName = 'localhost';
our $ServerPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $LoadModules = $ENV{TEST_NGINX_LOAD_MODULES};
our $LogLevel = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $TestNginxSleep = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $UseValgrind = $ENV{TEST_NGINX_USE_VALGRIND};
our $UseHup = $ENV{TEST_NGINX_USE_HUP};
our $NoShuffle = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $NoNginxManager = $ENV{TEST_NGINX_NO_NGINX_MANAGER} || 0;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $ForceRestartOnTest = $ENV{TEST_NGINX_FORCE_RESTART_ON_TEST} // 1;
our $WorkerUser = $ENV{TEST_NGINX_WORKER_USER};
our $EventType = $ENV{TEST_NGINX_EVENT_TYPE};
our $Workers = 1;
our $WorkerConnections = 64;
our $RepeatEach = 1;
our $NoRootLocation = 0;
our $NoLongString;
our $ConfigPreamble = '';
our (@EnvToNginx, @BlockPreprocessors, @CleanupHandlers, @TestCleanupHandlers);

our $Randomize = $ENV{TEST_NGINX_RANDOMIZE};
our $ServRoot = $ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot');

# TEST_NGINX_RANDOMIZE: a port and a server root of one's own, for prove -j.
if ($Randomize) {
    $ServerPort = $ServerPortForClient = gen_rand_port({})
        // die "Cannot find an available listening port number\n";
    $ServRoot = File::Spec->rel2abs("t/servroot_$ServerPort");
}
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;
our $LogDir = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir = "$ServRoot/html";
our $ConfDir = "$ServRoot/conf";
our $ConfFile = "$ConfDir/nginx.conf";
our $PidFile = "$LogDir/nginx.pid";

# Modes that change how upstream talks to nginx; running without them would
# pass or fail for other reasons than upstream, so refuse rather than guess.
for my $mode (qw(USE_HTTP2 USE_HTTP3 CHECK_LEAK BENCHMARK USE_STAP USE_RR)) {
    die "TEST_NGINX_$mode is not supported by the fallback Test::Nginx "
        . "in t/runner; install upstream Test::Nginx for it\n"
        if $ENV{"TEST_NGINX_$mode"};
}

# Hooks filled in by Socket.pm.
our ($RunTestHelper, $CheckErrorLog, $CheckShutdownErrorLog);

# State shared with Socket.pm.
our ($NginxVersion, $OpenSSLVersion, $NginxV, $ErrLogFilePos, $RandPorts);
our ($PrevConfig, $PrevBlock, $ConfigVersion, $ChildPid);
my $FirstTime = 1;
my $RunTestsCalled;

sub repeat_each (@) { $RepeatEach = shift if @_; return $RepeatEach }
sub no_shuffle () { $NoShuffle = 1 }
sub no_long_string () { $NoLongString = 1 }
sub no_root_location () { $NoRootLocation = 1 }
sub master_on () { $MasterProcessEnabled = 'on' }
sub master_off () { $MasterProcessEnabled = 'off' }
sub check_accum_error_log () { $CheckAccumErrLog = 1 }
sub use_hup () { $UseHup = 1 }
sub no_nginx_manager () { $NoNginxManager = 1 }
sub config_preamble ($) { $ConfigPreamble = shift }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift }
sub add_cleanup_handler ($) { unshift @CleanupHandlers, shift }
sub add_test_cleanup_handler ($) { unshift @TestCleanupHandlers, shift }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }
sub sleep_time () { $TestNginxSleep }

# A daemonized nginx that has exited stays a zombie until init reaps it,
# which some inits do only every second or two; a zombie counts as gone.
sub is_running ($) {
    my $pid = shift;
    return 0 if !kill 0, $pid;
    open my $in, '<', "/proc/$pid/stat" or return 1;
    return (<$in> // '') !~ /^\d+ \(.*\) Z/s;
}

sub master_process_enabled (@) {
    return $MasterProcessEnabled if !@_;
    $MasterProcessEnabled = shift() ? 'on' : 'off';
}

# The getters/setters below share one shape: no argument reads, one writes.
sub workers (@) { @_ ? ($Workers = shift) : $Workers }
sub worker_connections (@) { @_ ? ($WorkerConnections = shift) : $WorkerConnections }
sub log_level (@) { @_ ? ($LogLevel = shift) : $LogLevel }
sub timeout (@) { @_ ? ($Timeout = shift) : $Timeout }
sub server_addr (@) { @_ ? ($ServerAddr = shift) : $ServerAddr }
sub server_name (@) { @_ ? ($ServerName = shift) : $ServerName }
sub server_port (@) { @_ ? ($ServerPort = shift) : $ServerPort }
sub server_port_for_client (@) {
    @_ ? ($ServerPortForClient = shift) : $ServerPortForClient;
}

sub env_to_nginx (@) {
    Carp::croak("env_to_nginx: no arguments specified") if !@_;
    for my $v (@_) {
        Carp::croak("env_to_nginx: bad argument value: $v\n")
            if $v !~ /^[A-Za-z_]/ || $v =~ /\n/;
        push @EnvToNginx, $v;
    }
}

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(@_);
}

# Upstream compares long strings with Test::LongString unless told not to.
my $HaveLongString = eval { require Test::LongString; 1 };

sub is_str (@) {
    my ($got, $expected, $desc) = @_;
    return Test::More::like($got, $expected, $desc)
        if ref $expected && ref $expected eq 'Regexp';
    return Test::More::is($got, $expected, $desc)
        if $NoLongString || !$HaveLongString;
    return Test::LongString::is_string($got, $expected, $desc);
}

sub parse_time ($) {
    my $tm = shift;
    return $tm if !defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm /= 1000;
    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $tm;
}

sub trim ($) {
    my $s = shift;
    return undef if !defined $s;
    $s =~ s/^\s+|\s+$//g;
    $s =~ s/\n/ /gs;
    $s =~ s/\s{2,}/ /gs;
    return $s;
}

# ---- $TEST_NGINX_* in section text ----------------------------------------

sub gen_rand_port ($) {
    my $used = shift;
    for (1 .. 1000) {
        my $port = int(rand 63547) + 1988;
        next if $used->{$port};
        my $sock = IO::Socket::INET->new(LocalAddr => $ServerAddr,
            LocalPort => $port, Proto => 'tcp', Listen => 5, Reuse => 1)
            or next;
        close $sock;
        return $port;
    }
    return undef;
}

# $TEST_NGINX_FOO comes from the environment (an unset one stops the run,
# as upstream does); $TEST_NGINX_RAND_PORT_N is a free port, the same one
# for every use within a block.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    return undef if !defined $text;

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            $rand_ports->{$var} //= gen_rand_port({ ($ServerPort // 0) => 1,
                                      map { $_ => 1 } grep { defined } values %$rand_ports })
                // bail_out("$name - Cannot find an available listening "
                            . "port number for $var.\n");
        } else {
            bail_out("$name - No environment $var defined.\n")
                if !defined $ENV{$var};
            $ENV{$var};
        }
    }ge;

    return $text;
}

# ---- logs -------------------------------------------------------------------

# Lines logged since the previous call within this block (all of them with
# check_accum_error_log).  The short sleep lets the log phase, which runs
# after nginx has closed the connection, finish writing.
sub error_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $ErrLogFile or return [];
    seek $in, $ErrLogFilePos, 0 if !$CheckAccumErrLog && $ErrLogFilePos;
    my @lines = <$in>;
    $ErrLogFilePos = tell $in if !$CheckAccumErrLog;
    return \@lines;
}

sub access_log_data () {
    sleep $TestNginxSleep * 3;
    open my $in, '<', $AccLogFile or die "open $AccLogFile failed: $!";
    return [<$in>];
}

# ---- the server root and nginx.conf ---------------------------------------

sub setup_server_root ($) {
    my $first_time = shift;

    if (-d $ServRoot) {
        # Only what the scaffold creates goes, so that a mistaken
        # TEST_NGINX_SERVROOT cannot wipe real data.
        remove_tree($ConfDir, glob("$ServRoot/*_cache"),
                    glob("$ServRoot/*_temp"));

        if ($UseHup) {
            # nginx keeps running: keep its pid file and sockets.
            File::Find::find({ bydepth => 1, no_chdir => 1, wanted => sub {
                return if -d $_;
                return if !$first_time
                          && /(?:\bnginx\.pid|\.sock|\.crt|\.key)$/;
                unlink $_ or warn "Failed to remove $_\n";
            } }, $ServRoot);
        } else {
            remove_tree("$ServRoot/cache", $HtmlDir, $LogDir);
            rmdir $ServRoot
                or bail_out("Can't remove $ServRoot (not empty?): $!");
        }
    }

    for my $dir ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $dir;
        mkdir $dir or bail_out("Failed to do mkdir $dir\n");
    }

    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't open $HtmlDir/index.html for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub run_customer_init_script ($) {
    my $block = shift;
    my $code = $block->post_setup_server_root or return;
    eval $code;
    bail_out($block->name . " - post_setup_server_root failed: $@") if $@;
}

# "--- user_files": ">>> name [mtime]" lines, each followed by the file's
# text; or (eval) [[name, text, mtime], ...].  Relative names are under
# the html directory.
sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files or return;

    if (!ref $files) {
        my @list;
        for my $line (split /^/, $files) {
            if ($line =~ />>> (\S+)(?:\s+(.+))?/) {
                push @list, [$1, undef, $2];
            } elsif (@list) {
                $list[-1][1] .= $line;
            }
        }
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type: " . ref($files)
                 . ", only scalar or ARRAY are accepted");
    }

    for my $file (@$files) {
        my ($fname, $body, $date) = @$file;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body // '', $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system("TZ=GMT touch -t '$date' '$path'") == 0
                or bail_out("Failed to set the time of $path\n");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;

    my $expand = sub { expand_env_in_text($_[0] // '', $name, $rand_ports) };

    master_on() if $UseHup;    # nginx reloads badly without a master

    my $http_config = $expand->($block->http_config);
    my $main_config = $block->main_config // '';
    my @modules = map { "load_module $_;" } grep { $_ } split /\s+/,
                  $LoadModules // '';
    $main_config = join ' ', @modules, $main_config if @modules;
    $main_config = $expand->($main_config);
    my $post_main_config = $expand->($block->post_main_config);
    my $err_log_file = $expand->($block->error_log_file || $ErrLogFile);
    (my $server_name = $block->server_name // $ServerName) =~ s/(['\\])/\\$1/g;
    my $daemon = $UseValgrind ? 'off' : 'on';

    my $env = join '', map { "env $_;\n" } qw(MOCKEAGAIN_VERBOSE MOCKEAGAIN
        MOCKEAGAIN_WRITE_TIMEOUT_PATTERN LD_PRELOAD LD_LIBRARY_PATH
        DYLD_INSERT_LIBRARIES DYLD_FORCE_FLAT_NAMESPACE);
    $env .= join '', map { /\s/ ? "env '$_';\n" : "env $_;\n" } @EnvToNginx;

    # A temp path nginx was built without, or one the block sets itself,
    # would be a duplicate or unknown directive.
    my $temp_paths = '';
    for my $kind (qw(client_body proxy fastcgi scgi uwsgi)) {
        next if $NginxV =~ /--without-http_${kind}_module/;
        next if $http_config =~ /\b${kind}_temp_path\b/;
        $temp_paths .= " ${kind}_temp_path $ServRoot/${kind}_temp;";
    }

    my $root_location = $NoRootLocation ? '' : <<"_EOC_";
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    # TEST_NGINX_USE_HUP: /ver answers which configuration is live.
    my $version_server = !$UseHup ? '' : <<"_EOC_";
    server {
        listen          $ServerPort;
        server_name     'Test-Nginx';

        location = /ver {
            return 200 '$ConfigVersion';
        }
    }
_EOC_

    my $user = defined $WorkerUser ? "user $WorkerUser;\n"
             : $> == 0 ? "user root;\n" : '';
    my $use_events = $EventType ? "    use $EventType;\n" : '';

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out <<"_EOC_";
worker_processes  $Workers;
daemon $daemon;
master_process $MasterProcessEnabled;
error_log $err_log_file $LogLevel;
pid       $PidFile;
$env
$main_config

http {
    access_log $AccLogFile;$temp_paths

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort;
        server_name     '$server_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_location    }
$version_server}

$post_main_config

events {
    accept_mutex off;

    worker_connections  $WorkerConnections;
$use_events}
env ASAN_OPTIONS;
env MOCKNOEAGAIN_VERBOSE;
env MOCKNOEAGAIN;
$user
_EOC_
    close $out;
}

sub canon_version (@) {
    my @v = @_;
    my $s = sprintf "%d.%03d%03d", @v[0 .. 2];
    $s .= sprintf "%03d", ord($v[3]) - ord('a') if defined $v[3];
    return $s;
}

sub get_nginx_version () {
    $NginxV = `$NginxBinary -V 2>&1`;
    if (!defined $NginxV || $? != 0) {
        bail_out("Failed to get the version of the Nginx in PATH: "
                 . ($NginxV // ''));
    }
    if ($NginxV =~ m{built with OpenSSL (\d+)\.(\d+)\.(\d+)([a-z])?}) {
        $OpenSSLVersion = canon_version($1, $2, $3, $4);
    }
    if ($NginxV =~ m{(?:nginx|openresty)[^/]*/(\d+)\.(\d+)\.(\d+)}
        || $NginxV =~ m{\w+/(\d+)\.(\d+)\.(\d+)})
    {
        return canon_version($1, $2, $3);
    }
    bail_out("Failed to parse the output of \"nginx -V\": $NginxV\n");
}

sub get_pid_from_pidfile ($) {
    my $name = shift;
    open my $in, '<', $PidFile
        or bail_out("$name - Failed to open the pid file $PidFile for "
                    . "reading: $!");
    my $pid = do { local $/; <$in> } // '';
    chomp $pid;
    return $pid;
}

sub can_run ($) {
    my $cmd = shift;
    return -f $cmd && -x _ if $cmd =~ m{/};
    return grep { -f "$_/$cmd" && -x _ } split(/:/, $ENV{PATH} // ''), '.';
}

# ---- starting and stopping nginx -------------------------------------------

# Graceful stop (QUIT, or TERM with TEST_NGINX_FAST_SHUTDOWN) for up to
# timeout() seconds, then SIGKILL to nginx's whole process group so that no
# worker outlives a killed master.
sub kill_process ($$$) {
    my ($pid, $wait, $name) = @_;

    if ($wait) {
        kill $ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT, $pid;
        my $left = timeout();
        while ($left > 0 && is_running($pid)) {
            waitpid $pid, WNOHANG;
            sleep 0.05;
            $left -= 0.05;
        }
        return if !is_running($pid);
        warn "$name - timeout when waiting for the process $pid to exit\n";
    }

    return if !is_running($pid);
    kill SIGKILL, (getpgrp($pid) == $pid ? -$pid : $pid);
    for (1 .. 40) {
        waitpid $pid, WNOHANG;
        return if !is_running($pid);
        sleep 0.05;
    }
    warn "$name - WARNING: the process $pid survived SIGKILL\n";
}

# nginx under valgrind runs in the foreground as our child; upstream lets
# valgrind write to stderr.  Here it writes to logs/valgrind.PID.log, which
# is printed to stderr the same way once nginx has exited, and a problem is
# also a failed test: any error that is not a leak, and any definite leak
# whose stack passes through a module from TEST_NGINX_LOAD_MODULES (stock
# nginx leaks a little by design; valgrind.suppress silences the rest).
sub stop_valgrind_nginx ($) {
    my $name = shift;
    my $pid = $ChildPid // return;
    undef $ChildPid;

    kill SIGQUIT, $pid;
    my $deadline = time + 30;    # the leak check takes a while
    while (waitpid($pid, WNOHANG) == 0 && time < $deadline) {
        sleep 0.05;
    }
    if (is_running($pid)) {
        warn "$name - valgrind did not exit in time; killing it\n";
        kill SIGKILL, -$pid;
        waitpid $pid, 0;
    }

    my @stems = map { m{([^/]+?)(?:\.so)?$} } split ' ', $LoadModules // '';
    my @problems;
    for my $file (glob "$LogDir/valgrind.*.log") {
        open my $in, '<', $file or next;
        my $text = do { local $/; <$in> };
        close $in;
        unlink $file;
        next if $text !~ /\S/;
        print STDERR $text;
        for my $record (split /^==\d+==\s*\n/m, $text) {
            my ($head) = $record =~ /^==\d+== (\S.*)/m or next;
            next if $head =~ /^Warning:/;
            next if $head =~ /definitely lost/
                    && !grep { index($record, $_) >= 0 } @stems;
            push @problems, $head;
        }
    }
    return if !@problems;
    Test::More->builder->no_ending(1);
    Test::More::fail("$name - valgrind: " . join '; ', @problems);
}

sub check_prev_block_shutdown_error_log () {
    my $block = $PrevBlock or return;
    return if !defined $block->shutdown_error_log
              && !defined $block->no_shutdown_error_log;
    $CheckShutdownErrorLog->($block, $UseHup || $ENV{TEST_NGINX_NO_CLEAN});
}

# TEST_NGINX_USE_HUP: reload the running nginx with the new block's
# configuration, then wait until /ver answers with it steadily (old
# workers may still answer for a while).
sub reload_nginx ($$$$) {
    my ($block, $config, $rand_ports, $pid) = @_;
    my $name = $block->name;

    setup_server_root(0);
    run_customer_init_script($block);
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    kill 'USR1', $pid or return 0;    # reopen the logs setup removed
    sleep $TestNginxSleep;
    kill 'HUP', $pid or return 0;
    sleep $TestNginxSleep * 3;

    if (defined $block->reload_fails) {
        sleep 0.3;
    } else {
        my $in_a_row = 0;
        for my $try (1 .. 200) {
            my $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                PeerPort => $ServerPort, Timeout => 2);
            my $resp = '';
            if ($sock) {
                print $sock "GET /ver HTTP/1.0\r\nHost: Test-Nginx\r\n\r\n";
                $resp = do { local $/; <$sock> } // '';
            }
            my ($ver) = $resp =~ /\r\n\r\n(.*)\z/s;
            if (defined $ver && $ver eq $ConfigVersion) {
                last if ++$in_a_row >= 20;
                next;
            }
            $in_a_row = 0;
            my $wait = ($TestNginxSleep + $TestNginxSleep * $try) * $try / 2;
            sleep($wait > 1 ? 1 : $wait);
        }
        if ($in_a_row < 20) {
            Test::More->builder->no_ending(1);
            Test::More::fail("$name - failed to reload configuration after "
                             . "200 failed test requests");
        }
    }

    check_prev_block_shutdown_error_log();
    return 1;
}

# Starts nginx for a block.  Returns false when no requests are to be sent
# (a --- must_die block, already checked here).
sub start_nginx ($$$$) {
    my ($block, $config, $rand_ports, $first_time) = @_;
    my $name = $block->name;
    my $must_die = $block->must_die;

    $ConfigVersion = join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 10
        if $UseHup;

    if (-f $PidFile) {
        my $pid = get_pid_from_pidfile($name);
        if ($pid ne '' && is_running($pid)) {
            return 1 if $UseHup && !$first_time
                        && reload_nginx($block, $config, $rand_ports, $pid);
            kill_process($pid, 1, $name);
        } else {
            unlink $PidFile;
        }
    }

    check_prev_block_shutdown_error_log();
    setup_server_root($first_time);
    run_customer_init_script($block);
    write_user_files($block, $rand_ports);
    write_config_file($block, $config, $rand_ports);

    bail_out("$name - Cannot find the nginx executable in the PATH "
             . "environment") if !can_run($NginxBinary);

    my $cmd = "$NginxBinary -e $ErrLogFile -p $ServRoot/ -c $ConfFile "
              . "> /dev/null";
    $cmd .= ' 2> /dev/null' if defined $block->suppress_stderr;

    if ($UseValgrind) {
        my $opts = $UseValgrind;
        if ($UseValgrind =~ /^\d+$/) {
            $opts = '--num-callers=100 --tool=memcheck --leak-check=full '
                    . '--keep-debuginfo=yes --show-possibly-lost=no '
                    . '--gen-suppressions=all';
            $opts .= ' --suppressions=valgrind.suppress'
                if -f 'valgrind.suppress';
        }
        $opts .= " --log-file=$LogDir/valgrind.%p.log"
            if $opts !~ /--log-(?:file|fd|socket)/;
        warn "$name\n";

        my $pid = fork // bail_out("$name - fork() failed: $!");
        if ($pid == 0) {
            setpgrp;
            exec "exec valgrind -q $opts $cmd" or POSIX::_exit(127);
        }
        $ChildPid = $pid;
        sleep $TestNginxSleep;
        return 1;
    }

    $ErrLogFilePos = 0;
    my ($i, $waited) = (0, 0);

    while (1) {
        system $cmd;
        my $status = $?;

        if (defined $must_die) {
            my $exit_code = $status >> 8;
            if ($status == -1) {
                Test::More::fail("$name - failed to execute the nginx "
                                 . "command line");
            } elsif ($status & 128) {
                Test::More::fail("$name - nginx core dumped");
            } elsif (looks_like_number($must_die)) {
                Test::More::is($must_die, $exit_code,
                               "$name - die with the expected exit code");
            } else {
                Test::More::isnt($status, 0, "$name - die as expected");
            }

            $CheckErrorLog->($block, undef, 0, $i, 0);

            if ($status == 0) {
                warn "WARNING: $name - nginx must die but it does not; "
                     . "killing it (req $i)\n";
                for (1 .. 15) {
                    last if -f $PidFile;
                    sleep $TestNginxSleep;
                }
                kill_process(get_pid_from_pidfile($name), 1, $name);
            }
            next if ++$i < $RepeatEach;
            return 0;
        }

        last if $status == 0;

        # A port still held by the previous nginx clears up; anything else
        # (a bad configuration) will not, so give up at once.
        my $log = do { local (@ARGV, $/) = ($ErrLogFile); <> } // '';
        if ($log =~ /Address already in use/ && $waited < 10) {
            my $delay = 0.1 * ++$i;
            sleep $delay;
            $waited += $delay;
            next;
        }
        bail_out("$name - Cannot start nginx using command \"$cmd\" "
                 . "(status code $status).");
    }

    sleep $TestNginxSleep;
    return 1;
}

# ---- test blocks -------------------------------------------------------------

my %Cmp = ('<' => sub { $_[0] < $_[1] }, '<=' => sub { $_[0] <= $_[1] },
           '>' => sub { $_[0] > $_[1] }, '>=' => sub { $_[0] >= $_[1] });

sub version_is ($$$) {
    my ($have, $op, $want) = @_;
    return !defined $have ? $op =~ /^</ : $Cmp{$op}->($have, $want);
}

# --- skip_eval / skip_nginx / skip_nginx2 / skip_openssl / todo: returns
# (skip?, todo?, how many tests, reason).
sub skip_or_todo ($) {
    my $block = shift;
    my $name = $block->name;
    my $ver = qr/([<>]=?)\s*(\d+)\.(\d+)\.(\d+)/;
    my ($skip, $todo, $n, $reason);

    if (defined(my $spec = $block->skip_eval)) {
        if ($spec =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            ($n, $reason) = ($1, 'skip_eval');
            $skip = eval $2;
            bail_out("$name - skip_eval - failed to eval the Perl code "
                     . "\"$2\": $@") if $@;
        }
    }

    if (defined(my $spec = $block->skip_nginx)) {
        $spec =~ /^\s*(\d+)\s*:\s*$ver(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx spec: $spec");
        ($n, $reason) = ($1, $6 || "nginx version $2 $3.$4.$5");
        $skip = 1 if version_is($NginxVersion, $2, canon_version($3, $4, $5));
    } elsif (defined($spec = $block->skip_nginx2)) {
        $spec =~ /^\s*(\d+)\s*:\s*$ver\s*(or|and)\s*$ver(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_nginx2 spec: $spec");
        $n = $1;
        $reason = $11;
        my $x = version_is($NginxVersion, $2, canon_version($3, $4, $5));
        my $y = version_is($NginxVersion, $7, canon_version($8, $9, $10));
        $skip = 1 if !defined $NginxVersion
                     || ($6 eq 'or' ? $x || $y : $x && $y);
    }

    if (defined(my $spec = $block->skip_openssl)) {
        $spec =~ /^\s*(\d+)\s*:\s*$ver([a-z])?(?:\s*:\s*(.*))?\s*$/
            or bail_out("$name - Invalid --- skip_openssl spec: $spec");
        $n = $1;
        $reason = $7 || (defined $OpenSSLVersion
            ? "OpenSSL version $2 $3.$4.$5" . ($6 // '')
            : 'Not built with OpenSSL');
        $skip = 1 if !defined $OpenSSLVersion
            || $Cmp{$2}->($OpenSSLVersion, canon_version($3, $4, $5, $6));
    }

    if (defined(my $spec = $block->todo)) {
        $spec =~ /^\s*(\d+)\s*:\s*(.*)/s
            or bail_out("$name - Invalid --- todo spec: $spec");
        ($todo, $n, $reason) = (1, $1, $2);
    }

    return ($skip, $todo, $n, $reason || 'various reasons');
}

sub run_test ($) {
    my $block = shift;
    return if defined $block->SKIP;

    my $name = $block->name;
    my $first_time = $FirstTime;
    $FirstTime = 0;

    my $rand_ports = $RandPorts = {};
    my $config = expand_env_in_text($block->config, $name, $rand_ports);

    local $LogLevel = $block->log_level || $LogLevel;
    local $UseValgrind = defined $block->must_die ? undef : $UseValgrind;
    local $UseHup = defined $block->must_die ? undef : $UseHup;

    my ($skip, $todo, $n, $reason) = skip_or_todo($block);

    # A block without --- config reuses the nginx of the block before, as
    # upstream does; a skipped one does not start nginx at all.
    if (!defined $config) {
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one. Use TEST_NGINX_NO_NGINX_MANAGER ?")
            if !$NoNginxManager && !defined $PrevConfig;
    } elsif ($NoNginxManager) {
        Test::More::diag("NO_NGINX_MANAGER activated: config for $name "
                         . "ignored");
    } elsif (!$skip && ($ForceRestartOnTest || !defined $PrevConfig
                        || $config ne $PrevConfig))
    {
        $PrevConfig = $config;
        start_nginx($block, $config, $rand_ports, $first_time) or return;
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $i (0 .. $RepeatEach - 1) {
        write_user_files($block, $rand_ports) if $i > 0;

        if ($skip && defined $n) {
            SKIP: { Test::More::skip("$name - $reason", $n) }
        } elsif ($todo) {
            TODO: { Test::More::todo_skip("$name - $reason", $n) }
        } else {
            $RunTestHelper->($block, 0, $i);
        }
    }

    stop_valgrind_nginx($name) if $UseValgrind && !$UseHup;
}

sub cleanup () {
    $_->() for @CleanupHandlers;
    stop_valgrind_nginx('cleanup') if defined $ChildPid;
}

sub run_tests () {
    $RunTestsCalled = 1;
    srand($$ + time * 1000000);
    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} //= $ServerPort;

    my @blocks = Test::Base::blocks();
    @blocks = shuffle @blocks if !$NoShuffle;

    for my $block (@blocks) {
        $_->($block) for @BlockPreprocessors;
        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
        $_->($block) for @TestCleanupHandlers;
        $PrevBlock = $block;
    }

    cleanup();
}

# Stop the last nginx unless TEST_NGINX_NO_CLEAN asks to keep it for
# poking at.  Only in a process that ran tests: merely loading this module
# (e.g. `perl -MTest::Nginx::Socket -e1` to see whether upstream is
# installed) must not stop anyone's nginx.
END {
    if ($RunTestsCalled) {
        local $?;
        cleanup();
        if ($UseValgrind || !$ENV{TEST_NGINX_NO_CLEAN}) {
            if (-f $PidFile) {
                my $pid = get_pid_from_pidfile('');
                if ($pid ne '' && is_running($pid)) {
                    kill_process($pid, 1, 'END');
                } else {
                    unlink $PidFile;
                }
            }
        }
        check_prev_block_shutdown_error_log();
        remove_tree($ServRoot) if $Randomize && $ServRoot =~ m{/t/servroot_\d+$};
    }
}

1;
