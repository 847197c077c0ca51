/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The runs of a location with cli_gateway_runs, under its URI: the list,
 * a record, its events (a reattached stream), and a cancel. The caller
 * passed the gateway's checks; a run is visible only to the user who
 * started it, and another user's id is answered like an unknown one.
 *
 * A reattached stream (RunReader) reads the run's log from the zone, so it
 * may be in any worker: it polls every 25 ms, sends whole events, and says
 * so with a gap event when the log no longer holds what it asked for.
 */

#include "ngx_http_cli_gateway_run.h"

#include <memory>
#include <string>


namespace cligw {

namespace {

/* how often a reattached stream looks for new events */
constexpr ngx_msec_t reader_poll = 25;
/* how often a stream whose client is behind says it is still there */
constexpr ngx_msec_t reader_behind = 250;
/* log bytes a reattached stream copies at most per poll */
constexpr std::size_t reader_slice = 256 * 1024;

} // namespace


class RunReader final : public ClientStream::Owner {
public:
    RunReader(ngx_http_request_t *r, ngx_http_cli_gateway_main_conf_t *gmcf,
              ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id,
              std::uint64_t from, bool checked);
    ~RunReader();

    RunReader(const RunReader &) = delete;
    RunReader &operator=(const RunReader &) = delete;

    ngx_int_t begin(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
                    ngx_msec_t keepalive);
    void on_poll();
    void on_free() { delete this; }

    ngx_log_t *log() override;
    void on_exception() override;
    void on_stream_writable() override;
    void on_stream_failed() override;
    void on_stream_released() override;

    struct Link {
        ngx_queue_t   queue;    /* in ngx_http_cli_gateway_main_conf_t */
        RunReader    *reader;
    };

    Link          link;

private:
    void poll();
    bool take(std::string &chunk, std::uint64_t from);
    void finish(const char *error);
    bool sending() const { return stream_ && stream_->attached(); }
    void free_when_done();

    ngx_log_t                           log_;
    ngx_http_cli_gateway_runs_zone_t   *rz_;
    BlockPool                          &blocks_;
    std::string                         id_;
    std::uint64_t                       offset_;      /* next log byte */
    std::uint64_t                       lost_from_ = 0;
    bool                                resync_ = false;
    ngx_uint_t                          polls_ = 0;
    bool                                ending_ = false;
    BlockWriter                         events_;
    std::unique_ptr<ClientStream>       stream_;

    ngx_event_t   poll_ev_;
    ngx_event_t   free_ev_;
};


namespace {

void
reader_poll_handler(ngx_event_t *ev)
{
    RunReader  *reader = (RunReader *) ev->data;

    guarded(*reader, [&] { reader->on_poll(); });
}


void
reader_free_handler(ngx_event_t *ev)
{
    ((RunReader *) ev->data)->on_free();
}

} // namespace


RunReader::RunReader(ngx_http_request_t *r,
    ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id,
    std::uint64_t from, bool checked)
    : log_(*r->connection->log), rz_(rz), blocks_(*gmcf->blocks), id_(id),
      offset_(from), events_(*gmcf->blocks)
{
    if (!checked) {
        /* from may be within an event: the stream starts at the next one */
        resync_ = true;
        lost_from_ = from;
    }

    log_.handler = NULL;
    log_.data = NULL;
    log_.action = NULL;

    /* a stream of a live run holds a gracefully exiting worker, as runs do */
    init_timer(poll_ev_, reader_poll_handler, this, &log_, false);
    init_timer(free_ev_, reader_free_handler, this, &log_, false);

    link.reader = this;
    ngx_queue_insert_tail(&gmcf->readers, &link.queue);
}


RunReader::~RunReader()
{
    del_timers({ &poll_ev_ });

    if (free_ev_.posted) {
        ngx_delete_posted_event(&free_ev_);
    }

    if (poll_ev_.posted) {
        ngx_delete_posted_event(&poll_ev_);
    }

    ngx_queue_remove(&link.queue);
}


ngx_log_t *
RunReader::log()
{
    return sending() ? stream_->request()->connection->log : &log_;
}


ngx_int_t
RunReader::begin(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_msec_t keepalive)
{
    ngx_int_t  rc;

    stream_.reset(new ClientStream(*this, r, ctx, events_, blocks_,
                                   keepalive));

    if (stream_->attach() != NGX_OK) {
        stream_->detach();
        return NGX_ERROR;
    }

    rc = stream_->start();

    if (rc == NGX_ERROR || rc > NGX_OK) {
        stream_->detach();
        return rc;
    }

    stream_->stream();
    poll();

    return NGX_DONE;
}


void
RunReader::on_poll()
{
    poll();
}


/*
 * What the log has beyond offset_, whole events only, to the client; the
 * stream ends after the run's last event.
 */

void
RunReader::poll()
{
    bool                             found, exited, ok, behind;
    RingRead                         read;
    std::string                      chunk;
    ngx_http_cli_gateway_run_rec_t  *rec;

    if (ending_ || !sending()) {
        return;
    }

    /* a client behind is a client still, for the run's detach clock and
     * state; it reads once it caught up (on_stream_writable()) */
    behind = stream_->blocked();

    {
        ngx_http_cli_gateway_runs_lock lock(rz_);

        rec = ngx_http_cli_gateway_runs_find(rz_, id_);
        found = rec != NULL;
        exited = found && rec->exited;
        ok = false;

        if (found) {
            rec->reader_seen = ngx_current_msec;
        }

        if (found && !behind) {
            /* about once a second: is the program's worker still there? */
            if (++polls_ % 40 == 0
                && ngx_http_cli_gateway_runs_orphaned(rec, this->log()))
            {
                exited = true;
            }

            ok = ring_read(rec->ring, offset_, reader_slice, chunk, read);
        }
    }

    if (behind) {
        ngx_add_timer(&poll_ev_, reader_behind);
        return;
    }

    if (!found || !ok) {
        /* the record expired, or made room for others, while we read */
        finish("Run expired");
        return;
    }

    bool more = take(chunk, read.from);

    if (stream_->send(false) == NGX_ERROR) {
        stream_->fail();
        return;
    }

    if (exited && offset_ == read.head && !resync_) {
        finish(nullptr);
        return;
    }

    if (stream_->blocked()) {
        /* on_stream_writable() polls again; till then, the client counts */
        ngx_add_timer(&poll_ev_, reader_behind);
        return;
    }

    if (more) {
        if (poll_ev_.timer_set) {
            ngx_del_timer(&poll_ev_);
        }

        ngx_post_event(&poll_ev_, &ngx_posted_events);

    } else {
        ngx_add_timer(&poll_ev_, reader_poll);
    }
}


/*
 * chunk holds the log from byte from on. Its whole events go to the client;
 * bytes lost before them are reported first. True if there may be more.
 */

bool
RunReader::take(std::string &chunk, std::uint64_t from)
{
    std::size_t  start = 0, end;

    if (from > offset_ && !resync_) {
        /* overwritten before we read them: a gap, from here */
        resync_ = true;
        lost_from_ = offset_;
    }

    if (resync_) {
        /* the first bytes may be the rest of an event: the next one */
        start = first_event_end(chunk);

        if (start == std::string::npos) {
            offset_ = from + chunk.size();
            return chunk.size() == reader_slice;
        }

        offset_ = from + start;
        resync_ = false;

        sse_append_gap(events_, offset_ - lost_from_, offset_);

        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: run %s: %uL bytes of its log were lost "
                      "to a reattached stream", id_.c_str(),
                      offset_ - lost_from_);
    }

    end = last_event_end(chunk);

    if (end <= start) {
        /* an event larger than a slice goes in pieces */
        end = chunk.size() == reader_slice ? chunk.size() : start;
    }

    events_.append(chunk.data() + start, end - start);
    offset_ = from + end;

    return chunk.size() == reader_slice;
}


/* The client caught up: the stream goes on, or it ends, its last sent */

void
RunReader::on_stream_writable()
{
    if (ending_) {
        stream_->complete();
        return;
    }

    poll();
}


/* The last of the stream: with error, an event saying why it ends early */

void
RunReader::finish(const char *error)
{
    ending_ = true;
    del_timers({ &poll_ev_ });

    if (error) {
        sse_append_error(events_, error);
    }

    if (stream_->send(true) == NGX_ERROR) {
        stream_->fail();
        return;
    }

    if (!stream_->blocked()) {
        stream_->complete();
        return;
    }

    /* on_stream_writable() completes it once sent */
}


void
RunReader::on_stream_failed()
{
    ending_ = true;
    del_timers({ &poll_ev_ });
}


void
RunReader::on_stream_released()
{
    free_when_done();
}


void
RunReader::on_exception()
{
    if (sending()) {
        stream_->fail();
    }

    free_when_done();
}


void
RunReader::free_when_done()
{
    if (!sending() && !(stream_ && stream_->holds_buffers())
        && !free_ev_.posted)
    {
        ngx_post_event(&free_ev_, &ngx_posted_events);
    }
}

} // namespace cligw


using cligw::RunReader;


static ngx_int_t ngx_http_cli_gateway_runs_reply(ngx_http_request_t *r,
    ngx_uint_t status, std::string_view json);
static ngx_int_t ngx_http_cli_gateway_runs_events(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id);
static ngx_int_t ngx_http_cli_gateway_runs_not_allowed(ngx_http_request_t *r,
    const char *allow);
static ngx_int_t ngx_http_cli_gateway_runs_not_found(ngx_http_request_t *r);
static bool ngx_http_cli_gateway_last_event_id(ngx_http_request_t *r,
    std::uint64_t &id, bool &given);


ngx_int_t
ngx_http_cli_gateway_runs_api(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_str_t *path)
{
    std::string                        json;
    std::string_view                   rest, id;
    ngx_http_cli_gateway_run_rec_t    *rec;
    ngx_http_cli_gateway_runs_zone_t  *rz;

    rz = ngx_http_cli_gateway_runs_conf(glcf->runs);
    rest = std::string_view((char *) path->data, path->len);

    if (rest == "/runs" || rest == "/runs/") {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_cli_gateway_runs_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_cli_gateway_runs_reply(r, NGX_HTTP_OK,
                   ngx_http_cli_gateway_runs_list(rz, &ctx->user));
    }

    if (rest.substr(0, 6) != "/runs/") {
        return ngx_http_cli_gateway_runs_not_found(r);
    }

    id = rest.substr(6);
    rest = {};

    std::size_t slash = id.find('/');

    if (slash != std::string_view::npos) {
        rest = id.substr(slash);
        id = id.substr(0, slash);
    }

    if (id.empty() || id.size() > NGX_HTTP_CLI_GATEWAY_RUN_ID_MAX
        || !(rest.empty() || rest == "/events"))
    {
        return ngx_http_cli_gateway_runs_not_found(r);
    }

    if (rest == "/events") {
        if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
            return ngx_http_cli_gateway_runs_not_allowed(r, "GET, HEAD");
        }

        return ngx_http_cli_gateway_runs_events(r, glcf, ctx, rz, id);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD|NGX_HTTP_DELETE))) {
        return ngx_http_cli_gateway_runs_not_allowed(r, "GET, HEAD, DELETE");
    }

    ngx_uint_t status = NGX_HTTP_OK;

    {
        ngx_http_cli_gateway_runs_lock lock(rz);

        rec = ngx_http_cli_gateway_runs_lookup(rz, id, r->connection->log);

        if (rec && !ngx_http_cli_gateway_runs_owned(rec, &ctx->user)) {
            rec = NULL;
        }

        if (rec && r->method == NGX_HTTP_DELETE) {
            if (rec->exited) {
                status = NGX_HTTP_CONFLICT;

            } else {
                /* the program's worker sees the count change within 50 ms */
                rec->cancel = 1;
                (void) ngx_atomic_fetch_add(&rz->sh->cancels, 1);
                status = NGX_HTTP_ACCEPTED;
            }
        }

        if (rec) {
            json = ngx_http_cli_gateway_runs_json(rz, rec);
        }
    }

    if (rec == NULL) {
        return ngx_http_cli_gateway_runs_not_found(r);
    }

    if (status == NGX_HTTP_CONFLICT) {
        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_CONFLICT,
                   "conflict", "Run has already exited");
    }

    if (status == NGX_HTTP_ACCEPTED) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "cli_gateway: user \"%V\" cancels run %*s",
                      &ctx->log_user, id.size(), id.data());
    }

    return ngx_http_cli_gateway_runs_reply(r, status, json);
}


static ngx_int_t
ngx_http_cli_gateway_runs_events(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id)
{
    bool                               given, owned, valid, checked, over;
    ngx_int_t                          rc;
    RunReader                         *reader;
    std::uint64_t                      from;
    ngx_http_cli_gateway_run_rec_t    *rec;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    if (!ngx_http_cli_gateway_last_event_id(r, from, given)) {
        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "bad_request", "Last-Event-ID is not an event id");
    }

    ngx_shmtx_lock(&rz->shpool->mutex);

    rec = ngx_http_cli_gateway_runs_lookup(rz, id, r->connection->log);
    owned = rec && ngx_http_cli_gateway_runs_owned(rec, &ctx->user);
    valid = owned && cligw::ring_is_event_end(rec->ring, from);
    checked = valid && cligw::ring_is_checked_start(rec->ring, from);
    /* an exited run's log ends with its exit_code: nothing follows it */
    over = valid && rec->exited && from == rec->ring.head;

    ngx_shmtx_unlock(&rz->shpool->mutex);

    if (!owned) {
        return ngx_http_cli_gateway_runs_not_found(r);
    }

    if (!valid) {
        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_BAD_REQUEST,
                   "bad_request",
                   "Last-Event-ID does not name an event of this run");
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (over) {
        /*
         * After the last event of a run that exited: 204, which tells an
         * EventSource to stop reconnecting (a 200 with no events would
         * have it come back every few seconds for good).
         */
        r->headers_out.status = NGX_HTTP_NO_CONTENT;
        r->header_only = 1;
        ngx_http_clear_content_length(r);

        return ngx_http_send_header(r);
    }

    if (r->method == NGX_HTTP_HEAD) {
        /* the headers the stream would start with, and no stream */
        return ngx_http_cli_gateway_send_stream_header(r);
    }

    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_get_module_main_conf(r, ngx_http_cli_gateway_module);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cli_gateway: user \"%V\" reattached to run %*s from "
                  "byte %uL", &ctx->log_user, id.size(), id.data(), from);

    reader = new RunReader(r, gmcf, rz, id, from, checked);

    /* the stream may end within begin() (a finished run): r must stay */
    r->main->count++;

    try {
        rc = reader->begin(r, ctx, glcf->keepalive);

    } catch (...) {
        r->main->count--;
        delete reader;
        throw;
    }

    if (rc != NGX_DONE) {
        r->main->count--;
        delete reader;
        return rc;
    }

    return NGX_DONE;
}


static ngx_int_t
ngx_http_cli_gateway_runs_reply(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view json)
{
    ngx_int_t         rc;
    static ngx_str_t  type = ngx_string("application/json");

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    /* a run's state changes: no cache may answer for it */
    if (ngx_http_cli_gateway_add_header(r, "Cache-Control", "no-store")
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_cli_gateway_send_response(r, status, &type, json);
}


static ngx_int_t
ngx_http_cli_gateway_runs_not_allowed(ngx_http_request_t *r,
    const char *allow)
{
    if (ngx_http_cli_gateway_add_header(r, "Allow", allow) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cli_gateway_send_error(r, NGX_HTTP_NOT_ALLOWED,
               "method_not_allowed",
               std::string("Method not allowed, use ") + allow);
}


static ngx_int_t
ngx_http_cli_gateway_runs_not_found(ngx_http_request_t *r)
{
    return ngx_http_cli_gateway_send_error(r, NGX_HTTP_NOT_FOUND, "not_found",
                                           "Run not found");
}


/* Last-Event-ID: false if it is there and not an id; given if there */

static bool
ngx_http_cli_gateway_last_event_id(ngx_http_request_t *r, std::uint64_t &id,
    bool &given)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    id = 0;
    given = false;

    part = &r->headers_in.headers.part;
    h = (ngx_table_elt_t *) part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return true;
            }

            part = part->next;
            h = (ngx_table_elt_t *) part->elts;
            i = 0;
        }

        if (h[i].key.len != sizeof("Last-Event-ID") - 1
            || ngx_strncasecmp(h[i].key.data, (u_char *) "Last-Event-ID",
                               h[i].key.len) != 0)
        {
            continue;
        }

        if (given || h[i].value.len == 0) {
            return false;
        }

        /* an event id is the log offset after the event, in hex; leading
         * zeros do not count towards its 16 digits */
        ngx_uint_t digits = 0;

        for (ngx_uint_t k = 0; k < h[i].value.len; k++) {
            ngx_int_t d = ngx_hextoi(&h[i].value.data[k], 1);

            if (d == NGX_ERROR) {
                return false;
            }

            if (id == 0 && d == 0) {
                continue;
            }

            if (++digits > 16) {
                return false;
            }

            id = id * 16 + d;
        }

        given = true;
    }
}


void
ngx_http_cli_gateway_stop_all_readers(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&gmcf->readers)) {
        q = ngx_queue_head(&gmcf->readers);
        delete reinterpret_cast<RunReader::Link *>(q)->reader;
    }
}
