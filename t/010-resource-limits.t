# Copyright (C) 2026 Seed 79e7e746 maintainers

# The child's resource limits and niceness, in force from its first
# instruction and out of its reach (soft and hard limit alike).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: every limit, soft and hard, and the niceness, as the program sees them
--- http_config
    cli_gateway_rlimit_nofile 64;
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_cpu 7s;
        cli_gateway_rlimit_as 512m;
        cli_gateway_priority 5;
    }
--- request
POST /cli
{"args": ["-c", "for o in St Ht Sv Hv Sn Hn; do echo $o $(ulimit -$o); done; echo nice $(cut -d' ' -f19 /proc/$$/stat); ulimit -n 65 2>&1; echo after $(ulimit -Sn) $(ulimit -Hn)"]}
--- sse
started
stdout St 7
stdout Ht 7
stdout Sv 524288
stdout Hv 524288
stdout Sn 64
stdout Hn 64
stdout nice 5
stdout /bin/sh: 1: ulimit: error setting limit (Operation not permitted)
stdout after 64 64
exit_code 0



=== TEST 2: a location without limits leaves the worker's own
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
    location = /limited {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_nofile 64;
    }
--- request
POST /cli
{"args": ["-c", "echo $(ulimit -Sn) $(ulimit -Hn) > /tmp/x.$$; awk '/^Max open files/ { print $4, $5 }' /proc/$PPID/limits | cmp -s - /tmp/x.$$ && echo same as the worker; rm /tmp/x.$$; cut -d' ' -f19 /proc/$$/stat"]}
--- sse
started
stdout same as the worker
stdout 0
exit_code 0



=== TEST 3: the CPU limit ends a busy program with SIGKILL
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_cpu 1s;
    }
--- request
POST /cli
{"args": ["-c", "echo spinning; while :; do :; done"], "timeout_secs": 30}
--- sse
started
stdout spinning
exit_code -1
--- error_log eval
qr/cli_gateway: pid \d+ killed by signal 9/
--- timeout: 15



=== TEST 4: the address space limit makes a large allocation fail
--- config
    location = /cli {
        cli_gateway /usr/bin/python3;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_as 256m;
    }
--- request
POST /cli
{"args": ["-c", "import sys\ntry:\n    b = bytearray(512 << 20)\nexcept MemoryError:\n    print('MemoryError'); sys.exit(3)"]}
--- sse
started
stdout MemoryError
exit_code 3



=== TEST 5: a limit the kernel refuses: the program does not run
Above fs.nr_open, refused even to root. The run is a spawn failure.
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_nofile 1073741824;
    }
--- request
POST /cli
{"args": ["-c", "echo ran"]}
--- sse
error Operation not permitted (os error 1)
exit_code 1
--- error_log
could not start "/bin/sh"



=== TEST 6: cli_gateway_priority outside -20..19
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_priority 20;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_priority" must be a number from -20 to 19, not "20"



=== TEST 7: cli_gateway_priority that is not a number
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_priority -x;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_priority" must be a number from -20 to 19, not "-x"



=== TEST 8: a zero CPU limit
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_cpu 0;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_rlimit_cpu" directive must be at least 1s



=== TEST 9: a zero address space limit
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_as 0;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_rlimit_as" directive must be greater than 0



=== TEST 10: a zero open files limit
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_rlimit_nofile 0;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_rlimit_nofile" directive must be at least 1
