/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * Responses of the gateway: JSON errors before the stream, the SSE header.
 */

#include "ngx_http_cli_gateway.h"

#include <string>

#include "cligw/error.hpp"


static ngx_str_t  ngx_http_cli_gateway_request_id = ngx_string("request_id");
static ngx_str_t  ngx_http_cli_gateway_json = ngx_string("application/json");


ngx_int_t
ngx_http_cli_gateway_send_error(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view code, std::string_view message,
    const std::vector<cligw::ValidationError> *validation_errors)
{
    ngx_int_t                   rc;
    cligw::ErrorBody            e;
    ngx_http_variable_value_t  *vv;

    ngx_http_cli_gateway_metric_refused(r, code);

    /* the body, if any, was not read: nothing of it is used */
    if (!ngx_http_cli_gateway_refuse_expect(r)) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    e.code = code;
    e.message = message;
    e.path = std::string_view((char *) r->uri.data, r->uri.len);
    e.validation_errors = validation_errors;
    e.now = ngx_time();

    vv = ngx_http_get_variable(r, &ngx_http_cli_gateway_request_id,
             ngx_hash_key(ngx_http_cli_gateway_request_id.data,
                          ngx_http_cli_gateway_request_id.len));
    if (vv && !vv->not_found) {
        e.trace_id = std::string_view((char *) vv->data, vv->len);
    }

    return ngx_http_cli_gateway_send_response(r, status,
                                              &ngx_http_cli_gateway_json,
                                              cligw::render_error_body(e));
}


/* A whole response: its header, then its body unless HEAD. */

ngx_int_t
ngx_http_cli_gateway_send_response(ngx_http_request_t *r, ngx_uint_t status,
    const ngx_str_t *type, std::string_view body)
{
    ngx_int_t  rc;

    r->headers_out.status = status;
    r->headers_out.content_length_n = body.size();
    r->headers_out.content_type = *type;
    r->headers_out.content_type_len = type->len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_cli_gateway_send_body(r, body);
}


/* A whole response body at once, after its header, and flushed. */

ngx_int_t
ngx_http_cli_gateway_send_body(ngx_http_request_t *r, std::string_view body)
{
    ngx_buf_t    *b;
    ngx_chain_t   out;

    b = ngx_create_temp_buf(r->pool, body.size());
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, body.data(), body.size());
    b->last_buf = 1;
    b->last_in_chain = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * A refusal before the body is read, to a client that waits for
 * "100 Continue" before it sends the body: nginx would send one while
 * discarding the body (ngx_http_test_expect()), inviting a body nothing
 * reads. The expectation is marked answered, and the connection closes
 * after the reply (lingering, for bytes already on their way) rather than
 * waiting for a body that may never come, or taking it for the next
 * request. True when the body must not be discarded.
 */

bool
ngx_http_cli_gateway_refuse_expect(ngx_http_request_t *r)
{
    ngx_str_t  *expect;

    /* HTTP/2 and HTTP/3 streams end on their own, nginx sends them no 100 */
    if (r != r->main
        || r->expect_tested
        || r->request_body
        || r->discard_body
        || r->headers_in.expect == NULL
        || r->http_version != NGX_HTTP_VERSION_11)
    {
        return false;
    }

    expect = &r->headers_in.expect->value;

    if (expect->len != sizeof("100-continue") - 1
        || ngx_strncasecmp(expect->data, (u_char *) "100-continue",
                           sizeof("100-continue") - 1)
           != 0)
    {
        return false;
    }

    r->expect_tested = 1;
    r->keepalive = 0;
    r->lingering_close = 1;

    return true;
}


ngx_str_t
ngx_http_cli_gateway_pool_string(ngx_pool_t *pool, std::string_view s)
{
    ngx_str_t  str = { 0, NULL };

    str.data = (u_char *) ngx_pnalloc(pool, s.size() + 1);
    if (str.data) {
        ngx_memcpy(str.data, s.data(), s.size());
        str.data[s.size()] = '\0';
        str.len = s.size();
    }

    return str;
}


/* a value from the request, safe for one error.log line */

ngx_str_t
ngx_http_cli_gateway_log_escape(ngx_pool_t *pool, ngx_str_t value)
{
    std::string  escaped;

    cligw::log_append_escaped(escaped,
        std::string_view((char *) value.data, value.len));

    return ngx_http_cli_gateway_pool_string(pool, escaped);
}


ngx_int_t
ngx_http_cli_gateway_add_header(ngx_http_request_t *r, const char *key,
    const char *value)
{
    ngx_table_elt_t  *h;

    h = (ngx_table_elt_t *) ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) key;
    h->key.len = ngx_strlen(key);
    h->value.data = (u_char *) value;
    h->value.len = ngx_strlen(value);

    return NGX_OK;
}
