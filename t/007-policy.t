# Copyright (C) 2026 Seed 79e7e746 maintainers

# cli_gateway_allow / cli_gateway_deny: what the operator lets run.

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an allowed command runs, with more args after the rule
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_allow agents list;
        cli_gateway_allow logs;
    }
--- request
POST /cli
{"args": ["agents", "list", "--json"]}
--- sse
started
stdout agents list --json
exit_code 0



=== TEST 2: a command no allow rule covers is 403 and is not run
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_user $http_x_user;
        cli_gateway_allow agents list;
        cli_gateway_allow logs;
    }
--- more_headers
X-Role: admin
X-User: bob
Content-Type: application/json
--- request
POST /cli
{"args": ["agents", "delete", "all"]}
--- error_code: 403
--- json_error
forbidden
Command not allowed by any cli_gateway_allow rule
--- error_log
cli_gateway: refused user "bob" args ["agents","delete","all"]: Command not allowed by any cli_gateway_allow rule
--- no_error_log
started pid



=== TEST 3: a deny rule wins over an allow rule, and is named
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_allow db;
        cli_gateway_deny db drop;
    }
--- request
POST /cli
{"args": ["db", "drop", "users"]}
--- error_code: 403
--- json_error
forbidden
Command refused by cli_gateway_deny \"db drop\"
--- no_error_log
started pid



=== TEST 4: deny alone leaves the rest allowed
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_deny db drop;
    }
--- request
POST /cli
{"args": ["db", "migrate"]}
--- sse
started
stdout db migrate
exit_code 0



=== TEST 5: empty args match no allow rule
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
        cli_gateway_allow logs;
    }
--- request
POST /cli
{"args": []}
--- error_code: 403
--- json_error
forbidden
Command not allowed by any cli_gateway_allow rule



=== TEST 6: rules are inherited from the server level
--- config
    cli_gateway_deny rm;

    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_admin_claim $http_x_role admin;
    }
--- request
POST /cli
{"args": ["rm", "-rf", "/"]}
--- error_code: 403
--- json_error
forbidden
Command refused by cli_gateway_deny \"rm\"
