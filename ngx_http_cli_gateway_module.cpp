/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * ngx_http_cli_gateway_module: an admin-only CLI gateway in a location.
 *
 * This file holds the directives, the configuration, the module definition
 * and the content handler's checks before the body is read. The rest of
 * the glue is src/ngx_http_cli_gateway_*.cpp: request (the body), program
 * (the spawn and the child), run, pipe and stream (a run's parts), error
 * (replies before the stream), jwt, policy, cgroup, ledger, rlimit and
 * variables; the nginx-free parts are in src/cligw/.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>
#include <unistd.h>

#include <new>


static ngx_int_t ngx_http_cli_gateway_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cli_gateway_check(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf);
static bool ngx_http_cli_gateway_authorize(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t **pctx,
    ngx_int_t &rc);
static bool ngx_http_cli_gateway_runs_path(ngx_http_request_t *r,
    ngx_str_t *path);
static ngx_int_t ngx_http_cli_gateway_claim_ok(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx);

static char *ngx_http_cli_gateway(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cli_gateway_admin_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_cli_gateway_env(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_cli_gateway_stop_signal(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);

static ngx_int_t ngx_http_cli_gateway_preconfiguration(ngx_conf_t *cf);
static void *ngx_http_cli_gateway_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_cli_gateway_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_cli_gateway_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_cli_gateway_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static ngx_int_t ngx_http_cli_gateway_init_process(ngx_cycle_t *cycle);
static void ngx_http_cli_gateway_exit_process(ngx_cycle_t *cycle);


static char *ngx_http_cli_gateway_check_line_max(ngx_conf_t *cf,
    void *post, void *data);

static ngx_conf_post_handler_pt  ngx_http_cli_gateway_line_max_post =
    ngx_http_cli_gateway_check_line_max;


static ngx_command_t  ngx_http_cli_gateway_commands[] = {

    { ngx_string("cli_gateway"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cli_gateway,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_admin_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_cli_gateway_admin_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_env"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_cli_gateway_env,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_allow"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cli_gateway_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, allow),
      NULL },

    { ngx_string("cli_gateway_deny"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cli_gateway_rule,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, deny),
      NULL },

    { ngx_string("cli_gateway_jwt"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, jwt),
      NULL },

    { ngx_string("cli_gateway_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_cli_gateway_jwt_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, jwt_leeway),
      NULL },

    { ngx_string("cli_gateway_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, jwt_issuer),
      NULL },

    { ngx_string("cli_gateway_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, jwt_audience),
      NULL },

    { ngx_string("cli_gateway_jwt_require"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cli_gateway_jwt_require,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_clear_env"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, clear_env),
      NULL },

    { ngx_string("cli_gateway_user"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, user),
      NULL },

    { ngx_string("cli_gateway_working_directory"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, working_directory),
      NULL },

    { ngx_string("cli_gateway_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, max_timeout),
      NULL },

    { ngx_string("cli_gateway_default_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, default_timeout),
      NULL },

    { ngx_string("cli_gateway_keepalive_interval"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, keepalive),
      NULL },

    { ngx_string("cli_gateway_drain_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, drain),
      NULL },

    { ngx_string("cli_gateway_stop_signal"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cli_gateway_stop_signal,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_stop_grace"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, stop_grace),
      NULL },

    { ngx_string("cli_gateway_max_body_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, max_body_size),
      NULL },

    { ngx_string("cli_gateway_line_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, line_max),
      &ngx_http_cli_gateway_line_max_post },

    { ngx_string("cli_gateway_output_max"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, output_max),
      NULL },

    { ngx_string("cli_gateway_max_args"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, max_args),
      NULL },

    { ngx_string("cli_gateway_max_arg_length"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, max_arg_length),
      NULL },

    { ngx_string("cli_gateway_rlimit_cpu"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, rlimit_cpu),
      &ngx_http_cli_gateway_rlimit_cpu_post },

    { ngx_string("cli_gateway_rlimit_as"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_off_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, rlimit_as),
      &ngx_http_cli_gateway_rlimit_as_post },

    { ngx_string("cli_gateway_rlimit_nofile"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_cli_gateway_loc_conf_t, rlimit_nofile),
      &ngx_http_cli_gateway_rlimit_nofile_post },

    { ngx_string("cli_gateway_priority"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_cli_gateway_priority,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_cgroup"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_cli_gateway_cgroup,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_runs_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_cli_gateway_runs_zone,
      0,
      0,
      NULL },

    { ngx_string("cli_gateway_runs"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_cli_gateway_runs,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("cli_gateway_max_running"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_cli_gateway_max_running,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_cli_gateway_module_ctx = {
    ngx_http_cli_gateway_preconfiguration, /* preconfiguration */
    NULL,                                  /* postconfiguration */

    ngx_http_cli_gateway_create_main_conf, /* create main configuration */
    ngx_http_cli_gateway_init_main_conf,   /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_cli_gateway_create_loc_conf,  /* create location configuration */
    ngx_http_cli_gateway_merge_loc_conf    /* merge location configuration */
};


ngx_module_t  ngx_http_cli_gateway_module = {
    NGX_MODULE_V1,
    &ngx_http_cli_gateway_module_ctx,      /* module context */
    ngx_http_cli_gateway_commands,         /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_cli_gateway_init_process,     /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_cli_gateway_exit_process,     /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_cli_gateway_forbidden =
    ngx_string("Admin role required for CLI gateway");


static ngx_int_t
ngx_http_cli_gateway_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_http_cli_gateway_loc_conf_t  *glcf;

    glcf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_cli_gateway_module);

    /* no exception may reach nginx's C frames */
    try {
        rc = ngx_http_cli_gateway_check(r, glcf);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: %s", e.what());
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: unexpected exception");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /* nginx's own error page must not invite the body either */
        (void) ngx_http_cli_gateway_refuse_expect(r);
    }

    return rc;
}


/*
 * The checks that need no body, cheapest and least revealing first; nothing
 * is read or spawned for a caller without the admin claim.
 */

static ngx_int_t
ngx_http_cli_gateway_check(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf)
{
    ngx_int_t                     rc;
    ngx_str_t                    *type, path;
    ngx_http_cli_gateway_ctx_t   *ctx;

    if (r != r->main) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cli_gateway: subrequests are not served");
        return NGX_HTTP_FORBIDDEN;
    }

    if (glcf->runs && ngx_http_cli_gateway_runs_path(r, &path)) {
        if (!ngx_http_cli_gateway_authorize(r, glcf, &ctx, rc)) {
            return rc;
        }

        return ngx_http_cli_gateway_runs_api(r, glcf, ctx, &path);
    }

    if (r->method != NGX_HTTP_POST) {
        if (ngx_http_cli_gateway_add_header(r, "Allow", "POST") != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_NOT_ALLOWED,
                   "method_not_allowed", "Method not allowed, use POST");
    }

    if (!ngx_http_cli_gateway_authorize(r, glcf, &ctx, rc)) {
        return rc;
    }

    type = r->headers_in.content_type ? &r->headers_in.content_type->value
                                      : NULL;

    if (type == NULL
        || !cligw::is_json_content_type(
               std::string_view((char *) type->data, type->len)))
    {
        return ngx_http_cli_gateway_send_error(r,
                   NGX_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type",
                   "Expected request with `Content-Type: application/json`");
    }

    if (r->headers_in.content_length_n > (off_t) glcf->max_body_size) {
        return ngx_http_cli_gateway_send_error(r,
                   NGX_HTTP_REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                   "Request body is larger than the limit");
    }

    return ngx_http_cli_gateway_read_body(r);
}


/*
 * The caller's token, user and admin claim: true, or false with the answer
 * in rc. Every request of a gateway passes it, the runs API's as well.
 */

static bool
ngx_http_cli_gateway_authorize(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t **pctx,
    ngx_int_t &rc)
{
    ngx_http_cli_gateway_ctx_t   *ctx;

    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_pcalloc(r->pool, sizeof(ngx_http_cli_gateway_ctx_t));
    if (ctx == NULL) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return false;
    }

    ctx->pid = -1;
    ctx->exit_code = -1;

    ngx_http_set_ctx(r, ctx, ngx_http_cli_gateway_module);
    *pctx = ctx;

    if (glcf->jwt && ngx_http_cli_gateway_jwt_refused(r, glcf, ctx, rc)) {
        return false;
    }

    if (glcf->user
        && ngx_http_complex_value(r, glcf->user, &ctx->user) != NGX_OK)
    {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return false;
    }

    if (ctx->user.len == 0) {
        ngx_str_set(&ctx->log_user, "-");

    } else {
        ctx->log_user = ngx_http_cli_gateway_log_escape(r->pool, ctx->user);
        if (ctx->log_user.data == NULL) {
            rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return false;
        }
    }

    switch (ngx_http_cli_gateway_claim_ok(r, glcf, ctx)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        rc = ngx_http_cli_gateway_send_error(r, NGX_HTTP_FORBIDDEN,
                   "forbidden",
                   std::string_view((char *) ngx_http_cli_gateway_forbidden.data,
                                    ngx_http_cli_gateway_forbidden.len));
        return false;

    default:
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
        return false;
    }

    return true;
}


/*
 * A location with cli_gateway_runs: whether the URI is under its runs (true,
 * path is what follows the location's name) or the gateway's own.
 */

static bool
ngx_http_cli_gateway_runs_path(ngx_http_request_t *r, ngx_str_t *path)
{
    ngx_str_t                  base;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    base = clcf->name;

    if (base.len && base.data[base.len - 1] == '/') {
        base.len--;
    }

    if (r->uri.len < base.len
        || ngx_strncmp(r->uri.data, base.data, base.len) != 0)
    {
        return false;
    }

    path->data = r->uri.data + base.len;
    path->len = r->uri.len - base.len;

    return !(path->len == 0 || (path->len == 1 && path->data[0] == '/'));
}


/* NGX_OK: the claim holds an accepted value; NGX_DECLINED: it does not */

static ngx_int_t
ngx_http_cli_gateway_claim_ok(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx)
{
    ngx_str_t   value, *accept;
    ngx_uint_t  i;

    if (ngx_http_complex_value(r, glcf->claim, &value) != NGX_OK) {
        return NGX_ERROR;
    }

    accept = (ngx_str_t *) glcf->claim_accept->elts;

    for (i = 0; i < glcf->claim_accept->nelts; i++) {
        if (value.len == accept[i].len
            && ngx_strncmp(value.data, accept[i].data, value.len) == 0)
        {
            return NGX_OK;
        }
    }

    value = ngx_http_cli_gateway_log_escape(r->pool, value);

    ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                  "cli_gateway: refused user \"%V\", admin claim \"%V\" "
                  "not accepted", &ctx->log_user, &value);

    return NGX_DECLINED;
}


static char *
ngx_http_cli_gateway(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_str_t                         *value;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    if (glcf->program.data) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway\" needs an absolute program path, "
                           "\"%V\" is not", &value[1]);
        return (char *) NGX_CONF_ERROR;
    }

    if (ngx_strlen(value[1].data) != value[1].len) {
        return (char *) "has a NUL byte in the program path";
    }

    if (access((char *) value[1].data, X_OK) != 0) {
        /* it may be installed after nginx starts: runs then report it */
        ngx_conf_log_error(NGX_LOG_WARN, cf, ngx_errno,
                           "\"cli_gateway\" program \"%V\" is not executable "
                           "now", &value[1]);
    }

    glcf->program = value[1];
    glcf->conf_file = cf->conf_file->file.name.data;
    glcf->conf_line = cf->conf_file->line;

    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cli_gateway_handler;

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_cli_gateway_module);
    gmcf->used = 1;

    if (ngx_http_cli_gateway_add_ledger(cf, gmcf) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cli_gateway_admin_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_str_t                         *value, *accept;
    ngx_uint_t                         i;
    ngx_http_compile_complex_value_t   ccv;

    if (glcf->claim) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;

    glcf->claim = (ngx_http_complex_value_t *)
                      ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (glcf->claim == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = glcf->claim;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    if (ccv.complex_value->lengths == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_admin_claim\" value \"%V\" has no "
                           "variable, so it would admit every caller",
                           &value[1]);
        return (char *) NGX_CONF_ERROR;
    }

    glcf->claim_accept = ngx_array_create(cf->pool, cf->args->nelts - 2,
                                          sizeof(ngx_str_t));
    if (glcf->claim_accept == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {
        if (value[i].len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cli_gateway_admin_claim\" does not accept "
                               "an empty value");
            return (char *) NGX_CONF_ERROR;
        }

        accept = (ngx_str_t *) ngx_array_push(glcf->claim_accept);
        if (accept == NULL) {
            return (char *) NGX_CONF_ERROR;
        }

        *accept = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cli_gateway_env(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    u_char                            *p;
    ngx_str_t                         *value;
    ngx_http_cli_gateway_env_t        *env;
    ngx_http_compile_complex_value_t   ccv;

    value = (ngx_str_t *) cf->args->elts;

    if (value[1].len == 0) {
        return (char *) "needs a variable name";
    }

    for (p = value[1].data; p < value[1].data + value[1].len; p++) {
        if (*p == '=' || *p == '\0') {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cli_gateway_env\" name \"%V\" must not "
                               "contain \"=\" or NUL", &value[1]);
            return (char *) NGX_CONF_ERROR;
        }
    }

    if (ngx_strlen(value[2].data) != value[2].len) {
        return (char *) "has a NUL byte in the value";
    }

    if (glcf->env == NGX_CONF_UNSET_PTR) {
        glcf->env = ngx_array_create(cf->pool, 4,
                                     sizeof(ngx_http_cli_gateway_env_t));
        if (glcf->env == NULL) {
            return (char *) NGX_CONF_ERROR;
        }
    }

    env = (ngx_http_cli_gateway_env_t *) ngx_array_push(glcf->env);
    if (env == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    env->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &env->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_cli_gateway_stop_signal(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    static const struct {
        const char  *name;
        int          signo;
    } signals[] = {
        { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT },
        { "HUP", SIGHUP }, { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
        { "USR2", SIGUSR2 }
    };

    ngx_str_t   *value, name;
    ngx_uint_t   i;

    if (glcf->stop_signal != NGX_CONF_UNSET) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;
    name = value[1];

    if (name.len > 3 && ngx_strncasecmp(name.data, (u_char *) "SIG", 3) == 0) {
        name.data += 3;
        name.len -= 3;
    }

    for (i = 0; i < sizeof(signals) / sizeof(signals[0]); i++) {
        if (name.len == ngx_strlen(signals[i].name)
            && ngx_strncasecmp(name.data, (u_char *) signals[i].name,
                               name.len) == 0)
        {
            glcf->stop_signal = signals[i].signo;
            return NGX_CONF_OK;
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "\"cli_gateway_stop_signal\": unknown signal \"%V\", "
                       "use TERM, KILL, INT, HUP, QUIT, USR1 or USR2",
                       &value[1]);

    return (char *) NGX_CONF_ERROR;
}


/* nginx prefixes the returned text with the directive's name */

static char *
ngx_http_cli_gateway_check_line_max(ngx_conf_t *cf, void *post, void *data)
{
    size_t  *sp = (size_t *) data;

    if (*sp < 64) {
        return (char *) "must be at least 64";
    }

    if (*sp > 16 * 1024 * 1024) {
        return (char *) "must be at most 16m";
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_cli_gateway_add_variables(cf);
}


static void *
ngx_http_cli_gateway_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_pcalloc(cf->pool, sizeof(ngx_http_cli_gateway_main_conf_t));
    if (gmcf == NULL) {
        return NULL;
    }

    ngx_queue_init(&gmcf->runs);
    ngx_queue_init(&gmcf->readers);
    gmcf->max_running = NGX_CONF_UNSET_UINT;

    return gmcf;
}


/* the whole configuration is read: size the ledger, check the cgroups */

static char *
ngx_http_cli_gateway_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_cli_gateway_main_conf_t *gmcf =
        (ngx_http_cli_gateway_main_conf_t *) conf;

    if (ngx_http_cli_gateway_size_ledger(cf, gmcf) != NGX_OK
        || ngx_http_cli_gateway_check_cgroups(cf, gmcf) != NGX_OK)
    {
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_cli_gateway_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_cli_gateway_loc_conf_t  *conf;

    conf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_pcalloc(cf->pool, sizeof(ngx_http_cli_gateway_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->program = { 0, NULL };
     *     conf->working_directory = { 0, NULL };
     *     conf->claim = NULL;
     *     conf->claim_accept = NULL;
     *     conf->policy = NULL;
     *     conf->priority_set = 0;
     */

    conf->env = (ngx_array_t *) NGX_CONF_UNSET_PTR;
    conf->allow = (ngx_array_t *) NGX_CONF_UNSET_PTR;
    conf->deny = (ngx_array_t *) NGX_CONF_UNSET_PTR;
    conf->user = (ngx_http_complex_value_t *) NGX_CONF_UNSET_PTR;
    conf->jwt = (ngx_http_complex_value_t *) NGX_CONF_UNSET_PTR;
    conf->jwt_leeway = NGX_CONF_UNSET;
    conf->jwt_require = (ngx_array_t *) NGX_CONF_UNSET_PTR;
    conf->clear_env = NGX_CONF_UNSET;
    conf->max_timeout = NGX_CONF_UNSET;
    conf->default_timeout = NGX_CONF_UNSET;
    conf->keepalive = NGX_CONF_UNSET_MSEC;
    conf->drain = NGX_CONF_UNSET_MSEC;
    conf->stop_grace = NGX_CONF_UNSET_MSEC;
    conf->stop_signal = NGX_CONF_UNSET;
    conf->max_body_size = NGX_CONF_UNSET_SIZE;
    conf->line_max = NGX_CONF_UNSET_SIZE;
    conf->output_max = NGX_CONF_UNSET;
    conf->max_args = NGX_CONF_UNSET_UINT;
    conf->max_arg_length = NGX_CONF_UNSET_SIZE;
    conf->rlimit_cpu = NGX_CONF_UNSET;
    conf->rlimit_as = NGX_CONF_UNSET;
    conf->rlimit_nofile = NGX_CONF_UNSET;
    conf->cgroup = (ngx_http_cli_gateway_cgroup_t *) NGX_CONF_UNSET_PTR;
    conf->runs = (ngx_shm_zone_t *) NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_cli_gateway_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_cli_gateway_loc_conf_t *prev =
        (ngx_http_cli_gateway_loc_conf_t *) parent;
    ngx_http_cli_gateway_loc_conf_t *conf =
        (ngx_http_cli_gateway_loc_conf_t *) child;

    if (conf->claim == NULL) {
        conf->claim = prev->claim;
        conf->claim_accept = prev->claim_accept;
    }

    ngx_conf_merge_ptr_value(conf->env, prev->env, NULL);

    ngx_conf_merge_ptr_value(conf->user, prev->user, NULL);
    ngx_conf_merge_ptr_value(conf->jwt, prev->jwt, NULL);
    ngx_conf_merge_sec_value(conf->jwt_leeway, prev->jwt_leeway, 0);
    ngx_conf_merge_str_value(conf->jwt_issuer, prev->jwt_issuer, "");
    ngx_conf_merge_str_value(conf->jwt_audience, prev->jwt_audience, "");
    ngx_conf_merge_ptr_value(conf->jwt_require, prev->jwt_require,
                             &ngx_http_cli_gateway_jwt_require_default);

    if (conf->jwt_keys == NULL) {
        conf->jwt_keys = prev->jwt_keys;
    }

    if (conf->jwt && conf->jwt_keys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_jwt\" needs \"cli_gateway_jwt_key\"");
        return (char *) NGX_CONF_ERROR;
    }
    ngx_conf_merge_str_value(conf->working_directory,
                             prev->working_directory, "");
    ngx_conf_merge_value(conf->clear_env, prev->clear_env, 0);
    ngx_conf_merge_sec_value(conf->max_timeout, prev->max_timeout, 600);
    ngx_conf_merge_sec_value(conf->default_timeout, prev->default_timeout,
                             300);
    ngx_conf_merge_msec_value(conf->keepalive, prev->keepalive, 15000);
    ngx_conf_merge_msec_value(conf->drain, prev->drain, 1000);
    ngx_conf_merge_msec_value(conf->stop_grace, prev->stop_grace, 5000);
    ngx_conf_merge_value(conf->stop_signal, prev->stop_signal, SIGTERM);
    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              1024 * 1024);
    ngx_conf_merge_size_value(conf->line_max, prev->line_max, 64 * 1024);
    ngx_conf_merge_off_value(conf->output_max, prev->output_max, 0);
    ngx_conf_merge_uint_value(conf->max_args, prev->max_args, 4096);
    /* Linux refuses a longer argument (MAX_ARG_STRLEN, with its NUL) */
    ngx_conf_merge_size_value(conf->max_arg_length, prev->max_arg_length,
                              128 * 1024 - 1);
    ngx_http_cli_gateway_merge_limits(conf, prev);

    if (ngx_http_cli_gateway_merge_policy(cf, conf, prev) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }
    ngx_conf_merge_ptr_value(conf->cgroup, prev->cgroup, NULL);

    if (conf->working_directory.len
        && conf->working_directory.data[0] != '/')
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_working_directory\" must be an "
                           "absolute path, \"%V\" is not",
                           &conf->working_directory);
        return (char *) NGX_CONF_ERROR;
    }

    /* not inherited: the runs are those of this location's gateway */
    if (conf->runs == NGX_CONF_UNSET_PTR) {
        conf->runs = NULL;
    }

    if (conf->program.data == NULL) {
        if (conf->runs) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"cli_gateway_runs\" needs \"cli_gateway\" "
                               "in the same location");
            return (char *) NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (conf->claim == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"cli_gateway\" in %s:%ui needs "
                      "\"cli_gateway_admin_claim\": without it every caller "
                      "could run the program",
                      conf->conf_file, conf->conf_line);
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_init_process(ngx_cycle_t *cycle)
{
    struct sigaction                   sa;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_cli_gateway_module);

    if (gmcf == NULL || !gmcf->used) {
        return NGX_OK;
    }

    /*
     * nginx's SIGCHLD handler reaps every child with waitpid(-1) and logs
     * an "unknown process" line for each. A worker has no children of
     * nginx's own, so the default disposition leaves ours to their pidfds.
     */

    ngx_memzero(&sa, sizeof(struct sigaction));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);

    if (sigaction(SIGCHLD, &sa, NULL) == -1) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno,
                      "cli_gateway: sigaction(SIGCHLD) failed");
        return NGX_ERROR;
    }

    if (ngx_http_cli_gateway_join_ledger(cycle, gmcf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_cli_gateway_init_runs(cycle, gmcf);
}


static void
ngx_http_cli_gateway_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_cycle_get_module_main_conf(cycle,
                                                   ngx_http_cli_gateway_module);

    if (gmcf == NULL || !gmcf->used) {
        return;
    }

    ngx_http_cli_gateway_stop_all_readers(gmcf);
    ngx_http_cli_gateway_stop_all_runs(gmcf);
    ngx_http_cli_gateway_leave_ledger(gmcf);
}
