/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// Making tokens for the tests and the fuzzer: base64url and HS256.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <string>
#include <string_view>

#include "cligw/jwt.hpp"

// A set of just this key, as a location with one key file has.
inline cligw::JwtKeys one_key(const cligw::JwtKey &key)
{
    cligw::JwtKeys keys(1);
    keys[0].alg = key.alg;
    keys[0].kid = key.kid;
    keys[0].secret = key.secret;
    if (key.pkey) {
        EVP_PKEY_up_ref(key.pkey.get());
        keys[0].pkey.reset(key.pkey.get());
    }
    return keys;
}

// base64url without padding
inline std::string b64url(std::string_view in)
{
    static const char *a =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    unsigned int acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += a[(acc >> bits) & 63];
        }
    }
    if (bits) {
        out += a[(acc << (6 - bits)) & 63];
    }
    return out;
}

// header.claims.signature, signed with HS256 and `key`
inline std::string hs256_token(std::string_view header,
                               std::string_view claims,
                               const std::string &key)
{
    std::string input = b64url(header) + "." + b64url(claims);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char *>(input.data()), input.size(),
         mac, &len);
    return input + "." + b64url(std::string_view(
                             reinterpret_cast<const char *>(mac), len));
}
