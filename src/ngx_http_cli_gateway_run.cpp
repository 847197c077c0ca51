/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * A run (class Run in ngx_http_cli_gateway_run.h): what goes from the
 * pipes to the client stream, the end of the run, and the worker's runs.
 */

#include "ngx_http_cli_gateway_run.h"

#include <signal.h>

#include <new>


namespace cligw {

namespace {

/* hand a chunk to nginx once this much is encoded */
constexpr std::size_t flush_threshold = 64 * 1024;
/* pipe bytes encoded between checks of the above: up to 48x as much SSE */
constexpr std::size_t encode_slice = 4 * 1024;
/* pipe bytes read per event before yielding to others */
constexpr std::size_t read_budget = 1024 * 1024;
/* at the end of a run, when a program may still write: bytes read, and
 * encoded output held, at most */
constexpr std::size_t drain_budget = 256 * 1024;
constexpr std::size_t drain_output_max = 1024 * 1024;
/* a detached run looks for a reattached client this often */
constexpr ngx_msec_t poll_interval = 250;

} // namespace




namespace {

void
run_pipe_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = (ngx_connection_t *) ev->data;
    Run               *run = (Run *) c->data;

    guarded(*run, [&] { run->on_pipe(c); });
}


void
run_timeout_handler(ngx_event_t *ev)
{
    Run  *run = (Run *) ev->data;

    guarded(*run, [&] { run->on_timeout(); });
}


void
run_drain_handler(ngx_event_t *ev)
{
    Run  *run = (Run *) ev->data;

    guarded(*run, [&] { run->on_drain_over(); });
}


void
run_free_handler(ngx_event_t *ev)
{
    ((Run *) ev->data)->on_free();
}


void
run_poll_handler(ngx_event_t *ev)
{
    Run  *run = (Run *) ev->data;

    guarded(*run, [&] { run->on_poll(); });
}

} // namespace


template <class F>
void
Run::write(F &&f)
{
    if (rec_) {
        f(numbered_);
        runlog_.publish();

    } else {
        f(events_);
    }
}


Run::Run(ngx_http_request_t *r, ngx_http_cli_gateway_loc_conf_t *glcf,
    ngx_http_cli_gateway_main_conf_t *gmcf, Child &child, time_t timeout,
    ngx_http_cli_gateway_ledger_entry_t *entry, const std::string &cgroup,
    ngx_shm_zone_t *runs, ngx_http_cli_gateway_run_rec_t *rec)
    : log_(*r->connection->log), gmcf_(gmcf),
      program_(*this, gmcf, glcf, child, entry, cgroup, &log_),
      events_(*gmcf->blocks),
      rz_(runs ? ngx_http_cli_gateway_runs_conf(runs) : nullptr), rec_(rec),
      runlog_(events_, *gmcf->scratch, rz_, rec), numbered_(runlog_, 0),
      out_(StreamKind::out, child.out, glcf->line_max, *gmcf->blocks),
      err_(StreamKind::err, child.err, glcf->line_max, *gmcf->blocks),
      timeout_secs_(timeout), detach_(glcf->detach), drain_(glcf->drain),
      output_max_(glcf->output_max)
{
    /* the request's log handler would read the request after it is gone */
    log_.handler = NULL;
    log_.data = NULL;
    log_.action = NULL;

    init_timer(timeout_ev_, run_timeout_handler, this, &log_, false);
    init_timer(drain_ev_, run_drain_handler, this, &log_, false);
    init_timer(free_ev_, run_free_handler, this, &log_, false);
    /* not for the worker's exit: the timeout holds it while the run goes */
    init_timer(poll_ev_, run_poll_handler, this, &log_, true);

    started_at_ = ngx_current_msec;

    link.run = this;
    ngx_queue_insert_tail(&gmcf_->runs, &link.queue);
}


Run::~Run()
{
    del_timers({ &timeout_ev_, &drain_ev_, &poll_ev_ });

    /* worker exit, or a failed begin: the record must not say running */
    runlog_.close(-1);

    if (free_ev_.posted) {
        ngx_delete_posted_event(&free_ev_);
    }

    ngx_queue_remove(&link.queue);
}


ngx_log_t *
Run::log()
{
    return sending() ? stream_->request()->connection->log : &log_;
}


ngx_int_t
Run::begin(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_msec_t keepalive)
{
    ngx_int_t  rc;

    /* the program's watch first: from now on it is reaped, whatever fails */
    bool watched = program_.watch();

    stream_.reset(new ClientStream(*this, r, ctx, events_, *gmcf_->blocks,
                                   keepalive));

    if (stream_->attach() != NGX_OK) {
        abandon();
        return NGX_ERROR;
    }

    if (!watched
        || !out_.watch(&log_, this, run_pipe_handler)
        || !err_.watch(&log_, this, run_pipe_handler))
    {
        /* worker_connections ran out: a run needs three beyond the client */
        abandon();
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    rc = stream_->start();

    if (rc == NGX_ERROR || rc > NGX_OK) {
        abandon();
        return rc;
    }

    if (rec_) {
        sse_append_started(numbered_, (long) program_.pid(),
                           ngx_http_cli_gateway_runs_id(rec_));
        runlog_.publish();

    } else {
        sse_append_started(events_, (long) program_.pid());
    }

    if (stream_->send(false) == NGX_ERROR) {
        abandon();
        return NGX_ERROR;
    }

    stream_->stream();

    ngx_add_timer(&timeout_ev_, (ngx_msec_t) timeout_secs_ * 1000);

    return NGX_DONE;
}


void
Run::on_pipe(ngx_connection_t *c)
{
    OutputPipe  &pipe = out_.owns(c) ? out_ : err_;

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log(), 0,
                   "cli_gateway: pid %P: %s readable, client behind: %d",
                   program_.pid(),
                   pipe.kind() == StreamKind::out ? "stdout" : "stderr",
                   (int) (stream_ && stream_->blocked()));

    if (!reading() || (sending() && stream_->blocked())) {
        /* on_stream_writable() posts this event again */
        return;
    }

    read_pipe(pipe, false);

    if (limit_hit_) {
        std::string message = limit_message();
        ngx_http_cli_gateway_metric_exit(gmcf_,
            NGX_HTTP_CLI_GATEWAY_EXIT_OUTPUT_LIMIT);
        end_stream(-1, &message);
        return;
    }

    if (sending() && !ending_ && stream_->send(false) == NGX_ERROR) {
        stream_->fail();
    }

    if (reading()) {
        check_done();
    }
}


void
Run::read_pipe(OutputPipe &pipe, bool draining)
{
    pipe.read(*this, gmcf_->read_buf, gmcf_->read_buf_size,
              draining ? drain_budget : read_budget, draining);
}


/*
 * Encodes data a slice at a time, handing it to nginx when enough is
 * encoded, so that what a stream holds is bounded by the slice, not by the
 * read (a read of empty lines is 48 times as much SSE). Returns the bytes
 * used: fewer when the client fell behind, or when draining has its fill.
 */

std::size_t
Run::take_output(OutputPipe &pipe, std::string_view data, bool draining)
{
    std::size_t  used = 0;

    while (used < data.size()) {
        std::string_view slice = data.substr(used, encode_slice);
        used += slice.size();

        if (!emit(pipe, slice)) {
            return data.size();
        }

        if (!sending()) {
            /* detached: the replay ring bounds what is kept */
            continue;
        }

        if (draining) {
            if (events_.size() >= drain_output_max) {
                return used;
            }
            continue;
        }

        if (events_.size() >= flush_threshold) {
            if (stream_->send(false) == NGX_ERROR) {
                stream_->fail();

                if (!detached_) {
                    return data.size();
                }
                continue;
            }

            if (stream_->blocked()) {
                return used;
            }
        }
    }

    return used;
}


/* Program output into the log; false when the output limit ended the run. */

bool
Run::emit(OutputPipe &pipe, std::string_view data)
{
    bool  over = false;

    if (output_max_ && output_seen_ + (off_t) data.size() > output_max_) {
        data = data.substr(0, output_max_ - output_seen_);
        over = true;
    }

    output_seen_ += data.size();
    runlog_.count_output(data.size());
    ngx_http_cli_gateway_metric_output(gmcf_, data.size());

    write([&](auto &out) { pipe.feed(out, data); });

    if (!over) {
        return true;
    }

    ngx_log_error(NGX_LOG_WARN, log(), 0,
                  "cli_gateway: pid %P exceeded cli_gateway_output_max %O, "
                  "stopping it", program_.pid(), output_max_);

    limit_hit_ = true;
    program_.stop();
    close_pipes(true);

    return false;
}


void
Run::close_pipes(bool finish_line)
{
    write([&](auto &out) {
        out_.close(out, finish_line);
        err_.close(out, finish_line);
    });
}


void
Run::on_pipe_end(OutputPipe &pipe)
{
    write([&](auto &out) { pipe.close(out, true); });
}


/* At the end of a run: what the pipes hold now, never waiting for more. */

void
Run::finish_pipes()
{
    for (OutputPipe *pipe : { &out_, &err_ }) {
        if (pipe->open()) {
            read_pipe(*pipe, true);
        }

        write([&](auto &out) { pipe->close(out, true); });
    }
}


std::string
Run::limit_message() const
{
    return "Output limit of " + std::to_string(output_max_)
           + " bytes exceeded";
}


void
Run::on_program_exit()
{
    if (reading()) {
        check_done();
    }

    free_when_done();
}


void
Run::on_program_released()
{
    free_when_done();
}


/* The stream ends once the program exited and both pipes are closed. */

void
Run::check_done()
{
    if (!program_.exited()) {
        return;
    }

    if (out_.open() || err_.open()) {
        /* a descendant may hold the pipes: give it drain_ to let go */
        if (!drain_ev_.timer_set) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log(), 0,
                           "cli_gateway: pid %P exited, pipes open: drain",
                           program_.pid());

            ngx_add_timer(&drain_ev_, drain_);
        }
        return;
    }

    ngx_http_cli_gateway_metric_end(gmcf_, program_);
    end_stream(program_.exit_code(), nullptr);
}


void
Run::on_drain_over()
{
    if (!reading()) {
        return;
    }

    if ((sending() && stream_->blocked()) || out_.has_unread()
        || err_.has_unread())
    {
        /* the client, not a descendant, keeps the pipes unread */
        ngx_add_timer(&drain_ev_, drain_);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: pid %P exited but its output is still "
                  "open, stopping its process group", program_.pid());

    program_.kill();
    finish_pipes();

    if (limit_hit_) {
        std::string message = limit_message();
        ngx_http_cli_gateway_metric_exit(gmcf_,
            NGX_HTTP_CLI_GATEWAY_EXIT_OUTPUT_LIMIT);
        end_stream(-1, &message);
        return;
    }

    ngx_http_cli_gateway_metric_end(gmcf_, program_);
    end_stream(program_.exit_code(), nullptr);
}


void
Run::on_timeout()
{
    if (!reading()) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log(), 0,
                  "cli_gateway: pid %P timed out after %Ts, stopping it",
                  program_.pid(), timeout_secs_);

    ngx_http_cli_gateway_metric_exit(gmcf_, NGX_HTTP_CLI_GATEWAY_EXIT_TIMEOUT);
    stop_with("Timeout after " + std::to_string(timeout_secs_) + "s");
}


/* The run ends now, with message: its program stops, its log ends. */

void
Run::stop_with(const std::string &message)
{
    program_.stop();
    finish_pipes();
    end_stream(-1, &message);
}


/* A run in a zone: a DELETE of it (the worker's cancel watch asks). */

void
Run::check_cancel()
{
    bool  cancel;

    /* a closed log's record may be gone (expired, or room for others) */
    if (ending_ || !runlog_.open()) {
        return;
    }

    ngx_shmtx_lock(&rz_->shpool->mutex);
    cancel = rec_->cancel;
    ngx_shmtx_unlock(&rz_->shpool->mutex);

    if (!cancel) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: run %V of pid %P cancelled, stopping it",
                  &rec_->sn.str, program_.pid());

    ngx_http_cli_gateway_metric_exit(gmcf_,
                                     NGX_HTTP_CLI_GATEWAY_EXIT_CANCELLED);
    stop_with("Cancelled");
}


/* worker_shutdown_timeout is over: the run ends, as its client's did. */

void
Run::shut_down()
{
    if (!reading()) {
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: worker_shutdown_timeout is over, stopping "
                  "pid %P", program_.pid());

    ngx_http_cli_gateway_metric_exit(gmcf_,
                                     NGX_HTTP_CLI_GATEWAY_EXIT_WORKER_EXIT);
    stop_with("nginx is shutting down");
}


/* A detached run: how long it has been without any client. */

void
Run::on_poll()
{
    ngx_msec_t  seen, since;

    if (!detached_ || ending_ || !runlog_.open()) {
        return;
    }

    ngx_shmtx_lock(&rz_->shpool->mutex);
    seen = rec_->reader_seen;
    ngx_shmtx_unlock(&rz_->shpool->mutex);

    since = (ngx_msec_int_t) (seen - detached_at_) > 0 ? seen : detached_at_;

    if (ngx_current_msec - since >= detach_) {
        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: run %V of pid %P had no client for "
                      "%M ms, stopping it", &rec_->sn.str, program_.pid(),
                      detach_);

        ngx_http_cli_gateway_metric_exit(gmcf_,
                                         NGX_HTTP_CLI_GATEWAY_EXIT_DETACH_TIMEOUT);
        stop_with("No client for " + std::to_string(detach_ / 1000) + "s");
        return;
    }

    ngx_add_timer(&poll_ev_, ngx_min(poll_interval, detach_));
}


void
Run::end_stream(int code, const std::string *error)
{
    if (!reading()) {
        return;
    }

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log(), 0,
                   "cli_gateway: pid %P: last events, exit_code %d%s",
                   program_.pid(), code, error ? ", with an error" : "");

    write([&](auto &out) {
        if (error) {
            sse_append_error(out, *error);
        }

        sse_append_exit_code(out, code);
    });

    ending_ = true;

    del_timers({ &timeout_ev_, &drain_ev_, &poll_ev_ });

    runlog_.close(code);

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: run of pid %P ended with exit_code %d after "
                  "%M ms, %O bytes of output", program_.pid(), code,
                  ngx_current_msec - started_at_, output_seen_);

    if (!sending()) {
        /* detached: the log in the zone was all there was to write */
        free_when_done();
        return;
    }

    ngx_http_cli_gateway_ctx_t *ctx = stream_->ctx();

    ctx->exit_code = code;
    ctx->ended = 1;
    ctx->duration = ngx_current_msec - ctx->started_at;

    if (stream_->send(true) == NGX_ERROR) {
        stream_->fail();
        return;
    }

    if (!stream_->blocked()) {
        stream_->complete();
    }
}


void
Run::on_stream_writable()
{
    if (ending_) {
        stream_->complete();
        return;
    }

    out_.post();
    err_.post();

    check_done();
}


/* The request ended before the last event: the program stops. */

void
Run::on_stream_failed()
{
    if (ending_) {
        let_go();
        return;
    }

    ngx_http_cli_gateway_ctx_t *ctx = stream_->ctx();

    ctx->exit_code = -1;
    ctx->duration = ngx_current_msec - ctx->started_at;

    if (rec_ && detach_) {
        detach();
        return;
    }

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: request ended before pid %P, stopping it",
                  program_.pid());
    ngx_http_cli_gateway_metric_exit(gmcf_,
                                     NGX_HTTP_CLI_GATEWAY_EXIT_CLIENT_GONE);

    if (rec_) {
        end_log("Client went away");
    }

    let_go();
}


/* The run's log in the zone ends, for its readers, with why and -1; the
 * client, if any, is not written to. */

void
Run::end_log(const char *why)
{
    runlog_.stop_local();
    sse_append_error(numbered_, std::string_view(why));
    sse_append_exit_code(numbered_, -1);
    runlog_.close(-1);
}


/* cli_gateway_runs detach=: the run goes on, its log in the zone only. */

void
Run::detach()
{
    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: request ended before pid %P, run %V goes "
                  "on detached for up to %M ms without a client",
                  program_.pid(), &rec_->sn.str, detach_);

    detached_ = true;
    detached_at_ = ngx_current_msec;

    runlog_.stop_local();
    clear_events();
    ngx_http_cli_gateway_runs_set_client(rz_, rec_, false);

    /* the pipes may have waited for the client */
    out_.post();
    err_.post();

    ngx_add_timer(&poll_ev_, ngx_min(poll_interval, detach_));
}


/* what the gone client did not take: its blocks back to the pool */

void
Run::clear_events()
{
    while (!events_.empty()) {
        Chunk c = events_.take_front();
        gmcf_->blocks->give(c.data);
    }
}


void
Run::on_stream_released()
{
    free_when_done();
}


/* No client any more: the pipes close, the program stops if it runs. */

void
Run::let_go()
{
    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &log_, 0,
                   "cli_gateway: pid %P: no client, pipes closed",
                   program_.pid());

    del_timers({ &timeout_ev_, &drain_ev_, &poll_ev_ });

    close_pipes(false);

    if (!program_.exited()) {
        program_.stop();
    }
}


/* begin() failed: the caller answers the request, the run lets it go */

void
Run::abandon()
{
    let_go();

    if (stream_) {
        stream_->detach();
    }

    free_when_done();
}


bool
Run::done() const
{
    return !sending() && !(stream_ && stream_->holds_buffers())
           && program_.exited() && !out_.open() && !err_.open()
           && !(detached_ && !ending_);
}


void
Run::free_when_done()
{
    if (done() && !free_ev_.posted) {
        ngx_post_event(&free_ev_, &ngx_posted_events);
    }
}


void
Run::on_free()
{
    bool  released = true;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, &log_, 0,
                   "cli_gateway: pid %P: run done", program_.pid());

    guarded(*this, [&] { released = program_.release(); });

    if (released) {
        delete this;
    }
}


/* An exception in a handler: the request fails, the program stops. */

void
Run::on_exception()
{
    if (sending()) {
        stream_->fail();

    } else {
        if (detached_ && !ending_) {
            ending_ = true;
            runlog_.close(-1);
            let_go();
        }

        program_.stop();
    }

    free_when_done();
}


/* Worker exit: nothing may outlive it, and nothing may be left open. */

void
Run::kill_now()
{
    program_.kill_now();

    if (runlog_.open() && !ending_) {
        end_log("nginx is shutting down");
    }
}

} // namespace cligw


using cligw::Run;


/* A started program, from now on the run's: watched, and streamed. */

ngx_int_t
ngx_http_cli_gateway_watch_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, ngx_http_cli_gateway_loc_conf_t *glcf,
    ngx_http_cli_gateway_main_conf_t *gmcf, cligw::Child &child,
    time_t timeout, ngx_http_cli_gateway_ledger_entry_t *entry,
    const std::string &cgroup)
{
    Run        *run;
    ngx_int_t   rc;

    try {
        run = new Run(r, glcf, gmcf, child, timeout, entry, cgroup,
                      glcf->runs, ctx->rec);

    } catch (const std::exception &) {
        cligw::signal_group(child.pid, SIGKILL);
        int code, signo;
        cligw::reap_child(child.pid, child.pidfd.get(), true, code, signo);
        ngx_http_cli_gateway_give_running(gmcf);

        if (ctx->rec) {
            ngx_http_cli_gateway_runs_exit(
                ngx_http_cli_gateway_runs_conf(glcf->runs), ctx->rec, -1);
        }

        if (cgroup.empty()) {
            ngx_http_cli_gateway_leave_run(gmcf, entry);

        } else {
            cligw::kill_cgroup(cgroup);
            ngx_http_cli_gateway_abandon_run(gmcf, entry);
        }

        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    try {
        rc = run->begin(r, ctx, glcf->keepalive);

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: %s", e.what());
        run->abandon();
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_cli_gateway_send_error(r, rc, "service_unavailable",
                   "No free connection to watch the program, "
                   "see worker_connections");
    }

    return rc;
}
