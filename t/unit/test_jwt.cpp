/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// JWT verification: signatures, algorithm pinning, time and audience rules,
// strict JSON, required claims, and hostile token shapes. RS256 and ES256
// keys are made here in-process.

#include "unit.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include "cligw/jwt.hpp"
#include "jwt_sign.hpp"

using namespace cligw;

static const std::string secret = "0123456789abcdef0123456789abcdef!";

static std::string hs256(std::string_view header, std::string_view claims,
                         const std::string &key = secret)
{
    return hs256_token(header, claims, key);
}

static std::unique_ptr<JwtKey> hs_key()
{
    std::string error;
    auto key = load_jwt_key(JwtAlg::hs256, secret + "\n", error);
    assert_non_null(key.get());
    return key;
}

// Without required claims unless a test names them: the cases below are
// about other rules.
static JwtResult check(std::string_view token, const JwtKey &key,
                       std::time_t now = 1000, long leeway = 0,
                       std::string_view iss = {}, std::string_view aud = {})
{
    JwtRules rules;
    rules.required.clear();
    rules.now = now;
    rules.leeway = leeway;
    rules.issuer = iss;
    rules.audience = aud;
    return verify_jwt(token, one_key(key), rules);
}

static JwtResult check2(std::string_view token, const JwtKeys &keys)
{
    JwtRules rules;
    rules.required.clear();
    rules.now = 1000;
    return verify_jwt(token, keys, rules);
}

static void expect_error2(std::string_view token, const JwtKeys &keys,
                          const char *error)
{
    JwtResult r = check2(token, keys);
    assert_false(r.ok);
    assert_bytes_equal(r.error, error);
}

static void expect_error(std::string_view token, const JwtKey &key,
                         const char *error, std::time_t now = 1000)
{
    JwtResult r = check(token, key, now);
    assert_false(r.ok);
    assert_bytes_equal(r.error, error);
    assert_true(r.claims.empty());
}

static void test_hs256(void **)
{
    auto key = hs_key();
    std::string t = hs256(R"({"alg":"HS256","typ":"JWT"})",
                          R"({"sub":"u-1","user_type":"admin","n":42,)"
                          R"("ok":true,"scope":["a","b"],"exp":2000})");
    JwtResult r = check(t, *key);
    assert_true(r.ok);
    assert_int_equal(r.claims.size(), 6);
    assert_bytes_equal(r.claims[0].first, "sub");
    assert_bytes_equal(r.claims[0].second, "u-1");
    assert_bytes_equal(r.claims[2].second, "42");
    assert_bytes_equal(r.claims[3].second, "true");
    assert_bytes_equal(r.claims[4].second, "[\"a\",\"b\"]");

    // the jwt.io vector, with its own (short) secret
    JwtKey io;
    io.alg = JwtAlg::hs256;
    io.secret = "your-256-bit-secret";
    assert_true(check("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0"
                      "NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MD"
                      "IyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c", io,
                      1516239022).ok);

    expect_error(hs256(R"({"alg":"HS256"})", "{}", secret + "x"), *key,
                 "bad signature");
}

static void test_algorithm_pinning(void **)
{
    auto key = hs_key();
    expect_error(b64url(R"({"alg":"none"})") + "." + b64url("{}") + ".", *key,
                 "algorithm none not accepted");
    expect_error(hs256(R"({"alg":"RS256"})", "{}"), *key,
                 "algorithm RS256 not accepted");
    expect_error(hs256(R"({"typ":"JWT"})", "{}"), *key, "bad header");
    expect_error(hs256(R"({"alg":"hs256"})", "{}"), *key,
                 "algorithm hs256 not accepted");

    JwtAlg alg;
    assert_true(parse_jwt_alg("ES256", alg));
    assert_false(parse_jwt_alg("none", alg));
    assert_false(parse_jwt_alg("HS512", alg));
}

static void test_time_and_audience(void **)
{
    auto key = hs_key();
    std::string t = hs256(R"({"alg":"HS256"})", R"({"exp":1000,"nbf":900})");
    assert_true(check(t, *key, 1000).ok);
    expect_error(t, *key, "expired", 1001);
    expect_error(t, *key, "not valid yet", 899);
    assert_true(check(t, *key, 1030, 30).ok);
    assert_true(check(t, *key, 870, 30).ok);
    expect_error(hs256(R"({"alg":"HS256"})", R"({"exp":"soon"})"), *key,
                 "bad exp");

    std::string a = hs256(R"({"alg":"HS256"})",
                          R"({"iss":"me","aud":["x","cli"]})");
    assert_true(check(a, *key, 0, 0, "me", "cli").ok);
    assert_false(check(a, *key, 0, 0, "you", "cli").ok);
    assert_bytes_equal(check(a, *key, 0, 0, "me", "api").error,
                       "wrong audience");
}

static void test_hostile_shapes(void **)
{
    auto key = hs_key();
    const char *bad[] = { "", ".", "..", "a.b", "a.b.c.d", "!!.e30.x",
                          "e30.e30=.x", "e30.e30.x y", "e30.e30.A" };
    for (const char *t : bad) {
        assert_false(check(t, *key).ok);
    }
    expect_error("e30.e30.", *key, "bad header");
    // valid signature over claims that are not an object
    expect_error(hs256(R"({"alg":"HS256"})", "[1]"), *key, "bad claims");
    // a megabyte of garbage
    assert_false(check(std::string(1 << 20, 'A') + "..", *key).ok);
}

// Two readers of one token must not see two tokens: names given twice
// anywhere, NULs and bytes that are not UTF-8 refuse it, with a valid
// signature and all.
static void test_strict_json(void **)
{
    auto key = hs_key();
    const char *hdr = R"({"alg":"HS256","typ":"JWT"})";

    expect_error(hs256(R"({"alg":"HS256\u0000x"})", "{}"), *key,
                 "bad header: a NUL in a string");
    expect_error(hs256(R"({"alg":"HS256","typ":"JWT","alg":"none"})", "{}"),
                 *key, "bad header: a name given twice");
    expect_error(hs256(R"({"alg":"none","alg":"HS256"})", "{}"), *key,
                 "bad header: a name given twice");
    expect_error(hs256(R"({"alg":"HS256","\u0061lg":"HS256"})", "{}"), *key,
                 "bad header: a name given twice");
    expect_error(hs256(R"({"alg":"HS256","x":{"a":1,"a":1}})", "{}"), *key,
                 "bad header: a name given twice");
    expect_error(hs256("{\"alg\":\"HS256\",\"kid\":\"\xff\"}", "{}"), *key,
                 "bad header: bytes that are not UTF-8");

    const char *nul_claims[] = {
        R"({"iss":"https://issuer\u0000evil"})",
        R"({"aud":"cli-gw\u0000evil"})",
        R"({"aud":["x","cli-gw\u0000evil"]})",
        R"({"user_type":"admin\u0000x"})",
        R"({"sub":"x\u0000EVIL=1"})",
        R"({"x\u0000":1})",
        R"({"deep":[{"a":["\u0000"]}]})",
    };
    for (const char *c : nul_claims) {
        expect_error(hs256(hdr, c), *key, "bad claims: a NUL in a string");
    }

    const char *twice[] = {
        R"({"user_type":"admin","user_type":"user"})",
        R"({"user_type":"user","user_type":"admin"})",
        R"({"exp":2000,"exp":1})",
        R"({"user_type":"admin","\u0075ser_type":"user"})",
        R"({"scope":{"a":1,"b":2,"a":3}})",
        R"({"x":[{},{"k":1,"k":1}]})",
        R"({"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"a":0})",
    };
    for (const char *c : twice) {
        expect_error(hs256(hdr, c), *key, "bad claims: a name given twice");
    }
    expect_error(hs256(hdr, "{\"sub\":\"\xc3\x28\"}"), *key,
                 "bad claims: bytes that are not UTF-8");

    // issuer and audience compare whole values, bytes for bytes
    std::string t = hs256(hdr, R"({"iss":"https://issuer","aud":"cli-gw"})");
    assert_true(check(t, *key, 1000, 0, "https://issuer", "cli-gw").ok);
    assert_bytes_equal(check(t, *key, 1000, 0, "https://issue", "cli-gw").error,
                       "wrong issuer");
    assert_bytes_equal(check(t, *key, 1000, 0, "https://issuer", "cli").error,
                       "wrong audience");

    // names are case-sensitive: both members kept, each by its own name
    JwtResult r = check(hs256(hdr, R"({"USER_TYPE":"admin","user_type":"user"})"),
                        *key);
    assert_true(r.ok);
    assert_int_equal(r.claims.size(), 2);
    assert_bytes_equal(r.claims[0].first, "USER_TYPE");
    assert_bytes_equal(r.claims[1].first, "user_type");
    assert_bytes_equal(r.claims[1].second, "user");

    // the algorithm's name is exact too
    expect_error(hs256(R"({"alg":"HS256 "})", "{}"), *key,
                 "algorithm HS256  not accepted");

    // values as text: numbers read back the same, JSON compact
    r = check(hs256(hdr, R"({"n":1e3,"f":0.1,"big":1e400,"o":{"a":[true,null,"\""]}})"),
              *key);
    assert_true(r.ok);
    assert_int_equal(r.claims.size(), 4);
    assert_bytes_equal(r.claims[0].second, "1000");
    assert_bytes_equal(r.claims[1].second, "0.1");
    assert_bytes_equal(r.claims[2].second, "1e400");
    assert_bytes_equal(r.claims[3].second, R"({"a":[true,null,"\""]})");
}

static JwtResult check_required(std::string_view token, const JwtKey &key,
                                std::vector<std::string_view> required)
{
    JwtRules rules;
    rules.now = 1000;
    rules.required = std::move(required);
    return verify_jwt(token, one_key(key), rules);
}

// exp is required unless the rules say otherwise; exp, nbf and iat are
// numbers a 64-bit time holds; iat is not in the future.
static void test_time_claims(void **)
{
    auto key = hs_key();
    const char *hdr = R"({"alg":"HS256"})";

    JwtRules defaults;
    assert_int_equal(defaults.required.size(), 1);
    assert_bytes_equal(std::string(defaults.required[0]), "exp");

    assert_bytes_equal(check_required(hs256(hdr, "{}"), *key, { "exp" }).error,
                       "missing claim exp");
    assert_bytes_equal(check_required(hs256(hdr, R"({"exp":null})"), *key,
                                      { "exp" }).error,
                       "missing claim exp");
    assert_true(check_required(hs256(hdr, R"({"exp":2000})"), *key,
                               { "exp" }).ok);
    assert_true(check_required(hs256(hdr, "{}"), *key, {}).ok);
    assert_bytes_equal(check_required(hs256(hdr, R"({"exp":2000,"iat":5})"),
                                      *key, { "exp", "iat", "sub" }).error,
                       "missing claim sub");
    // a name in another case is another claim
    assert_bytes_equal(check_required(hs256(hdr, R"({"EXP":2000})"), *key,
                                      { "exp" }).error,
                       "missing claim exp");

    struct { const char *claims, *error; } bad[] = {
        { R"({"exp":1e400})",                 "bad exp" },
        { R"({"exp":-1e400})",                "bad exp" },
        { R"({"exp":1e308})",                 "bad exp" },
        { R"({"exp":9223372036854775808})",   "bad exp" },
        { R"({"exp":-9223372036854775809e3})", "bad exp" },
        { R"({"exp":"2000"})",                "bad exp" },
        { R"({"exp":[2000]})",                "bad exp" },
        { R"({"exp":true})",                  "bad exp" },
        { R"({"nbf":1e400})",                 "bad nbf" },
        { R"({"nbf":null})",                  "bad nbf" },
        { R"({"iat":1e308})",                 "bad iat" },
        { R"({"iat":"now"})",                 "bad iat" },
        { R"({"iat":1011})",                  "issued in the future" },
        { R"({"exp":999})",                   "expired" },
        { R"({"exp":-9e18})",                 "expired" },
        { R"({"nbf":1001})",                  "not valid yet" },
        { R"({"nbf":9e18})",                  "not valid yet" },
    };
    for (const auto &b : bad) {
        expect_error(hs256(hdr, b.claims), *key, b.error);
    }

    // within the leeway; fractions are NumericDates too
    std::string t = hs256(hdr, R"({"exp":1000.5,"iat":1010,"nbf":1010})");
    assert_true(check(t, *key, 1000, 10).ok);
    expect_error(hs256(hdr, R"({"exp":1000.5,"iat":1010})"), *key,
                 "issued in the future");
    assert_true(check(hs256(hdr, R"({"exp":9e18,"iat":1000,"nbf":-9e18})"),
                      *key).ok);
}

static std::string sign(EVP_PKEY *pkey, const std::string &input, bool ec)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey);
    EVP_DigestSign(ctx, nullptr, &len, (const unsigned char *) input.data(),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(ctx, (unsigned char *) &sig[0], &len,
                   (const unsigned char *) input.data(), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(ctx);

    if (!ec) {
        return sig;
    }

    // DER -> r || s
    const unsigned char *p = (const unsigned char *) sig.data();
    ECDSA_SIG *es = d2i_ECDSA_SIG(nullptr, &p, (long) sig.size());
    unsigned char raw[64];
    BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + 32, 32);
    ECDSA_SIG_free(es);
    return std::string((char *) raw, 64);
}

static std::string public_pem(EVP_PKEY *pkey)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PUBKEY(bio, pkey);
    char *data;
    long len = BIO_get_mem_data(bio, &data);
    std::string pem(data, (size_t) len);
    BIO_free(bio);
    return pem;
}

static void test_public_keys(void **)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", (size_t) 2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    assert_non_null(rsa);
    assert_non_null(ec);

    std::string error;
    auto rs = load_jwt_key(JwtAlg::rs256, public_pem(rsa), error);
    auto es = load_jwt_key(JwtAlg::es256, public_pem(ec), error);
    assert_non_null(rs.get());
    assert_non_null(es.get());

    std::string in = b64url(R"({"alg":"RS256"})") + "." + b64url("{}");
    assert_true(check(in + "." + b64url(sign(rsa, in, false)), *rs).ok);

    in = b64url(R"({"alg":"ES256"})") + "." + b64url(R"({"a":1})");
    std::string good = in + "." + b64url(sign(ec, in, true));
    assert_true(check(good, *es).ok);
    good[good.size() - 2] = good[good.size() - 2] == 'A' ? 'B' : 'A';
    assert_false(check(good, *es).ok);

    // a key of the wrong kind for the algorithm is refused at load time
    assert_null(load_jwt_key(JwtAlg::rs256, public_pem(ec), error).get());
    assert_bytes_equal(error, "an RS256 key must be an RSA public key");
    assert_null(load_jwt_key(JwtAlg::es256, public_pem(rsa), error).get());
    assert_null(load_jwt_key(JwtAlg::rs256, "not a key", error).get());
    assert_null(load_jwt_key(JwtAlg::hs256, "short", error).get());

    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
}

// The JWK of a public key: {"kty":...,"kid":KID, members}
static std::string jwk(EVP_PKEY *pkey, const std::string &kid,
                       const std::string &extra = "")
{
    std::string members;
    if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA) {
        BIGNUM *n = nullptr, *e = nullptr;
        EVP_PKEY_get_bn_param(pkey, "n", &n);
        EVP_PKEY_get_bn_param(pkey, "e", &e);
        std::string nb(BN_num_bytes(n), '\0'), eb(BN_num_bytes(e), '\0');
        BN_bn2bin(n, (unsigned char *) &nb[0]);
        BN_bn2bin(e, (unsigned char *) &eb[0]);
        BN_free(n);
        BN_free(e);
        members = R"("kty":"RSA","n":")" + b64url(nb) + R"(","e":")"
                  + b64url(eb) + "\"";
    } else {
        unsigned char pub[65];
        size_t len = 0;
        EVP_PKEY_get_octet_string_param(pkey, "pub", pub, sizeof(pub), &len);
        members = R"("kty":"EC","crv":"P-256","x":")"
                  + b64url(std::string((char *) pub + 1, 32)) + R"(","y":")"
                  + b64url(std::string((char *) pub + 33, 32)) + "\"";
    }
    return "{" + members + (kid.empty() ? "" : R"(,"kid":")" + kid + "\"")
           + extra + "}";
}

static std::string signed_with(EVP_PKEY *pkey, const std::string &header,
                               bool ec)
{
    std::string in = b64url(header) + "." + b64url(R"({"sub":"u"})");
    return in + "." + b64url(sign(pkey, in, ec));
}

static void test_jwks(void **)
{
    EVP_PKEY *rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", (size_t) 2048);
    EVP_PKEY *rsa2 = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", (size_t) 2048);
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    std::string error;

    // an encryption key, an RS512 key and an OKP key are left out
    std::string set = "{\"keys\":[" + jwk(rsa, "r1", R"(,"use":"sig")") + ","
                      + jwk(ec, "e1", R"(,"alg":"ES256")") + ","
                      + jwk(rsa2, "r2") + ","
                      + jwk(rsa2, "enc", R"(,"use":"enc")") + ","
                      + jwk(rsa2, "r512", R"(,"alg":"RS512")") + ","
                      + R"({"kty":"OKP","crv":"Ed25519","x":"AA","kid":"o"},)"
                      + R"({"kty":"oct","kid":"h1","k":")" + b64url(secret)
                      + "\"}]}";
    auto keys = load_jwks(set, error);
    assert_non_null(keys.get());
    assert_int_equal(keys->size(), 4);

    assert_true(check2(signed_with(rsa, R"({"alg":"RS256","kid":"r1"})",
                                   false), *keys).ok);
    assert_true(check2(signed_with(rsa2, R"({"alg":"RS256","kid":"r2"})",
                                   false), *keys).ok);
    assert_true(check2(signed_with(ec, R"({"alg":"ES256","kid":"e1"})", true),
                       *keys).ok);
    assert_true(check2(hs256(R"({"alg":"HS256","kid":"h1"})", "{}"),
                       *keys).ok);

    // the kid picks the key, and the key the algorithm
    expect_error2(signed_with(rsa, R"({"alg":"RS256","kid":"r2"})", false),
                  *keys, "bad signature");
    expect_error2(signed_with(rsa, R"({"alg":"RS256"})", false), *keys,
                  "no key id");
    expect_error2(signed_with(rsa, R"({"alg":"RS256","kid":"enc"})", false),
                  *keys, "unknown key id");
    expect_error2(signed_with(rsa, R"({"alg":"RS256","kid":7})", false),
                  *keys, "unknown key id");
    expect_error2(hs256(R"({"alg":"HS256","kid":"r1"})", "{}"), *keys,
                  "algorithm HS256 not accepted");

    // one key without kid takes any token; with a kid it must match
    auto one = load_jwks("{\"keys\":[" + jwk(rsa, "") + "]}", error);
    assert_non_null(one.get());
    assert_true(check2(signed_with(rsa, R"({"alg":"RS256","kid":"x"})",
                                   false), *one).ok);
    one = load_jwks("{\"keys\":[" + jwk(rsa, "only") + "]}", error);
    assert_true(check2(signed_with(rsa, R"({"alg":"RS256"})", false),
                       *one).ok);
    expect_error2(signed_with(rsa, R"({"alg":"RS256","kid":"x"})", false),
                  *one, "unknown key id");

    // sets refused at load time, with the reason
    struct { std::string set; const char *error; } bad[] = {
        { "[]", "not a JWK Set: no \"keys\" array" },
        { R"({"keys":[]})", "no RS256, ES256 or HS256 signing key in the set" },
        { "{\"keys\":[" + jwk(rsa, "") + "," + jwk(ec, "") + "]}",
          "with several keys, each needs a \"kid\"" },
        { "{\"keys\":[" + jwk(rsa, "a") + "," + jwk(ec, "a") + "]}",
          "two keys with \"kid\" \"a\"" },
        { R"({"keys":[{"kty":"RSA","kid":"k","n":"AQAB"}]})",
          "key \"k\": not a valid RS256 key" },
        { R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k","x":"AQAB","y":"AQAB"}]})",
          "key \"k\": not a valid ES256 key" },
        { R"({"keys":[{"kty":"oct","kid":"k","k":"c2hvcnQ"}]})",
          "key \"k\": an HS256 secret needs at least 32 bytes" },
        { R"({"keys":[{"n":"AQAB"}]})", "a key without \"kty\"" },
        { R"({"keys":[{"kty":"RSA","kid":1}]})",
          "a \"kid\" that is not a string" },
    };
    for (const auto &b : bad) {
        error.clear();
        assert_null(load_jwks(b.set, error).get());
        assert_bytes_equal(error, b.error);
    }

    // a point that is not on the curve
    std::string off = jwk(ec, "k");
    std::size_t y = off.find(R"("y":")") + 5;
    off[y + 3] = off[y + 3] == 'A' ? 'B' : 'A';
    assert_null(load_jwks("{\"keys\":[" + off + "]}", error).get());

    EVP_PKEY_free(rsa);
    EVP_PKEY_free(rsa2);
    EVP_PKEY_free(ec);
}

static void test_bearer(void **)
{
    assert_bytes_equal(std::string(strip_bearer("Bearer abc")), "abc");
    assert_bytes_equal(std::string(strip_bearer("bearer   abc")), "abc");
    assert_bytes_equal(std::string(strip_bearer("abc")), "abc");
    assert_bytes_equal(std::string(strip_bearer("Bearer ")), "Bearer ");
    assert_bytes_equal(std::string(strip_bearer("Basic abc")), "Basic abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hs256),
        cmocka_unit_test(test_algorithm_pinning),
        cmocka_unit_test(test_time_and_audience),
        cmocka_unit_test(test_hostile_shapes),
        cmocka_unit_test(test_strict_json),
        cmocka_unit_test(test_time_claims),
        cmocka_unit_test(test_public_keys),
        cmocka_unit_test(test_jwks),
        cmocka_unit_test(test_bearer),
    };
    return cmocka_run_group_tests_name("jwt", tests, NULL, NULL);
}
