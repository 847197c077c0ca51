/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * $cli_gateway_* variables: the body's context_id for cli_gateway_env, and
 * the run's account for access_log.
 */

#include "ngx_http_cli_gateway.h"


static ngx_int_t ngx_http_cli_gateway_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_cli_gateway_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


enum {
    ngx_http_cli_gateway_var_context_id,
    ngx_http_cli_gateway_var_pid,
    ngx_http_cli_gateway_var_exit_code,
    ngx_http_cli_gateway_var_duration,
    ngx_http_cli_gateway_var_bytes,
    ngx_http_cli_gateway_var_args,
    ngx_http_cli_gateway_var_user
};


static ngx_http_variable_t  ngx_http_cli_gateway_vars[] = {

    { ngx_string("cli_gateway_context_id"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_context_id,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_pid"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_pid,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_exit_code"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_exit_code,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_duration"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_duration,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_bytes"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_bytes,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_args"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_args,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_user"), NULL,
      ngx_http_cli_gateway_variable, ngx_http_cli_gateway_var_user,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("cli_gateway_jwt_claim_"), NULL,
      ngx_http_cli_gateway_claim_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_cli_gateway_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_cli_gateway_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_cli_gateway_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                      *p;
    ngx_str_t                    s;
    ngx_http_cli_gateway_ctx_t  *ctx;

    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_http_get_module_ctx(r, ngx_http_cli_gateway_module);

    v->not_found = 1;

    if (ctx == NULL) {
        return NGX_OK;
    }

    p = (u_char *) ngx_pnalloc(r->pool, NGX_INT64_LEN + 8);
    if (p == NULL) {
        return NGX_ERROR;
    }

    s.data = p;
    s.len = 0;

    switch (data) {

    case ngx_http_cli_gateway_var_context_id:
        if (!ctx->has_context_id) {
            return NGX_OK;
        }
        s = ctx->context_id;
        break;

    case ngx_http_cli_gateway_var_pid:
        if (!ctx->spawned) {
            return NGX_OK;
        }
        s.len = ngx_sprintf(p, "%P", ctx->pid) - p;
        break;

    case ngx_http_cli_gateway_var_exit_code:
        if (!ctx->ended && !ctx->spawned) {
            return NGX_OK;
        }
        s.len = ngx_sprintf(p, "%i", ctx->exit_code) - p;
        break;

    case ngx_http_cli_gateway_var_duration:
        if (!ctx->spawned) {
            return NGX_OK;
        }
        s.len = ngx_sprintf(p, "%T.%03M",
                            (time_t) ctx->duration / 1000,
                            ctx->duration % 1000) - p;
        break;

    case ngx_http_cli_gateway_var_bytes:
        s.len = ngx_sprintf(p, "%O", ctx->bytes) - p;
        break;

    case ngx_http_cli_gateway_var_args:
        if (ctx->args.data == NULL) {
            return NGX_OK;
        }
        s = ctx->args;
        break;

    default: /* ngx_http_cli_gateway_var_user */
        s = ctx->user;
        break;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


/*
 * $cli_gateway_jwt_claim_<name>: the top-level claim of the verified token
 * named exactly <name>. Claim names are case-sensitive (RFC 7519 10.1.1)
 * and nginx lowercases variable names, so a claim with a capital letter is
 * no variable's: "USER_TYPE" never stands in for "user_type".
 */

static ngx_int_t
ngx_http_cli_gateway_claim_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   *var = (ngx_str_t *) data;
    ngx_str_t                    name;
    ngx_uint_t                   i;
    ngx_keyval_t                *kv;
    ngx_http_cli_gateway_ctx_t  *ctx;

    v->not_found = 1;

    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_http_get_module_ctx(r, ngx_http_cli_gateway_module);

    if (ctx == NULL || ctx->claims == NULL) {
        return NGX_OK;
    }

    name.data = var->data + sizeof("cli_gateway_jwt_claim_") - 1;
    name.len = var->len - (sizeof("cli_gateway_jwt_claim_") - 1);

    kv = (ngx_keyval_t *) ctx->claims->elts;

    for (i = 0; i < ctx->claims->nelts; i++) {
        if (kv[i].key.len == name.len
            && ngx_strncmp(kv[i].key.data, name.data, name.len) == 0)
        {
            v->data = kv[i].value.data;
            v->len = kv[i].value.len;
            v->valid = 1;
            v->no_cacheable = 1;
            v->not_found = 0;
            return NGX_OK;
        }
    }

    return NGX_OK;
}
