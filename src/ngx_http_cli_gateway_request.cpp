/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * Reading the request body and turning it into a run, or into a 4xx.
 */

#include "ngx_http_cli_gateway.h"

#include <exception>
#include <string>

#include "cligw/error.hpp"


static void ngx_http_cli_gateway_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cli_gateway_process_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_cli_gateway_collect_body(ngx_http_request_t *r,
    size_t limit, std::string &body);
static ngx_int_t ngx_http_cli_gateway_body_status(ngx_http_request_t *r,
    ngx_int_t status);


ngx_int_t
ngx_http_cli_gateway_read_body(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    rc = ngx_http_read_client_request_body(r,
                                           ngx_http_cli_gateway_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        /*
         * bad chunked framing or client_max_body_size: answer in JSON;
         * the rest of the body is unread, so the connection ends
         */
        r->keepalive = 0;
        r->lingering_close = 1;
        return ngx_http_cli_gateway_body_status(r, rc);
    }

    return NGX_DONE;
}


static void
ngx_http_cli_gateway_body_handler(ngx_http_request_t *r)
{
    ngx_int_t  rc;

    try {
        rc = ngx_http_cli_gateway_process_body(r);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: %s", e.what());
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } catch (...) {
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_DONE) {
        /* the run owns the request now and finalizes it */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_cli_gateway_process_body(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    cligw::RequestLimits              limits;
    ngx_http_cli_gateway_ctx_t       *ctx;
    ngx_http_cli_gateway_loc_conf_t  *glcf;

    glcf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_cli_gateway_module);
    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_http_get_module_ctx(r, ngx_http_cli_gateway_module);

    std::string body;

    rc = ngx_http_cli_gateway_collect_body(r, glcf->max_body_size, body);
    if (rc != NGX_OK) {
        return ngx_http_cli_gateway_body_status(r, rc);
    }

    limits.max_args = glcf->max_args;
    limits.max_arg_length = glcf->max_arg_length;

    cligw::ParseResult parsed = cligw::parse_cli_request(body, limits);

    switch (parsed.status) {

    case cligw::ParseStatus::ok:
        break;

    case cligw::ParseStatus::bad_json:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\", %s",
                      &ctx->log_user, parsed.message.c_str());
        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_BAD_REQUEST,
                                               "bad_request", parsed.message);

    case cligw::ParseStatus::invalid:
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\", %s: %s",
                      &ctx->log_user, parsed.message.c_str(),
                      parsed.errors.empty() ? ""
                          : parsed.errors[0].field.c_str());
        return ngx_http_cli_gateway_send_error(r, 422, "validation_error",
                                               parsed.message,
                                               &parsed.errors);
    }

    std::string refusal;

    if (ngx_http_cli_gateway_policy_refused(r, glcf, ctx,
                                            parsed.request.args, refusal))
    {
        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_FORBIDDEN,
                                               "forbidden", refusal);
    }

    return ngx_http_cli_gateway_start_run(r, ctx, parsed.request);
}


/*
 * Small bodies are in memory; larger ones nginx may have put in a
 * temporary file (client_body_buffer_size).
 */

static ngx_int_t
ngx_http_cli_gateway_collect_body(ngx_http_request_t *r, size_t limit,
    std::string &body)
{
    off_t         size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (r->request_body == NULL) {
        return NGX_OK;
    }

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        size = b->in_file ? b->file_last - b->file_pos : b->last - b->pos;

        if ((size_t) size > limit - body.size()) {
            return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
        }

        if (!b->in_file) {
            body.append((char *) b->pos, size);
            continue;
        }

        std::size_t at = body.size();
        body.resize(at + size);

        n = ngx_read_file(b->file, (u_char *) &body[at], size, b->file_pos);

        if (n != size) {
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "cli_gateway: short read of the request body "
                          "from \"%V\"", &b->file->name);
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    return NGX_OK;
}


/* The 4xx statuses a body can earn, in the error body's shape. */

static ngx_int_t
ngx_http_cli_gateway_body_status(ngx_http_request_t *r, ngx_int_t status)
{
    switch (status) {

    case NGX_HTTP_REQUEST_ENTITY_TOO_LARGE:
        return ngx_http_cli_gateway_send_error(r, status,
                   "payload_too_large",
                   "Request body is larger than the limit");

    case NGX_HTTP_BAD_REQUEST:
        return ngx_http_cli_gateway_send_error(r, status, "bad_request",
                   "Malformed request body");

    default:
        return status;
    }
}
