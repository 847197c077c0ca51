# Copyright (C) 2026 Seed 79e7e746 maintainers

# cli_gateway_jwt: tokens verified with OpenSSL; claims as variables.
# Keys and tokens are made at test time (t/lib/CliGatewayJwt.pm).

use lib 't/lib';
use Test::Nginx::Socket 'no_plan';
use CliGateway;
use CliGatewayJwt;

our $now = time;
our $exp = $now + 3600;     # exp is required unless cli_gateway_jwt_require says not

# A location at URI running PROGRAM for an HS256 token whose user_type is
# admin, with EXTRA directives.
sub hs256_location {
    my ($uri, $program, $extra) = @_;
    $extra = join '', map { "        $_\n" } split /\n/, $extra // '';
    return <<"CONF";
    location = $uri {
        cli_gateway $program;
        cli_gateway_jwt \$http_authorization;
        cli_gateway_jwt_key HS256 \$TEST_NGINX_JWT_DIR/hs.secret;
        cli_gateway_admin_claim \$cli_gateway_jwt_claim_user_type admin;
$extra    }
CONF
}

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
. CliGatewayJwt::jwt("HS256", qq({"sub":"u-2","user_type":"user","exp":$main::exp}))
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
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":$main::exp,"nbf":@{[ $main::now + 600 ]}}))
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
. CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","iss":"https://auth.example","aud":["api","cli"],"exp":$main::exp})),
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","iss":"https://evil.example","aud":"cli","exp":$main::exp})),
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
CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","exp":$main::exp}),
                   header => '{"alg":"RS256","kid":"rsa-1"}'),
CliGatewayJwt::jwt("ES256", qq({"user_type":"admin","exp":$main::exp}),
                   header => '{"alg":"ES256","kid":"ec-1"}'),
CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","exp":$main::exp}),
                   header => '{"alg":"RS256","kid":"ec-1"}'),
CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","exp":$main::exp}),
                   header => '{"alg":"RS256","kid":"rsa-2"}'),
CliGatewayJwt::jwt("RS256", qq({"user_type":"admin","exp":$main::exp})),
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
. CliGatewayJwt::jwt("HS256", '{"sub":"eve\"\n[alert] sub","user_type":"user\n[alert] claim","exp":' . $main::exp . '}')
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



=== TEST 17: a NUL in the header's alg refuses the token, logged escaped
--- log_level: info
--- config eval
main::hs256_location('/cli', '/bin/echo')
--- more_headers eval
"Content-Type: application/json\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":$main::exp}),
                     header => '{"alg":"HS256\u0000x","typ":"JWT"}')
--- request
POST /cli
{"args": ["never"]}
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer error="invalid_token"
--- json_error
unauthorized
Invalid token: bad header: a NUL in a string
--- error_log
cli_gateway: refused, invalid token: bad header: a NUL in a string
--- no_error_log
started pid



=== TEST 18: a NUL in iss, in aud or in an aud array refuses the token
A C string comparison would stop at the NUL and take "https://issuer" and
"cli-gw".
--- config eval
main::hs256_location('/cli', '/bin/echo', <<'EXTRA')
cli_gateway_jwt_issuer https://issuer;
cli_gateway_jwt_audience cli-gw;
EXTRA
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":$main::exp,$_})) }
  '"iss":"https://issuer\u0000evil","aud":"cli-gw"',
  '"iss":"https://issuer","aud":"cli-gw\u0000evil"',
  '"iss":"https://issuer","aud":["api","cli-gw\u0000evil"]',
  '"iss":"https://issuer","aud":["api","cli-gw"]' ]
--- request eval
[ ("POST /cli\n{\"args\": [\"ran\"]}") x 4 ]
--- error_code eval
[401, 401, 401, 200]
--- response_body_like eval
[ (qr/"message":"Invalid token: bad claims: a NUL in a string"/) x 3,
  qr/"data":"ran\\n"/ ]



=== TEST 19: a NUL in the admin claim or in a claim bound for the environment refuses the token
--- config eval
main::hs256_location('/cli', '/bin/sh', <<'EXTRA')
cli_gateway_env SYSTEMPROMPT_USER_ID $cli_gateway_jwt_claim_sub;
EXTRA
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", qq({"exp":$main::exp,$_})) }
  '"user_type":"admin\u0000x","sub":"u-1"',
  '"user_type":"admin","sub":"x\u0000EVIL=1"',
  '"user_type":"admin","sub":"x"' ]
--- request eval
[ ("POST /cli\n{\"args\": [\"-c\", \"echo \$SYSTEMPROMPT_USER_ID\"]}") x 3 ]
--- error_code eval
[401, 401, 200]
--- response_body_like eval
[ (qr/"message":"Invalid token: bad claims: a NUL in a string"/) x 2,
  qr/"data":"x\\n"/ ]



=== TEST 20: a name given twice refuses the token: alg in the header, claims at any depth
RFC 7515 4: a JWS with duplicate header names is rejected; the claims
follow the same rule (RFC 7519 4), whichever member comes first.
--- config eval
main::hs256_location('/cli', '/bin/echo')
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer $_" }
  (map { CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":$main::exp}),
                            header => $_) }
   '{"alg":"HS256","typ":"JWT","alg":"none"}',
   '{"alg":"none","typ":"JWT","alg":"HS256"}',
   '{"alg":"HS256","\u0061lg":"HS256"}',
   '{"alg":"HS256","typ":"JWT","typ":"JWT"}'),
  (map { CliGatewayJwt::jwt("HS256", $_) }
   qq({"user_type":"admin","user_type":"user","exp":$main::exp}),
   qq({"user_type":"user","user_type":"admin","exp":$main::exp}),
   qq({"user_type":"admin","exp":$main::exp,"exp":1}),
   qq({"user_type":"admin","exp":$main::exp,"scope":{"a":1,"a":2}})) ]
--- request eval
[ ("POST /cli\n{\"args\": [\"never\"]}") x 8 ]
--- error_code eval
[ (401) x 8 ]
--- response_body_like eval
[ (qr/"message":"Invalid token: bad header: a name given twice"/) x 4,
  (qr/"message":"Invalid token: bad claims: a name given twice"/) x 4 ]
--- no_error_log
started pid



=== TEST 21: claim names are case-sensitive: USER_TYPE is not user_type
nginx lowercases variable names, so $cli_gateway_jwt_claim_User_Type is the
user_type member too, and never USER_TYPE or User_Type.
--- config eval
main::hs256_location('/cli', '/bin/sh', <<'EXTRA')
cli_gateway_env ROLE $cli_gateway_jwt_claim_User_Type;
EXTRA
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", qq({"exp":$main::exp,$_})) }
  '"USER_TYPE":"admin","user_type":"user"',
  '"USER_TYPE":"admin"',
  '"User_Type":"admin","user_type":"user"',
  '"USER_TYPE":"evil","user_type":"admin","User_Type":"evil"' ]
--- request eval
[ ("POST /cli\n{\"args\": [\"-c\", \"echo \$ROLE\"]}") x 4 ]
--- error_code eval
[403, 403, 403, 200]
--- response_body_like eval
[ (qr/"message":"Admin role required for CLI gateway"/) x 3,
  qr/"data":"admin\\n"/ ]



=== TEST 22: exp is required by default; infinite, huge and mistyped times are refused
--- config eval
main::hs256_location('/cli', '/bin/echo')
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", qq({"user_type":"admin"$_})) }
  '',
  ',"exp":null',
  ',"exp":1e400',
  ',"exp":1e308',
  ',"exp":9223372036854775808',
  ',"exp":"' . ($main::now + 60) . '"',
  ",\"exp\":$main::exp,\"nbf\":1e400",
  ",\"exp\":$main::exp,\"iat\":-1e400",
  ",\"exp\":$main::exp,\"iat\":@{[ $main::now + 600 ]}",
  ",\"exp\":$main::exp,\"iat\":$main::now,\"nbf\":$main::now" ]
--- request eval
[ ("POST /cli\n{\"args\": [\"ran\"]}") x 10 ]
--- error_code eval
[401, 401, 401, 401, 401, 401, 401, 401, 401, 200]
--- response_body_like eval
[ qr/"message":"Invalid token: missing claim exp"/,
  qr/"message":"Invalid token: missing claim exp"/,
  (qr/"message":"Invalid token: bad exp"/) x 4,
  qr/"message":"Invalid token: bad nbf"/,
  qr/"message":"Invalid token: bad iat"/,
  qr/"message":"Invalid token: issued in the future"/,
  qr/"data":"ran\\n"/ ]



=== TEST 23: an iat in the future within the leeway is taken
--- config eval
main::hs256_location('/cli', '/bin/echo', <<'EXTRA')
cli_gateway_jwt_leeway 120s;
EXTRA
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", qq({"user_type":"admin","exp":$main::exp,"iat":$_})) }
  $main::now + 30, $main::now + 600 ]
--- request eval
[ ("POST /cli\n{\"args\": [\"ran\"]}") x 2 ]
--- error_code eval
[200, 401]
--- response_body_like eval
[ qr/"data":"ran\\n"/, qr/"message":"Invalid token: issued in the future"/ ]



=== TEST 24: cli_gateway_jwt_require names the claims, or off; inherited
--- http_config
    cli_gateway_jwt_require exp sub;
--- config eval
main::hs256_location('/cli', '/bin/echo')
. main::hs256_location('/off', '/bin/echo', 'cli_gateway_jwt_require off;')
--- more_headers eval
[ map { "Content-Type: application/json\nAuthorization: Bearer "
        . CliGatewayJwt::jwt("HS256", $_) }
  qq({"user_type":"admin","exp":$main::exp}),
  qq({"user_type":"admin","exp":$main::exp,"sub":"u-1"}),
  qq({"user_type":"admin","sub":null,"exp":$main::exp}),
  '{"user_type":"admin"}',
  '{"user_type":"admin","exp":1e400}' ]
--- request eval
[ "POST /cli\n{\"args\": [\"ran\"]}", "POST /cli\n{\"args\": [\"ran\"]}",
  "POST /cli\n{\"args\": [\"ran\"]}", "POST /off\n{\"args\": [\"ran\"]}",
  "POST /off\n{\"args\": [\"ran\"]}" ]
--- error_code eval
[401, 200, 401, 200, 401]
--- response_body_like eval
[ qr/"message":"Invalid token: missing claim sub"/, qr/"data":"ran\\n"/,
  qr/"message":"Invalid token: missing claim sub"/, qr/"data":"ran\\n"/,
  qr/"message":"Invalid token: bad exp"/ ]



=== TEST 25: cli_gateway_jwt_require with "off" among names fails nginx -t
--- config eval
main::hs256_location('/cli', '/bin/echo', <<'EXTRA')
cli_gateway_jwt_require exp off;
EXTRA
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_jwt_require" takes claim names or "off" alone, not "off"



=== TEST 26: cli_gateway_jwt_require naming a claim twice fails nginx -t
--- config eval
main::hs256_location('/cli', '/bin/echo', <<'EXTRA')
cli_gateway_jwt_require exp iat exp;
EXTRA
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_jwt_require" names "exp" twice



=== TEST 27: cli_gateway_jwt_require given twice in one block fails nginx -t
--- config eval
main::hs256_location('/cli', '/bin/echo', <<'EXTRA')
cli_gateway_jwt_require exp;
cli_gateway_jwt_require off;
EXTRA
--- request
POST /cli
--- must_die
--- error_log
"cli_gateway_jwt_require" directive is duplicate



=== TEST 28: a JWK Set with a member given twice fails nginx -t
--- user_files
>>> twice.jwks
{"keys":[{"kty":"oct","kid":"a","k":"YSB0ZXN0IHNlY3JldCBvZiBmb3J0eS10d28gYnl0ZXMsIG5vIGxlc3Mh","k":"eA"}]}
--- config
    location = /cli {
        cli_gateway /bin/echo;
        cli_gateway_jwt $http_authorization;
        cli_gateway_jwt_key JWKS ../html/twice.jwks;
        cli_gateway_admin_claim $cli_gateway_jwt_claim_user_type admin;
    }
--- request
POST /cli
--- must_die
--- error_log
a JWK Set with a name given twice, a NUL or bytes that are not UTF-8



=== TEST 29: Expect: 100-continue without a token: 401 without "100 Continue", connection closed
--- config eval
main::hs256_location('/cli', '/bin/echo')
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\n"
. "Content-Type: application/json\r\nContent-Length: 30\r\n"
. "Expect: 100-continue\r\n\r\n"
--- timeout: 3
--- error_code: 401
--- raw_response_headers_like eval
'\AHTTP/1\.1 401 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
unauthorized
Missing token



=== TEST 30: Expect: 100-continue with a bad token: 401 without "100 Continue"
--- config eval
main::hs256_location('/cli', '/bin/echo')
--- raw_request eval
"POST /cli HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer "
. CliGatewayJwt::jwt("HS256", '{"user_type":"admin"}')
. "\r\nContent-Type: application/json\r\nContent-Length: 30\r\n"
. "Expect: 100-continue\r\n\r\n"
--- timeout: 3
--- error_code: 401
--- raw_response_headers_like eval
'\AHTTP/1\.1 401 [^\r]*\r\n(?:[^\r]+\r\n)*Connection: close\r\n'
--- json_error
unauthorized
Invalid token: missing claim exp
