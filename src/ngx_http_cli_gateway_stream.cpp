/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The client stream of a run: its events handed to nginx as flushed
 * chains of output blocks, back-pressure, send_timeout and keep-alive.
 * HTTP/1.1 frames the body with the chunked filter (no Content-Length),
 * HTTP/1.0 gets it until the connection closes, HTTP/2 as DATA frames;
 * all three go through ngx_http_output_filter and say "behind" the same
 * way (NGX_AGAIN, r->buffered or c->buffered).
 */

#include "ngx_http_cli_gateway_run.h"

#include <algorithm>


namespace cligw {

namespace {

/* the comment frame sent when no event went out for a while */
u_char  keepalive_frame[] = ":\n\n";


void
stream_write_handler(ngx_http_request_t *r)
{
    ngx_http_cli_gateway_ctx_t  *ctx;

    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_http_get_module_ctx(r, ngx_http_cli_gateway_module);

    if (ctx == NULL || ctx->stream == NULL) {
        return;
    }

    ClientStream *s = ctx->stream;

    guarded(s->owner(), [&] { s->on_writable(); });
}


void
stream_keepalive_handler(ngx_event_t *ev)
{
    ClientStream  *s = (ClientStream *) ev->data;

    guarded(s->owner(), [&] { s->on_keepalive(); });
}


void
stream_request_cleanup(void *data)
{
    ngx_http_cli_gateway_ctx_t  *ctx = (ngx_http_cli_gateway_ctx_t *) data;

    if (ctx->stream) {
        ClientStream *s = ctx->stream;

        guarded(s->owner(), [&] { s->gone(); });
    }
}


void
stream_pool_cleanup(void *data)
{
    ClientStream  *s = (ClientStream *) data;

    guarded(s->owner(), [&] { s->on_pool_gone(); });
}

} // namespace


ClientStream::ClientStream(Owner &owner, ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, BlockWriter &events, BlockPool &blocks,
    ngx_msec_t keepalive)
    : owner_(owner), r_(r), ctx_(ctx), events_(events), blocks_(blocks),
      keepalive_(keepalive)
{
    /* it must not hold a gracefully exiting worker back */
    init_timer(keepalive_ev_, stream_keepalive_handler, this, owner.log(),
               true);

    ctx_->stream = this;
}


ClientStream::~ClientStream()
{
    detach();

    if (pool_cln_) {
        /* worker exit: the request is there still, but sends no more */
        pool_cln_->handler = NULL;
    }

    for (OutBlock *b : busy_) {
        recycle(b);
    }

    for (OutBlock *b : spare_) {
        delete b;
    }
}


ngx_int_t
ClientStream::attach()
{
    ngx_http_cleanup_t  *cln;

    cln = ngx_http_cleanup_add(r_, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = stream_request_cleanup;
    cln->data = ctx_;

    pool_cln_ = ngx_pool_cleanup_add(r_->pool, 0);
    if (pool_cln_ == NULL) {
        return NGX_ERROR;
    }

    pool_cln_->handler = stream_pool_cleanup;
    pool_cln_->data = this;

    return NGX_OK;
}


ngx_int_t
ClientStream::start()
{
    ngx_http_core_loc_conf_t  *clcf;

    /* small events must not wait for the client's delayed ACK (Nagle) */
    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_get_module_loc_conf(r_, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(r_->connection) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_cli_gateway_send_stream_header(r_);
}


void
ClientStream::stream()
{
    /* a client that goes away is noticed while the program is quiet */
    r_->read_event_handler = ngx_http_test_reading;
    r_->write_event_handler = stream_write_handler;

    /* a stream that starts quiet (a reattach at the log's end) too */
    if (keepalive_ && !keepalive_ev_.timer_set) {
        ngx_add_timer(&keepalive_ev_, keepalive_);
    }
}


/* A spare OutBlock, or a new one; may throw before anything changed. */

OutBlock *
ClientStream::next_block()
{
    if (spare_.empty()) {
        /* room for every OutBlock in both: reclaim() cannot throw */
        std::size_t all = busy_.size() + spare_.size() + 1;
        busy_.reserve(all);
        spare_.reserve(all);
        spare_.push_back(new OutBlock());
    }

    OutBlock *b = spare_.back();
    spare_.pop_back();
    busy_.push_back(b);
    ngx_memzero(b, sizeof(OutBlock));

    b->buf.tag = (ngx_buf_tag_t) &ngx_http_cli_gateway_module;
    b->link.buf = &b->buf;
    b->link.next = NULL;

    return b;
}


/*
 * Hands the log's events to nginx as one flushed chain of blocks. The
 * blocks go back to the worker's pool once sent.
 */

ngx_int_t
ClientStream::send(bool last)
{
    OutBlock     *b = nullptr;
    ngx_chain_t  *out = NULL, **ll = &out;

    if (events_.empty() && !last) {
        return NGX_OK;
    }

    do {
        b = next_block();

        Chunk chunk = events_.take_front();

        b->block = chunk.data;
        b->buf.start = (u_char *) chunk.data;
        b->buf.pos = b->buf.start;
        b->buf.last = b->buf.pos + chunk.size;
        b->buf.end = b->buf.last;
        b->buf.memory = chunk.size ? 1 : 0;

        *ll = &b->link;
        ll = &b->link.next;

        ctx_->bytes += chunk.size;
        ngx_http_cli_gateway_metric_events(r_, chunk.size);

    } while (!events_.empty());

    b->buf.flush = 1;
    b->buf.last_buf = last ? 1 : 0;
    b->buf.last_in_chain = 1;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r_->connection->log, 0,
                   "cli_gateway: send, last: %d, %O bytes so far",
                   (int) last, ctx_->bytes);

    if (output(out) == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (last) {
        del_timers({ &keepalive_ev_ });

    } else if (keepalive_) {
        ngx_add_timer(&keepalive_ev_, keepalive_);
    }

    return NGX_OK;
}


/* Through the filters; blocked_ when the client is behind. */

ngx_int_t
ClientStream::output(ngx_chain_t *out)
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    rc = ngx_http_output_filter(r_, out);

    reclaim();

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    c = r_->connection;
    wev = c->write;
    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_get_module_loc_conf(r_, ngx_http_core_module);

    blocked_ = (rc == NGX_AGAIN || r_->buffered || c->buffered);

    if (blocked_) {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "cli_gateway: client behind, pipes wait");

        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


void
ClientStream::on_keepalive()
{
    if (r_ == nullptr) {
        return;
    }

    if (blocked_) {
        /* events are on their way; the program may be quiet after */
        ngx_add_timer(&keepalive_ev_, keepalive_);
        return;
    }

    /* whatever the log holds goes first */
    if (!events_.empty() && send(false) == NGX_ERROR) {
        fail();
        return;
    }

    OutBlock *b = next_block();

    b->block = nullptr;
    b->buf.start = keepalive_frame;
    b->buf.pos = b->buf.start;
    b->buf.last = b->buf.pos + sizeof(keepalive_frame) - 1;
    b->buf.end = b->buf.last;
    b->buf.memory = 1;
    b->buf.flush = 1;

    ctx_->bytes += sizeof(keepalive_frame) - 1;
    ngx_http_cli_gateway_metric_events(r_, sizeof(keepalive_frame) - 1);

    if (output(&b->link) == NGX_ERROR) {
        fail();
        return;
    }

    ngx_add_timer(&keepalive_ev_, keepalive_);
}


void
ClientStream::reclaim()
{
    auto sent = std::stable_partition(busy_.begin(), busy_.end(),
                                      [](OutBlock *b) {
                                          return ngx_buf_size(&b->buf) != 0;
                                      });

    for (auto it = sent; it != busy_.end(); ++it) {
        recycle(*it);
    }

    busy_.erase(sent, busy_.end());
}


void
ClientStream::recycle(OutBlock *b) noexcept
{
    /* the block goes back to the pool; the struct stays, since a filter
     * (chunked) may still link to it. next_block() reserved room in
     * spare_. */
    if (b->block) {
        blocks_.give(b->block);
        b->block = nullptr;
    }

    spare_.push_back(b);
}


void
ClientStream::on_writable()
{
    ngx_int_t                  rc;
    ngx_event_t               *wev;
    ngx_connection_t          *c;
    ngx_http_core_loc_conf_t  *clcf;

    c = r_->connection;
    wev = c->write;
    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_get_module_loc_conf(r_, ngx_http_core_module);

    if (wev->timedout) {
        ngx_log_error(NGX_LOG_INFO, c->log, NGX_ETIMEDOUT,
                      "cli_gateway: client timed out");
        c->timedout = 1;
        fail();
        return;
    }

    if (!wev->delayed) {
        rc = ngx_http_output_filter(r_, NULL);

        reclaim();

        if (rc == NGX_ERROR) {
            fail();
            return;
        }
    }

    if (wev->delayed || r_->buffered || c->buffered) {
        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            fail();
        }

        return;
    }

    if (wev->timer_set) {
        ngx_del_timer(wev);
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "cli_gateway: client caught up");

    blocked_ = false;

    owner_.on_stream_writable();
}


void
ClientStream::complete()
{
    ngx_http_request_t  *r = r_;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cli_gateway: stream complete");

    detach();
    ngx_http_finalize_request(r, NGX_OK);
}


void
ClientStream::fail()
{
    ngx_http_request_t  *r = r_;

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "cli_gateway: stream failed");

    gone();
    ngx_http_finalize_request(r, NGX_ERROR);
}


void
ClientStream::gone()
{
    if (r_ == nullptr) {
        return;
    }

    owner_.on_stream_failed();
    detach();
}


void
ClientStream::detach()
{
    del_timers({ &keepalive_ev_ });

    if (ctx_) {
        ctx_->stream = nullptr;
    }

    r_ = nullptr;
    ctx_ = nullptr;
}


/*
 * The request's pool is destroyed: nothing in nginx links to the buffers
 * now. Before, an HTTP/2 stream closed with frames still queued sends them
 * from busy_ (and writes their buf->pos), long after the request ended.
 */

void
ClientStream::on_pool_gone()
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, owner_.log(), 0,
                   "cli_gateway: request pool gone, %uz buffers back",
                   busy_.size());

    pool_cln_ = nullptr;

    for (OutBlock *b : busy_) {
        recycle(b);
    }

    busy_.clear();

    owner_.on_stream_released();
}

} // namespace cligw


/* 200, text/event-stream, no length: what every stream starts with */

ngx_int_t
ngx_http_cli_gateway_send_stream_header(ngx_http_request_t *r)
{
    r->headers_out.status = NGX_HTTP_OK;
    ngx_str_set(&r->headers_out.content_type, "text/event-stream");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    /* length unknown: the chunked filter frames HTTP/1.1 */
    ngx_http_clear_content_length(r);
    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

#if (NGX_HTTP_GZIP)
    /* gzip would hold events back until its buffer fills */
    r->gzip_tested = 1;
    r->gzip_ok = 0;
#endif

    if (ngx_http_cli_gateway_add_header(r, "Cache-Control", "no-cache")
            != NGX_OK
        || ngx_http_cli_gateway_add_header(r, "X-Accel-Buffering", "no")
            != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_send_header(r);
}
