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

// The one key a location accepts, and so the one algorithm.
struct JwtKey {
    JwtAlg alg = JwtAlg::hs256;
    std::string secret;                              // HS256
    std::unique_ptr<EVP_PKEY, PkeyDeleter> pkey;     // RS256, ES256
};

// "HS256" -> hs256; false for anything else (including "none").
bool parse_jwt_alg(std::string_view name, JwtAlg &alg);

// The key file's contents: the secret itself for HS256 (one trailing
// newline dropped), a PEM public key for RS256 (RSA, >= 2048 bits) or
// ES256 (EC P-256). Returns an empty pointer with `error` set.
std::unique_ptr<JwtKey> load_jwt_key(JwtAlg alg, std::string_view file,
                                     std::string &error);

struct JwtRules {
    std::time_t now = 0;
    long leeway = 0;             // seconds, for exp and nbf
    std::string_view issuer;     // empty: not checked
    std::string_view audience;   // empty: not checked
};

struct JwtResult {
    bool ok = false;
    std::string error;           // why not, for the log and the 401 body
    // top-level claims: strings as they are, numbers and booleans as JSON
    // text, arrays and objects as compact JSON
    std::vector<std::pair<std::string, std::string>> claims;
};

// A compact JWS: header.payload.signature, base64url without padding.
// The header's "alg" must be the key's algorithm.
JwtResult verify_jwt(std::string_view token, const JwtKey &key,
                     const JwtRules &rules);

// "Bearer abc" -> "abc" (scheme case-insensitive); other values as they are.
std::string_view strip_bearer(std::string_view value);

} // namespace cligw
