/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * cli_gateway_jwt: a signed token, verified before anything else, whose
 * claims become $cli_gateway_jwt_claim_<name>.
 */

#include "ngx_http_cli_gateway.h"

#include <fstream>
#include <iterator>
#include <string>

#include "cligw/error.hpp"
#include "cligw/jwt.hpp"


static void ngx_http_cli_gateway_free_keys(void *data);
static ngx_int_t ngx_http_cli_gateway_require_list(ngx_conf_t *cf,
    ngx_array_t *names);
static ngx_int_t ngx_http_cli_gateway_unauthorized(ngx_http_request_t *r,
    const char *challenge, std::string_view message);


/* cli_gateway_jwt_require's default: a token that never expires is refused */
static ngx_str_t  ngx_http_cli_gateway_exp = ngx_string("exp");

ngx_array_t  ngx_http_cli_gateway_jwt_require_default = {
    &ngx_http_cli_gateway_exp, 1, sizeof(ngx_str_t), 1, NULL
};


char *
ngx_http_cli_gateway_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_str_t           *value, path;
    ngx_uint_t           jwks;
    cligw::JwtAlg        alg;
    ngx_pool_cleanup_t  *cln;

    if (glcf->jwt_keys) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;
    std::string_view kind((char *) value[1].data, value[1].len);
    jwks = kind == "JWKS";

    if (!jwks && !cligw::parse_jwt_alg(kind, alg)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_jwt_key\": unknown algorithm "
                           "\"%V\", use HS256, RS256, ES256 or JWKS",
                           &value[1]);
        return (char *) NGX_CONF_ERROR;
    }

    path = value[2];
    if (ngx_conf_full_name(cf->cycle, &path, 1) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    std::string error;
    std::unique_ptr<cligw::JwtKeys> keys;

    try {
        std::ifstream in(std::string((char *) path.data, path.len),
                         std::ios::binary);
        if (!in) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                               "\"cli_gateway_jwt_key\" cannot read \"%V\"",
                               &path);
            return (char *) NGX_CONF_ERROR;
        }

        std::string file((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
        if (jwks) {
            keys = cligw::load_jwks(file, error);

        } else {
            std::unique_ptr<cligw::JwtKey> key =
                cligw::load_jwt_key(alg, file, error);
            if (key) {
                keys = std::make_unique<cligw::JwtKeys>();
                keys->push_back(std::move(*key));
            }
        }

    } catch (const std::exception &e) {
        error = e.what();
    }

    if (!keys) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_jwt_key\" \"%V\": %s", &path,
                           error.c_str());
        return (char *) NGX_CONF_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    glcf->jwt_keys = keys.release();
    cln->handler = ngx_http_cli_gateway_free_keys;
    cln->data = glcf->jwt_keys;

    return NGX_CONF_OK;
}


static void
ngx_http_cli_gateway_free_keys(void *data)
{
    delete (cligw::JwtKeys *) data;
}


/* cli_gateway_jwt_require claim ... | off */

char *
ngx_http_cli_gateway_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_str_t  *value;

    if (glcf->jwt_require != NGX_CONF_UNSET_PTR) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        glcf->jwt_require = NULL;
        return NGX_CONF_OK;
    }

    glcf->jwt_require = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                         sizeof(ngx_str_t));
    if (glcf->jwt_require == NULL
        || ngx_http_cli_gateway_require_list(cf, glcf->jwt_require)
           != NGX_OK)
    {
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_require_list(ngx_conf_t *cf, ngx_array_t *names)
{
    ngx_str_t   *value, *name, *seen;
    ngx_uint_t   i, k;

    value = (ngx_str_t *) cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (value[i].len == 0
            || ngx_strlen(value[i].data) != value[i].len
            || ngx_strcmp(value[i].data, "off") == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cli_gateway_jwt_require\" takes claim "
                               "names or \"off\" alone, not \"%V\"",
                               &value[i]);
            return NGX_ERROR;
        }

        seen = (ngx_str_t *) names->elts;

        for (k = 0; k < names->nelts; k++) {
            if (seen[k].len == value[i].len
                && ngx_strncmp(seen[k].data, value[i].data, value[i].len)
                   == 0)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "\"cli_gateway_jwt_require\" names "
                                   "\"%V\" twice", &value[i]);
                return NGX_ERROR;
            }
        }

        name = (ngx_str_t *) ngx_array_push(names);
        if (name == NULL) {
            return NGX_ERROR;
        }

        *name = value[i];
    }

    return NGX_OK;
}


/*
 * false with the claims in ctx when the token is good; true when it is not,
 * with rc what the handler returns (the 401 is sent)
 */

bool
ngx_http_cli_gateway_jwt_refused(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_int_t &rc)
{
    ngx_str_t           value, *required;
    ngx_uint_t          i;
    ngx_keyval_t       *kv;
    cligw::JwtRules     rules;

    rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    if (ngx_http_complex_value(r, glcf->jwt, &value) != NGX_OK) {
        return true;
    }

    std::string_view token = cligw::strip_bearer(
        std::string_view((char *) value.data, value.len));

    if (token.empty()) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cli_gateway: refused, no token");
        rc = ngx_http_cli_gateway_unauthorized(r, "Bearer", "Missing token");
        return true;
    }

    rules.now = ngx_time();
    rules.leeway = (long) glcf->jwt_leeway;
    rules.issuer = std::string_view((char *) glcf->jwt_issuer.data,
                                    glcf->jwt_issuer.len);
    rules.audience = std::string_view((char *) glcf->jwt_audience.data,
                                      glcf->jwt_audience.len);
    rules.required.clear();

    if (glcf->jwt_require) {
        required = (ngx_str_t *) glcf->jwt_require->elts;

        for (i = 0; i < glcf->jwt_require->nelts; i++) {
            rules.required.emplace_back((char *) required[i].data,
                                        required[i].len);
        }
    }

    cligw::JwtResult result = cligw::verify_jwt(token, *glcf->jwt_keys, rules);

    if (!result.ok) {
        /* the error may quote the token's header */
        std::string escaped;
        cligw::log_append_escaped(escaped, result.error);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cli_gateway: refused, invalid token: %s",
                      escaped.c_str());
        rc = ngx_http_cli_gateway_unauthorized(r,
                 "Bearer error=\"invalid_token\"",
                 "Invalid token: " + result.error);
        return true;
    }

    ctx->claims = ngx_array_create(r->pool, result.claims.size() + 1,
                                   sizeof(ngx_keyval_t));
    if (ctx->claims == NULL) {
        return true;
    }

    for (i = 0; i < result.claims.size(); i++) {
        const std::string &k = result.claims[i].first;
        const std::string &v = result.claims[i].second;

        kv = (ngx_keyval_t *) ngx_array_push(ctx->claims);
        if (kv == NULL) {
            return true;
        }

        kv->key = ngx_http_cli_gateway_pool_string(r->pool, k);
        kv->value = ngx_http_cli_gateway_pool_string(r->pool, v);

        if (kv->key.data == NULL || kv->value.data == NULL) {
            return true;
        }
    }

    return false;
}


static ngx_int_t
ngx_http_cli_gateway_unauthorized(ngx_http_request_t *r,
    const char *challenge, std::string_view message)
{
    if (ngx_http_cli_gateway_add_header(r, "WWW-Authenticate", challenge)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cli_gateway_send_error(r, NGX_HTTP_UNAUTHORIZED,
                                           "unauthorized", message);
}
