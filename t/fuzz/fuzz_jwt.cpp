/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// libFuzzer: JWT parsing and verification against a fixed HS256 key, the
// same input signed with that key (so that the header and claims rules
// are reached past the signature), and the input read as a JWK Set.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "cligw/jwt.hpp"
#include "../unit/jwt_sign.hpp"

// "HEADER\nCLAIMS" (or CLAIMS alone under an HS256 header) as a token
// signed with `secret`.
static std::string signed_token(std::string_view in, const std::string &secret)
{
    std::size_t nl = in.find('\n');
    std::string_view header = nl == in.npos ? R"({"alg":"HS256"})"
                                            : in.substr(0, nl);
    std::string_view claims = nl == in.npos ? in : in.substr(nl + 1);
    return hs256_token(header, claims, secret);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cligw::JwtKeys keys = [] {
        cligw::JwtKeys k(1);
        k[0].alg = cligw::JwtAlg::hs256;
        k[0].secret = "fuzzing secret of thirty-two bytes!!";
        return k;
    }();
    const cligw::JwtKey &key = keys[0];

    std::string_view in(reinterpret_cast<const char *>(data), size);
    cligw::JwtRules rules;
    rules.now = 1000;
    rules.audience = "cli";

    cligw::JwtResult r = cligw::verify_jwt(cligw::strip_bearer(in), keys,
                                           rules);
    // nothing passes without the key: a forged token would be a bug
    if (r.ok) __builtin_trap();

    // signed: what passes has exp, one claim per name, no NUL anywhere
    r = cligw::verify_jwt(signed_token(in, key.secret), keys, rules);
    if (r.ok) {
        std::set<std::string> names;
        for (const auto &c : r.claims) {
            if (!names.insert(c.first).second
                || c.first.find('\0') != std::string::npos
                || c.second.find('\0') != std::string::npos) __builtin_trap();
        }
        if (names.count("exp") == 0 || names.count("aud") == 0)
            __builtin_trap();
    } else if (r.error.empty()) {
        __builtin_trap();
    }

    std::string error;
    auto set = cligw::load_jwks(in, error);
    if (set == nullptr && error.empty()) __builtin_trap();
    return 0;
}
