# Copyright (C) 2026 Seed 79e7e746 maintainers

# Misconfiguration fails at nginx -t with a message naming the directive.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: cli_gateway without cli_gateway_admin_claim
--- config
    location = /cli {
        cli_gateway /bin/sh;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway" in
needs "cli_gateway_admin_claim"



=== TEST 2: a relative program path
--- config
    location = /cli {
        cli_gateway bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway" needs an absolute program path, "bin/sh" is not



=== TEST 3: an admin claim without a variable would admit everyone
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim admin admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_admin_claim" value "admin" has no variable



=== TEST 4: cli_gateway_admin_claim needs an accepted value
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role;
    }
--- request
POST /cli
--- must_die
--- error_log
invalid number of arguments in "cli_gateway_admin_claim" directive



=== TEST 5: an environment name with "="
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_env A=B c;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_env" name "A=B" must not contain "=" or NUL



=== TEST 6: an unknown stop signal
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_stop_signal BOGUS;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_stop_signal": unknown signal "BOGUS"



=== TEST 7: a relative working directory
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_working_directory tmp;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_working_directory" must be an absolute path, "tmp" is not



=== TEST 8: a bad timeout value
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_timeout forever;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_timeout" directive invalid value



=== TEST 9: a line limit below the minimum
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_line_max 8;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_line_max" directive must be at least 64



=== TEST 10: a program that is not there yet only warns, and runs report it
--- config
    location = /cli {
        cli_gateway /nonexistent/later;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": []}
--- sse
error No such file or directory (os error 2)
exit_code 1
--- error_log
"cli_gateway" program "/nonexistent/later" is not executable now



=== TEST 11: the admin claim is inherited from the server level
--- config
    cli_gateway_admin_claim $http_x_role admin;

    location = /cli {
        cli_gateway /bin/echo;
    }
--- request
POST /cli
{"args": ["inherited"]}
--- sse
started
stdout inherited
exit_code 0



=== TEST 12: cli_gateway twice in one location
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway" directive is duplicate
