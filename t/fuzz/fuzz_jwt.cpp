/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// libFuzzer: JWT parsing and verification against a fixed HS256 key, and
// the same input read as a JWK Set.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cligw_jwt.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cligw::JwtKey key = [] {
        cligw::JwtKey k;
        k.alg = cligw::JwtAlg::hs256;
        k.secret = "fuzzing secret of thirty-two bytes!!";
        return k;
    }();

    std::string_view in(reinterpret_cast<const char *>(data), size);
    cligw::JwtRules rules;
    rules.now = 1000;
    rules.audience = "cli";

    cligw::JwtResult r = cligw::verify_jwt(cligw::strip_bearer(in), key,
                                           rules);
    // nothing passes without the key: a forged token would be a bug
    if (r.ok) __builtin_trap();

    std::string error;
    auto keys = cligw::load_jwks(in, error);
    if (keys == nullptr && error.empty()) __builtin_trap();
    return 0;
}
