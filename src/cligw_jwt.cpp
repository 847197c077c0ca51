/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// JWT verification: base64url, the header's alg, the signature, the claims.

#include "cligw_jwt.hpp"

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>
#include <cmath>
#include <cstdio>

namespace cligw {

namespace {

struct JsonDeleter {
    void operator()(cJSON *j) const { cJSON_Delete(j); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};
struct BioDeleter {
    void operator()(BIO *b) const { BIO_free(b); }
};
struct SigDeleter {
    void operator()(ECDSA_SIG *s) const { ECDSA_SIG_free(s); }
};
struct BnDeleter {
    void operator()(BIGNUM *b) const { BN_free(b); }
};
struct PkeyCtxDeleter {
    void operator()(EVP_PKEY_CTX *c) const { EVP_PKEY_CTX_free(c); }
};
struct ParamBldDeleter {
    void operator()(OSSL_PARAM_BLD *b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
    void operator()(OSSL_PARAM *p) const { OSSL_PARAM_free(p); }
};

// Strict base64url without padding: false on any other byte.
bool base64url_decode(std::string_view in, std::string &out)
{
    static const auto table = [] {
        std::array<signed char, 256> t{};
        t.fill(-1);
        const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-_";
        for (int i = 0; i < 64; i++) {
            t[static_cast<unsigned char>(a[i])] = static_cast<signed char>(i);
        }
        return t;
    }();

    if (in.size() % 4 == 1) {
        return false;
    }

    out.clear();
    out.reserve(in.size() * 3 / 4);

    unsigned int acc = 0;
    int bits = 0;
    for (unsigned char c : in) {
        int v = table[c];
        if (v < 0) {
            return false;
        }
        acc = (acc << 6) | static_cast<unsigned int>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>((acc >> bits) & 0xff);
        }
    }

    // the unused low bits must be zero: one encoding per value
    return (acc & ((1u << bits) - 1)) == 0;
}

const char *alg_name(JwtAlg alg)
{
    switch (alg) {
    case JwtAlg::hs256: return "HS256";
    case JwtAlg::rs256: return "RS256";
    default:            return "ES256";
    }
}

bool verify_hs256(const std::string &secret, std::string_view input,
                  const std::string &sig)
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
              reinterpret_cast<const unsigned char *>(input.data()),
              input.size(), mac, &len))
    {
        return false;
    }

    return sig.size() == len && CRYPTO_memcmp(mac, sig.data(), len) == 0;
}

bool verify_pkey(EVP_PKEY *pkey, std::string_view input,
                 const std::string &sig)
{
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());

    return ctx
           && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr,
                                   pkey) == 1
           && EVP_DigestVerify(ctx.get(),
                  reinterpret_cast<const unsigned char *>(sig.data()),
                  sig.size(),
                  reinterpret_cast<const unsigned char *>(input.data()),
                  input.size()) == 1;
}

// JWS carries ECDSA as r || s (32 bytes each); OpenSSL wants DER.
bool es256_to_der(const std::string &raw, std::string &der)
{
    if (raw.size() != 64) {
        return false;
    }

    std::unique_ptr<ECDSA_SIG, SigDeleter> sig(ECDSA_SIG_new());
    auto *p = reinterpret_cast<const unsigned char *>(raw.data());
    BIGNUM *r = BN_bin2bn(p, 32, nullptr);
    BIGNUM *s = BN_bin2bn(p + 32, 32, nullptr);

    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return false;
    }

    int len = i2d_ECDSA_SIG(sig.get(), nullptr);
    if (len <= 0) {
        return false;
    }
    der.resize(static_cast<std::size_t>(len));
    auto *out = reinterpret_cast<unsigned char *>(&der[0]);
    return i2d_ECDSA_SIG(sig.get(), &out) == len;
}

std::string claim_text(const cJSON *item)
{
    if (cJSON_IsString(item)) {
        return item->valuestring;
    }
    if (cJSON_IsNumber(item)) {
        double v = item->valuedouble;
        char buf[64];
        if (std::floor(v) == v && std::fabs(v) < 9.007199254740992e15) {
            std::snprintf(buf, sizeof(buf), "%.0f", v);
        } else {
            std::snprintf(buf, sizeof(buf), "%.17g", v);
        }
        return buf;
    }
    char *printed = cJSON_PrintUnformatted(item);
    std::string text = printed ? printed : "";
    cJSON_free(printed);
    return text;
}

bool audience_matches(const cJSON *aud, std::string_view want)
{
    if (cJSON_IsString(aud)) {
        return want == aud->valuestring;
    }
    if (cJSON_IsArray(aud)) {
        for (const cJSON *a = aud->child; a; a = a->next) {
            if (cJSON_IsString(a) && want == a->valuestring) {
                return true;
            }
        }
    }
    return false;
}

JwtResult fail(std::string why)
{
    JwtResult r;
    r.error = std::move(why);
    return r;
}

// RS256: RSA of at least 2048 bits; ES256: EC P-256.
bool public_key_fits(JwtAlg alg, EVP_PKEY *pkey, std::string &error)
{
    if (alg == JwtAlg::rs256) {
        if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
            error = "an RS256 key must be an RSA public key";
            return false;
        }
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            error = "an RS256 key needs at least 2048 bits";
            return false;
        }
        return true;
    }

    char curve[64] = "";
    if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC
        || EVP_PKEY_get_utf8_string_param(pkey, "group", curve,
                                          sizeof(curve), nullptr) != 1
        || std::string_view(curve) != "prime256v1")
    {
        error = "an ES256 key must be an EC P-256 public key";
        return false;
    }
    return true;
}

bool secret_fits(std::string_view secret, std::string &error)
{
    if (secret.size() < 32) {
        error = "an HS256 secret needs at least 32 bytes";
        return false;
    }
    return true;
}

// The base64url member `name` of a JWK, decoded; false when absent or bad.
bool jwk_bytes(const cJSON *jwk, const char *name, std::string &out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(jwk, name);
    return cJSON_IsString(v) && base64url_decode(v->valuestring, out)
           && !out.empty();
}

// A public key from OpenSSL parameters of `type` ("RSA", "EC").
EVP_PKEY *pkey_from_params(const char *type, const OSSL_PARAM *params)
{
    std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
        EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
    EVP_PKEY *pkey = nullptr;
    if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
        || EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY,
                             const_cast<OSSL_PARAM *>(params)) != 1)
    {
        return nullptr;
    }
    return pkey;
}

EVP_PKEY *rsa_from_jwk(const cJSON *jwk)
{
    std::string n, e;
    if (!jwk_bytes(jwk, "n", n) || !jwk_bytes(jwk, "e", e)) {
        return nullptr;
    }
    std::unique_ptr<BIGNUM, BnDeleter> bn(BN_bin2bn(
        reinterpret_cast<const unsigned char *>(n.data()),
        static_cast<int>(n.size()), nullptr));
    std::unique_ptr<BIGNUM, BnDeleter> be(BN_bin2bn(
        reinterpret_cast<const unsigned char *>(e.data()),
        static_cast<int>(e.size()), nullptr));
    std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
    if (!bn || !be || !bld
        || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get())
               != 1
        || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get())
               != 1)
    {
        return nullptr;
    }
    std::unique_ptr<OSSL_PARAM, ParamDeleter> params(
        OSSL_PARAM_BLD_to_param(bld.get()));
    return params ? pkey_from_params("RSA", params.get()) : nullptr;
}

EVP_PKEY *p256_from_jwk(const cJSON *jwk)
{
    std::string x, y;
    const cJSON *crv = cJSON_GetObjectItemCaseSensitive(jwk, "crv");
    if (!cJSON_IsString(crv) || std::string_view(crv->valuestring) != "P-256"
        || !jwk_bytes(jwk, "x", x) || !jwk_bytes(jwk, "y", y)
        || x.size() != 32 || y.size() != 32)
    {
        return nullptr;
    }
    std::string point = "\x04" + x + y;    // uncompressed
    char group[] = "prime256v1";
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, &point[0],
                                          point.size()),
        OSSL_PARAM_construct_end()
    };
    return pkey_from_params("EC", params);
}

// One member of a JWK Set: false with `error` when it is broken, true with
// an empty `usable` when it is for something else.
bool jwk_to_key(const cJSON *jwk, JwtKey &key, bool &usable,
                std::string &error)
{
    const cJSON *kty = cJSON_GetObjectItemCaseSensitive(jwk, "kty");
    const cJSON *use = cJSON_GetObjectItemCaseSensitive(jwk, "use");
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(jwk, "alg");
    const cJSON *kid = cJSON_GetObjectItemCaseSensitive(jwk, "kid");

    usable = false;
    if (!cJSON_IsObject(jwk) || !cJSON_IsString(kty)) {
        error = "a key without \"kty\"";
        return false;
    }
    if (kid && !cJSON_IsString(kid)) {
        error = "a \"kid\" that is not a string";
        return false;
    }
    std::string_view type = kty->valuestring;
    if (type == "RSA") {
        key.alg = JwtAlg::rs256;
    } else if (type == "EC") {
        key.alg = JwtAlg::es256;
    } else if (type == "oct") {
        key.alg = JwtAlg::hs256;
    } else {
        return true;
    }
    if ((use && !(cJSON_IsString(use)
                  && std::string_view(use->valuestring) == "sig"))
        || (alg && !(cJSON_IsString(alg)
                     && std::string_view(alg->valuestring)
                            == alg_name(key.alg))))
    {
        return true;
    }

    key.kid = kid ? kid->valuestring : "";
    std::string what = key.kid.empty() ? std::string("a key")
                                       : "key \"" + key.kid + "\"";

    if (key.alg == JwtAlg::hs256) {
        if (!jwk_bytes(jwk, "k", key.secret)) {
            error = what + ": no \"k\"";
            return false;
        }
        if (!secret_fits(key.secret, error)) {
            error = what + ": " + error;
            return false;
        }
    } else {
        key.pkey.reset(key.alg == JwtAlg::rs256 ? rsa_from_jwk(jwk)
                                                : p256_from_jwk(jwk));
        if (!key.pkey) {
            error = what + ": not a valid " + alg_name(key.alg) + " key";
            return false;
        }
        if (!public_key_fits(key.alg, key.pkey.get(), error)) {
            error = what + ": " + error;
            return false;
        }
    }
    usable = true;
    return true;
}

} // namespace

bool parse_jwt_alg(std::string_view name, JwtAlg &alg)
{
    for (JwtAlg a : { JwtAlg::hs256, JwtAlg::rs256, JwtAlg::es256 }) {
        if (name == alg_name(a)) {
            alg = a;
            return true;
        }
    }
    return false;
}

std::unique_ptr<JwtKey> load_jwt_key(JwtAlg alg, std::string_view file,
                                     std::string &error)
{
    auto key = std::make_unique<JwtKey>();
    key->alg = alg;

    if (alg == JwtAlg::hs256) {
        if (!file.empty() && file.back() == '\n') {
            file.remove_suffix(1);
        }
        if (!secret_fits(file, error)) {
            return nullptr;
        }
        key->secret.assign(file.data(), file.size());
        return key;
    }

    std::unique_ptr<BIO, BioDeleter> bio(
        BIO_new_mem_buf(file.data(), static_cast<int>(file.size())));
    if (bio) {
        key->pkey.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr,
                                            nullptr));
    }
    if (!key->pkey) {
        error = "no PEM public key in the file";
        return nullptr;
    }

    if (!public_key_fits(alg, key->pkey.get(), error)) {
        return nullptr;
    }
    return key;
}

std::unique_ptr<JwtKeys> load_jwks(std::string_view file, std::string &error)
{
    std::unique_ptr<cJSON, JsonDeleter> set(
        cJSON_ParseWithLength(file.data(), file.size()));
    const cJSON *list = set ? cJSON_GetObjectItemCaseSensitive(set.get(),
                                                               "keys")
                            : nullptr;
    if (!cJSON_IsArray(list)) {
        error = "not a JWK Set: no \"keys\" array";
        return nullptr;
    }

    auto keys = std::make_unique<JwtKeys>();
    for (const cJSON *jwk = list->child; jwk; jwk = jwk->next) {
        JwtKey key;
        bool usable;
        if (!jwk_to_key(jwk, key, usable, error)) {
            return nullptr;
        }
        if (!usable) {
            continue;
        }
        for (const JwtKey &other : *keys) {
            if (other.kid == key.kid) {
                error = key.kid.empty()
                            ? "with several keys, each needs a \"kid\""
                            : "two keys with \"kid\" \"" + key.kid + "\"";
                return nullptr;
            }
        }
        keys->push_back(std::move(key));
    }

    if (keys->empty()) {
        error = "no RS256, ES256 or HS256 signing key in the set";
        return nullptr;
    }
    if (keys->size() > 1 && keys->front().kid.empty()) {
        error = "with several keys, each needs a \"kid\"";
        return nullptr;
    }
    return keys;
}

namespace {

// verify_jwt with the key `pick` chooses by the header.
template <typename Pick>
JwtResult verify_with(std::string_view token, const JwtRules &rules,
                      Pick pick)
{
    std::size_t dot1 = token.find('.');
    std::size_t dot2 = dot1 == std::string_view::npos
                           ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string_view::npos
        || token.find('.', dot2 + 1) != std::string_view::npos)
    {
        return fail("not a compact JWS");
    }

    std::string header, payload, sig;
    if (!base64url_decode(token.substr(0, dot1), header)
        || !base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload)
        || !base64url_decode(token.substr(dot2 + 1), sig))
    {
        return fail("bad base64url");
    }

    std::unique_ptr<cJSON, JsonDeleter> h(
        cJSON_ParseWithLength(header.data(), header.size()));
    const cJSON *alg = h ? cJSON_GetObjectItemCaseSensitive(h.get(), "alg")
                         : nullptr;
    if (!cJSON_IsString(alg)) {
        return fail("bad header");
    }
    std::string why;
    const JwtKey *picked = pick(h.get(), why);
    if (picked == nullptr) {
        return fail(why);
    }
    const JwtKey &key = *picked;
    if (std::string_view(alg->valuestring) != alg_name(key.alg)) {
        // never "none", never another algorithm with this key
        return fail(std::string("algorithm ") + alg->valuestring
                    + " not accepted");
    }

    std::string_view input = token.substr(0, dot2);
    bool good = false;

    switch (key.alg) {
    case JwtAlg::hs256:
        good = verify_hs256(key.secret, input, sig);
        break;
    case JwtAlg::rs256:
        good = verify_pkey(key.pkey.get(), input, sig);
        break;
    case JwtAlg::es256: {
        std::string der;
        good = es256_to_der(sig, der)
               && verify_pkey(key.pkey.get(), input, der);
        break;
    }
    }

    if (!good) {
        return fail("bad signature");
    }

    std::unique_ptr<cJSON, JsonDeleter> p(
        cJSON_ParseWithLength(payload.data(), payload.size()));
    if (!cJSON_IsObject(p.get())) {
        return fail("bad claims");
    }

    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p.get(), "exp");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(p.get(), "nbf");
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p.get(), "iss");
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(p.get(), "aud");
    double now = static_cast<double>(rules.now);

    if (exp && (!cJSON_IsNumber(exp)
                || now > exp->valuedouble + rules.leeway))
    {
        return fail("expired");
    }
    if (nbf && (!cJSON_IsNumber(nbf)
                || now + rules.leeway < nbf->valuedouble))
    {
        return fail("not valid yet");
    }
    if (!rules.issuer.empty()
        && !(cJSON_IsString(iss) && rules.issuer == iss->valuestring))
    {
        return fail("wrong issuer");
    }
    if (!rules.audience.empty() && !audience_matches(aud, rules.audience)) {
        return fail("wrong audience");
    }

    JwtResult r;
    r.ok = true;
    for (const cJSON *c = p->child; c; c = c->next) {
        if (c->string) {
            r.claims.emplace_back(c->string, claim_text(c));
        }
    }
    return r;
}

} // namespace

JwtResult verify_jwt(std::string_view token, const JwtKey &key,
                     const JwtRules &rules)
{
    return verify_with(token, rules,
                       [&key](const cJSON *, std::string &) { return &key; });
}

JwtResult verify_jwt(std::string_view token, const JwtKeys &keys,
                     const JwtRules &rules)
{
    return verify_with(token, rules,
                       [&keys](const cJSON *header,
                               std::string &why) -> const JwtKey * {
        const cJSON *kid = cJSON_GetObjectItemCaseSensitive(header, "kid");
        if (keys.size() == 1 && (kid == nullptr || keys[0].kid.empty())) {
            return &keys[0];
        }
        if (kid == nullptr) {
            why = "no key id";
            return nullptr;
        }
        if (cJSON_IsString(kid)) {
            for (const JwtKey &key : keys) {
                if (key.kid == kid->valuestring) {
                    return &key;
                }
            }
        }
        why = "unknown key id";
        return nullptr;
    });
}

std::string_view strip_bearer(std::string_view value)
{
    constexpr std::string_view scheme = "bearer ";
    if (value.size() > scheme.size()) {
        bool same = true;
        for (std::size_t i = 0; i < scheme.size(); i++) {
            char c = value[i];
            if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != scheme[i]) {
                same = false;
                break;
            }
        }
        if (same) {
            value.remove_prefix(scheme.size());
            while (!value.empty() && value.front() == ' ') {
                value.remove_prefix(1);
            }
        }
    }
    return value;
}

} // namespace cligw
