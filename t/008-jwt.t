# Copyright (C) 2026 Seed 79e7e746 maintainers

# cli_gateway_jwt: tokens verified with OpenSSL; claims as variables.
# Keys and tokens are made at test time (t/lib/CliGatewayJwt.pm).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;
use CliGatewayJwt;

our $now = time;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an HS256 admin token runs the program; claims reach its environment
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
        cli_gateway_env SYSTEMPROMPT_USER_ID $cli_gateway_jwt_claim_sub;
        cli_gateway_env SYSTEMPROMPT_SESSION_ID $cli_gateway_jwt_claim_session_id;
        cli_gateway_env SCOPE $cli_gateway_jwt_claim_scope;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"sub":"u-1","session_id":"s-9","user_type":"admin","scope":["admin","user"],"exp":@{[ $main::now + 3600 ]}}))
--- request
POST /cli
{"args": ["-c", "echo $SYSTEMPROMPT_USER_ID $SYSTEMPROMPT_SESSION_ID $SCOPE"]}
--- sse
started
stdout u-1 s-9 [\"admin\",\"user\"]
exit_code 0



=== TEST 2: a valid token without the admin claim is 403
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"sub":"u-2","user_type":"user"}))
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 403
--- json_error
forbidden
Admin role required for CLI gateway
--- no_error_log
started pid



=== TEST 3: no token is 401 with a bare Bearer challenge
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers
Content-Type: application/json
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer
--- json_error
unauthorized
Missing token
--- no_error_log
started pid



=== TEST 4: a wrong signature is 401 invalid_token
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin"}), secret => "another secret of at least thirty-two bytes")
--- request
POST /cli
{"args": ["-c", "echo never"]}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- json_error
unauthorized
Invalid token: bad signature
--- error_log
cli_gateway: refused, invalid token: bad signature
--- no_error_log
started pid



=== TEST 5: an expired token is 401, a leeway admits it
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }

    location = /lenient {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_jwt_leeway 120s;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":@{[ $main::now - 60 ]}}))
--- request eval
["POST /cli\n{\"args\": []}", "POST /lenient\n{\"args\": [\"late\"]}"]
--- error_code eval
[401, 200]
--- response_body_like eval
[qr/"message":"Invalid token: expired"/, qr/"data":"late\\n"/]



=== TEST 6: a token not valid yet is 401
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","nbf":@{[ $main::now + 600 ]}}))
--- request
POST /cli
{"args": []}
--- error_code: 401
--- json_error
unauthorized
Invalid token: not valid yet



=== TEST 7: alg "none" is refused
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("none", qq({"user_type":"admin"}))
--- request
POST /cli
{"args": []}
--- error_code: 401
--- json_error
unauthorized
Invalid token: algorithm none not accepted



=== TEST 8: HS256 signed with the RSA public key's bytes is refused by an RS256 location
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key RS256 $TEST_NGINX_JWT_DIR/rsa.pub;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
open my $pub, '<', "$CliGatewayJwt::dir/rsa.pub" or die;
my $bytes = do { local $/; <$pub> };
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin"}), secret => $bytes)
--- request
POST /cli
{"args": []}
--- error_code: 401
--- json_error
unauthorized
Invalid token: algorithm HS256 not accepted



=== TEST 9: RS256 and ES256 tokens, issuer and audience
--- config
    location = /rs {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key RS256 $TEST_NGINX_JWT_DIR/rsa.pub;
        cli_gateway_jwt_issuer https://auth.example;
        cli_gateway_jwt_audience cli;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }

    location = /es {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_x_token;
        cli_gateway_jwt_key ES256 $TEST_NGINX_JWT_DIR/ec.pub;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
[
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","iss":"https://auth.example","aud":["api","cli"]})),
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","iss":"https://evil.example","aud":"cli"})),
"Content-Type: application/json\nX-Token: "
. CliGatewayJwt::jwt("ES256", qq({"user_type":"admin","exp":@{[ $main::now + 60 ]}})),
"Content-Type: application/json\nX-Token: "
. CliGatewayJwt::jwt("ES256", qq({"user_type":"admin"}), sign_as => "HS256"),
]
--- request eval
[
"POST /rs\n{\"args\": [\"rs256\"]}",
"POST /rs\n{\"args\": [\"rs256\"]}",
"POST /es\n{\"args\": [\"es256\"]}",
"POST /es\n{\"args\": [\"es256\"]}",
]
--- error_code eval
[200, 401, 200, 401]
--- response_body_like eval
[
qr/"data":"rs256\\n"/,
qr/"message":"Invalid token: wrong issuer"/,
qr/"data":"es256\\n"/,
qr/"message":"Invalid token: bad signature"/,
]



=== TEST 10: a JWK Set: the token's kid picks the key
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key JWKS $TEST_NGINX_JWT_DIR/jwks.json;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
[
map { "Content-Type: application/json\nAuthorization: Bearer $_" }
CliGatewayJwt::jwt("RS256", '{"user_type":"admin"}',
                   header => '{"alg":"RS256","kid":"rsa-1"}'),
CliGatewayJwt::jwt("ES256", '{"user_type":"admin"}',
                   header => '{"alg":"ES256","kid":"ec-1"}'),
CliGatewayJwt::jwt("RS256", '{"user_type":"admin"}',
                   header => '{"alg":"RS256","kid":"ec-1"}'),
CliGatewayJwt::jwt("RS256", '{"user_type":"admin"}',
                   header => '{"alg":"RS256","kid":"rsa-2"}'),
CliGatewayJwt::jwt("RS256", '{"user_type":"admin"}'),
]
--- request eval
[ ("POST /cli\n{\"args\": [\"ran\"]}") x 5 ]
--- error_code eval
[200, 200, 401, 401, 401]
--- response_body_like eval
[
qr/"data":"ran\\n"/,
qr/"data":"ran\\n"/,
qr/"message":"Invalid token: algorithm RS256 not accepted"/,
qr/"message":"Invalid token: unknown key id"/,
qr/"message":"Invalid token: no key id"/,
]



=== TEST 11: a JWK Set without a usable key fails nginx -t
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key JWKS $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_jwt_key" "
hs.secret": not a JWK Set: no "keys" array



=== TEST 12: cli_gateway_jwt without a key fails nginx -t
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_jwt" needs "cli_gateway_jwt_key"



=== TEST 13: a key of the wrong type fails nginx -t
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key RS256 $TEST_NGINX_JWT_DIR/ec.pub;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- request
POST /cli
--- must_die
--- error_log
an RS256 key must be an RSA public key



=== TEST 14: a short HS256 secret fails nginx -t
--- config
    location = /cli {
        cli_gateway /bin/sh;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 /etc/hostname;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- request
POST /cli
--- must_die
--- error_log
an HS256 secret needs at least 32 bytes



=== TEST 15: claims from a token cannot forge an error.log line
(At info: nginx's own debug lines print variables as they are.)
--- log_level: info
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
        cli_gateway_user $cli_gateway_jwt_claim_sub;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", '{"sub":"eve\"\n[alert] sub","user_type":"user\n[alert] claim"}')
--- request
POST /cli
{"args": []}
--- error_code: 403
--- error_log
cli_gateway: refused user "eve\"\x0a[alert] sub", admin claim "user\x0a[alert] claim" not accepted
--- no_error_log eval
qr/^\[alert\]/



=== TEST 16: a token's header cannot forge an error.log line
--- log_level: info
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key HS256 $TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", '{}', header => '{"alg":"HS256\n[alert] alg"}')
--- request
POST /cli
{"args": []}
--- error_code: 401
--- error_log
cli_gateway: refused, invalid token: algorithm HS256\x0a[alert] alg not accepted
--- no_error_log eval
qr/^\[alert\]/
