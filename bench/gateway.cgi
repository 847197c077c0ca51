#!/usr/bin/perl
# Copyright (C) 2026 Seed 79e7e746 maintainers

# The CGI anchor of the benchmark: the module's job as a CGI script that
# fcgiwrap runs behind fastcgi_pass. It reads the JSON body, runs the
# program named by CLI_GATEWAY_PROGRAM (a fastcgi_param) without a shell in
# its own process group, and prints the same SSE bytes, one chunk per read.
use strict;
use warnings;
use JSON::XS ();

my $program = $ENV{CLI_GATEWAY_PROGRAM} or die "no CLI_GATEWAY_PROGRAM\n";
my $json = JSON::XS->new->utf8->allow_nonref;

sub reply_error {
    my ($status, $code, $message) = @_;
    print "Status: $status\r\nContent-Type: application/json\r\n\r\n",
          $json->encode({ code => $code, message => $message });
    exit 0;
}

sub event { "event: cli\ndata: $_[0]\n\n" }

reply_error(403, 'forbidden', 'Admin role required for CLI gateway')
    unless ($ENV{HTTP_X_ROLE} // '') eq 'admin';

my $body = '';
read STDIN, $body, $ENV{CONTENT_LENGTH} // 0;
my $request = eval { JSON::XS::decode_json($body) };
reply_error(400, 'bad_request', 'Invalid JSON') unless defined $request;

my $args = ref $request eq 'HASH' ? $request->{args} : undef;
reply_error(422, 'validation_error', 'args must be strings')
    unless ref $args eq 'ARRAY'
        && !grep { !defined || ref || /\0/ } @$args;

pipe my $out_r, my $out_w or die "pipe: $!\n";
pipe my $err_r, my $err_w or die "pipe: $!\n";

my $pid = fork // die "fork: $!\n";

if ($pid == 0) {
    setpgrp 0, 0;
    open STDIN, '<', '/dev/null';
    open STDOUT, '>&', $out_w;
    open STDERR, '>&', $err_w;
    exec { $program } $program, @$args;
    exit 127;
}

close $out_w;
close $err_w;

$| = 1;
print "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n",
      "X-Accel-Buffering: no\r\n\r\n", event(qq({"type":"started","pid":$pid}));

# One stdout or stderr event for a line without its "\n" (one "\r" dropped).
sub frame {
    my ($type, $line) = @_;
    $line =~ s/\r\z//;
    unless (utf8::decode($line)) {
        require Encode;                         # lossy: U+FFFD
        $line = Encode::decode('UTF-8', $line);
    }
    return event(qq({"type":"$type","data":) . $json->encode("$line\n") . '}');
}

my %open = (fileno($out_r) => [$out_r, 'stdout', ''],
            fileno($err_r) => [$err_r, 'stderr', '']);

while (%open) {
    my $bits = '';
    vec($bits, $_, 1) = 1 for keys %open;
    next unless select(my $ready = $bits, undef, undef, undef) > 0;

    for my $fd (keys %open) {
        next unless vec($ready, $fd, 1);
        my $pipe = $open{$fd};
        my $n = sysread $pipe->[0], my $chunk, 65536;
        my $out = '';

        if (!$n) {
            $out = frame($pipe->[1], $pipe->[2]) if length $pipe->[2];
            delete $open{$fd};
        } else {
            my @lines = split /\n/, $pipe->[2] . $chunk, -1;
            $pipe->[2] = pop @lines;
            $out .= frame($pipe->[1], $_) for @lines;
        }

        print $out;
    }
}

waitpid $pid, 0;
my $code = $? & 127 ? -1 : $? >> 8;
print event(qq({"type":"exit_code","code":$code}));
