/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

// JWT verification: base64url, the header's alg, the signature, the claims.

#include "cligw/jwt.hpp"

#include "cligw/ascii.hpp"
#include "cligw/json.hpp"

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

namespace cligw {

namespace {

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

std::string claim_text(const JsonValue &v)
{
    switch (v.type) {
    case JsonType::string:
        return v.text;
    case JsonType::number:
        return json_number_text(v);
    default:
        return json_text(v);
    }
}

bool is_string(const JsonValue *v)
{
    return v && v->type == JsonType::string;
}

bool audience_matches(const JsonValue *aud, std::string_view want)
{
    if (is_string(aud)) {
        return aud->text == want;
    }
    if (aud && aud->type == JsonType::array) {
        for (const JsonValue &a : aud->items) {
            if (is_string(&a) && a.text == want) {
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
bool jwk_bytes(const JsonValue &jwk, const char *name, std::string &out)
{
    const JsonValue *v = jwk.find(name);
    return is_string(v) && base64url_decode(v->text, out) && !out.empty();
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

EVP_PKEY *rsa_from_jwk(const JsonValue &jwk)
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

EVP_PKEY *p256_from_jwk(const JsonValue &jwk)
{
    std::string x, y;
    const JsonValue *crv = jwk.find("crv");
    if (!is_string(crv) || crv->text != "P-256"
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
bool jwk_to_key(const JsonValue &jwk, JwtKey &key, bool &usable,
                std::string &error)
{
    const JsonValue *kty = jwk.find("kty");
    const JsonValue *use = jwk.find("use");
    const JsonValue *alg = jwk.find("alg");
    const JsonValue *kid = jwk.find("kid");

    usable = false;
    if (jwk.type != JsonType::object || !is_string(kty)) {
        error = "a key without \"kty\"";
        return false;
    }
    if (kid && !is_string(kid)) {
        error = "a \"kid\" that is not a string";
        return false;
    }
    const std::string &type = kty->text;
    if (type == "RSA") {
        key.alg = JwtAlg::rs256;
    } else if (type == "EC") {
        key.alg = JwtAlg::es256;
    } else if (type == "oct") {
        key.alg = JwtAlg::hs256;
    } else {
        return true;
    }
    if ((use && !(is_string(use) && use->text == "sig"))
        || (alg && !(is_string(alg) && alg->text == alg_name(key.alg))))
    {
        return true;
    }

    key.kid = kid ? kid->text : "";
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
    JsonDocument set = json_parse(file);
    const JsonValue *list = set.error ? nullptr : set.root.find("keys");
    if (list == nullptr || list->type != JsonType::array) {
        error = "not a JWK Set: no \"keys\" array";
        return nullptr;
    }
    // read as strictly as a token: no key member may be ambiguous
    if (set.duplicate_name || set.nul || set.bad_utf8) {
        error = "a JWK Set with a name given twice, a NUL or bytes that "
                "are not UTF-8";
        return nullptr;
    }

    auto keys = std::make_unique<JwtKeys>();
    for (const JsonValue &jwk : list->items) {
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

// What makes a token's JSON mean two things to two readers, or null:
// a name given twice (RFC 7515 4, RFC 7519 4), a NUL that C strings
// would cut at, bytes that are not UTF-8 (RFC 7519 7.2).
const char *ambiguity(const JsonDocument &doc)
{
    return doc.duplicate_name ? "a name given twice"
           : doc.nul          ? "a NUL in a string"
           : doc.bad_utf8     ? "bytes that are not UTF-8"
                              : nullptr;
}

// exp, nbf, iat: absent, or a finite number of seconds that a 64-bit
// time_t holds (1e400 is infinite; 1e308 is finite but past any time_t).
bool time_claim(const JsonValue &claims, const char *name, bool &present,
                double &t)
{
    const JsonValue *v = claims.find(name);

    present = v != nullptr;
    if (!present) {
        return true;
    }
    t = v->number;
    return v->type == JsonType::number && std::isfinite(t)
           && t >= -9223372036854775808.0 && t < 9223372036854775808.0;
}

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

    JsonDocument h = json_parse(header);
    if (h.error || h.root.type != JsonType::object) {
        return fail("bad header");
    }
    if (const char *why = ambiguity(h)) {
        return fail(std::string("bad header: ") + why);
    }
    const JsonValue *alg = h.root.find("alg");
    if (!is_string(alg)) {
        return fail("bad header");
    }
    std::string why;
    const JwtKey *picked = pick(h.root, why);
    if (picked == nullptr) {
        return fail(why);
    }
    const JwtKey &key = *picked;
    if (alg->text != alg_name(key.alg)) {
        // never "none", never another algorithm with this key
        return fail("algorithm " + alg->text + " not accepted");
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

    JsonDocument p = json_parse(payload);
    if (p.error || p.root.type != JsonType::object) {
        return fail("bad claims");
    }
    if (const char *why = ambiguity(p)) {
        return fail(std::string("bad claims: ") + why);
    }
    const JsonValue &claims = p.root;

    for (std::string_view name : rules.required) {
        const JsonValue *v = claims.find(name);
        if (v == nullptr || v->type == JsonType::null) {
            return fail("missing claim " + std::string(name));
        }
    }

    // NumericDates (RFC 7519 2), fractions allowed; compared as doubles,
    // exact for every time_t-sized count of seconds that matters
    double exp, nbf, iat;
    bool has_exp, has_nbf, has_iat;
    if (!time_claim(claims, "exp", has_exp, exp)) return fail("bad exp");
    if (!time_claim(claims, "nbf", has_nbf, nbf)) return fail("bad nbf");
    if (!time_claim(claims, "iat", has_iat, iat)) return fail("bad iat");

    double now = static_cast<double>(rules.now);
    double leeway = static_cast<double>(rules.leeway);

    if (has_exp && now > exp + leeway) {
        return fail("expired");
    }
    if (has_nbf && now + leeway < nbf) {
        return fail("not valid yet");
    }
    if (has_iat && now + leeway < iat) {
        return fail("issued in the future");
    }

    const JsonValue *iss = claims.find("iss");
    if (!rules.issuer.empty() && !(is_string(iss) && iss->text == rules.issuer))
    {
        return fail("wrong issuer");
    }
    if (!rules.audience.empty()
        && !audience_matches(claims.find("aud"), rules.audience))
    {
        return fail("wrong audience");
    }

    JwtResult r;
    r.ok = true;
    r.claims.reserve(claims.members.size());
    for (const JsonMember &c : claims.members) {
        r.claims.emplace_back(c.name, claim_text(c.value));
    }
    return r;
}

} // namespace

JwtResult verify_jwt(std::string_view token, const JwtKeys &keys,
                     const JwtRules &rules)
{
    return verify_with(token, rules,
                       [&keys](const JsonValue &header,
                               std::string &why) -> const JwtKey * {
        const JsonValue *kid = header.find("kid");
        if (keys.size() == 1 && (kid == nullptr || keys[0].kid.empty())) {
            return &keys[0];
        }
        if (kid == nullptr) {
            why = "no key id";
            return nullptr;
        }
        if (is_string(kid)) {
            for (const JwtKey &key : keys) {
                if (key.kid == kid->text) {
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
    if (value.size() > scheme.size()
        && ascii_equal_nocase(value.substr(0, scheme.size()), scheme))
    {
        value.remove_prefix(scheme.size());
        while (!value.empty() && value.front() == ' ') {
            value.remove_prefix(1);
        }
    }
    return value;
}

} // namespace cligw
