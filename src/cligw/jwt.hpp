/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// JSON Web Token verification with OpenSSL: HS256, RS256, ES256
// (no nginx types).
#pragma once

#include <openssl/evp.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cligw {

enum class JwtAlg { hs256, rs256, es256 };

struct PkeyDeleter {
    void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};

// A key, and so the one algorithm it verifies.
struct JwtKey {
    JwtAlg alg = JwtAlg::hs256;
    std::string kid;                                 // from a JWK Set
    std::string secret;                              // HS256
    std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey;     // RS256, ES256
};

// The keys a location accepts: the one of a key file, or a JWK Set's.
using JwtKeys = std::vector<JwtKey>;

// "HS256" -> hs256; false for anything else (including "none").
bool parse_jwt_alg(std::string_view name, JwtAlg &alg);

// The key file's contents: the secret itself for HS256 (one trailing
// newline dropped), a PEM public key for RS256 (RSA, >= 2048 bits) or
// ES256 (EC P-256). Returns an empty pointer with `error` set.
std::unique_ptr<JwtKey> load_jwt_key(JwtAlg alg, std::string_view file,
                                     std::string &error);

// A JWK Set (RFC 7517): {"keys": [...]}. Keys of kty RSA (RS256, at least
// 2048 bits), EC P-256 (ES256) and oct (HS256, at least 32 bytes) are
// taken; keys for another use or algorithm are left out. With several
// keys each needs a distinct "kid". Returns an empty pointer with `error`.
std::unique_ptr<JwtKeys> load_jwks(std::string_view file, std::string &error);

struct JwtRules {
    std::time_t now = 0;
    long leeway = 0;             // seconds, for exp, nbf and iat
    std::string_view issuer;     // empty: not checked
    std::string_view audience;   // empty: not checked
    // claims a token must carry (not null); exp unless said otherwise
    std::vector<std::string_view> required = { "exp" };
};

struct JwtResult {
    bool ok = false;
    std::string error;           // why not, for the log and the 401 body
    // top-level claims, by their exact names: strings as they are, numbers
    // and booleans as JSON text, arrays and objects as compact JSON
    std::vector<std::pair<std::string, std::string>> claims;
};

// Header and claims are read strictly: a name given twice in any object,
// a NUL or bytes that are not UTF-8 in any string refuse the token, and
// names and values are compared by their exact bytes. exp, nbf and iat,
// when present, must be numbers within what a 64-bit time holds.
// A compact JWS: header.payload.signature, base64url without padding,
// verified with the key the header's "kid" names; a token without "kid"
// needs a set of one key, and one key without "kid" takes any token. The
// header's "alg" must be the key's algorithm.
JwtResult verify_jwt(std::string_view token, const JwtKeys &keys,
                     const JwtRules &rules);

// "Bearer abc" -> "abc" (scheme case-insensitive); other values as they are.
std::string_view strip_bearer(std::string_view value);

} // namespace cligw
