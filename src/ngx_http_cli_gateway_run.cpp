/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * One run of the program: the child's pipes and pidfd as nginx connections,
 * the SSE stream to the client, the timers, and the end of the process
 * whatever happens to the request.
 *
 * A Run is a heap object, not pool memory: it outlives its request when
 * the client goes away before the program (it then stops the process group
 * and reaps it), and the worker lists it for exit_process.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <new>
#include <string>
#include <vector>

#include "cligw_blocks.hpp"
#include "cligw_lines.hpp"
#include "cligw_process.hpp"
#include "cligw_sse.hpp"


namespace cligw {

namespace {

/* hand a chunk to nginx once this much is encoded */
constexpr std::size_t flush_threshold = 64 * 1024;
/* pipe bytes encoded between checks of the above: up to 48x as much SSE */
constexpr std::size_t encode_slice = 4 * 1024;
/* pipe bytes read at once, and per event before yielding to others */
constexpr std::size_t read_size = 64 * 1024;
constexpr std::size_t read_budget = 1024 * 1024;
/* at the end of a run, when a program may still write: bytes read, and
 * encoded output held, at most */
constexpr std::size_t drain_budget = 256 * 1024;
constexpr std::size_t drain_output_max = 1024 * 1024;
/* output blocks, and how many a worker keeps for its next streams (2 MiB) */
constexpr std::size_t block_size = 64 * 1024;
constexpr std::size_t max_kept_blocks = 32;

/* what a read left unencoded fits a block */
static_assert(read_size <= block_size, "a read must fit an output block");
/* how often a child is polled for its exit where there is no pidfd */
constexpr ngx_msec_t reap_poll = 50;


void run_pipe_handler(ngx_event_t *ev);
void run_exit_handler(ngx_event_t *ev);
void run_timer_handler(ngx_event_t *ev);
void run_free_handler(ngx_event_t *ev);
void run_write_handler(ngx_http_request_t *r);
void run_request_cleanup(void *data);
void run_pool_cleanup(void *data);

} // namespace


/* A chunk of encoded output as nginx sees it, until it is sent. */
struct OutBlock {
    ngx_buf_t    buf;
    ngx_chain_t  link;
    char        *block;     /* the worker's BlockPool's, or NULL */
};


class Run {
public:
    Run(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
        ngx_http_cli_gateway_loc_conf_t *glcf,
        ngx_http_cli_gateway_main_conf_t *gmcf, Child &child,
        time_t timeout);
    ~Run();

    Run(const Run &) = delete;
    Run &operator=(const Run &) = delete;

    ngx_int_t begin();

    void on_pipe(ngx_connection_t *c);
    void on_exit();
    void on_timer(ngx_event_t *ev);
    void on_writable();
    void on_request_gone();
    void on_pool_gone();
    void on_exception();
    void kill_now();

    ngx_log_t *log() { return r_ ? r_->connection->log : &log_; }
    bool done() const;

    /* a standard-layout link, so a queue entry leads back to its Run */
    struct Link {
        ngx_queue_t   queue;    /* in ngx_http_cli_gateway_main_conf_t */
        Run          *run;
    };

    Link          link;
    ngx_event_t   free_ev;

private:
    enum Stream { out = 0, err = 1 };

    ngx_connection_t *watch(UniqueFd &fd, ngx_event_handler_pt handler);
    void read_pipe(int k, bool draining);
    std::size_t encode(int k, std::string_view data, bool draining);
    void keep_unread(int k, std::string_view data, std::size_t used);
    void drop_unread(int k);
    bool emit(int k, std::string_view data);
    void close_pipe(int k, bool finish_line);
    void finish_pipes();
    void reap_blocking();
    void set_reaped(int code, int signo);
    std::string limit_message() const;
    void check_done();
    void end_stream(int code, const std::string *error);
    ngx_int_t flush(bool last);
    void reclaim();
    void recycle(OutBlock *b) noexcept;
    void complete();
    void fail();
    void detach();
    void stop();
    void after_reap();

    ngx_http_request_t                *r_;
    ngx_http_cli_gateway_ctx_t        *ctx_;
    ngx_http_cli_gateway_main_conf_t  *gmcf_;
    ngx_log_t                          log_;

    pid_t              pid_;
    UniqueFd           fds_[3];          /* out, err, pidfd until watched */
    ngx_connection_t  *pipe_[2] = { nullptr, nullptr };
    ngx_connection_t  *exit_ = nullptr;
    LineSplitter       lines_[2];

    /* bytes read from a pipe, not encoded yet: the client fell behind */
    struct Unread {
        char         *block = nullptr;   /* the worker's BlockPool's */
        std::size_t   pos = 0;
        std::size_t   len = 0;
    };

    Unread             unread_[2];

    ngx_event_t        timeout_ev_;
    ngx_event_t        keepalive_ev_;
    ngx_event_t        drain_ev_;
    ngx_event_t        kill_ev_;
    ngx_event_t        reap_ev_;         /* polls the exit without pidfd */

    BlockWriter             pending_;    /* encoded, not yet handed over */
    std::vector<OutBlock *> busy_;       /* held by nginx until sent */
    /* sent, block given back; kept, since nginx may still link to them */
    std::vector<OutBlock *> spare_;
    /* set while the request's pool lives: until it is destroyed, nginx
     * (HTTP/2 frames of a closed stream too) may hold busy_ */
    ngx_pool_cleanup_t     *pool_cln_ = nullptr;

    time_t       timeout_secs_;
    ngx_msec_t   keepalive_;
    ngx_msec_t   drain_;
    ngx_msec_t   grace_;
    int          stop_signal_;
    off_t        output_max_;
    off_t        output_seen_ = 0;

    int          exit_code_ = -1;
    int          signo_ = 0;
    bool         reaped_ = false;
    bool         stopping_ = false;
    bool         blocked_ = false;       /* client behind: pipes wait */
    bool         ending_ = false;        /* last event queued */
    bool         limit_hit_ = false;     /* cli_gateway_output_max */
};


Run::Run(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_http_cli_gateway_loc_conf_t *glcf,
    ngx_http_cli_gateway_main_conf_t *gmcf, Child &child, time_t timeout)
    : r_(r), ctx_(ctx), gmcf_(gmcf), log_(*r->connection->log),
      pid_(child.pid),
      lines_{ LineSplitter(glcf->line_max), LineSplitter(glcf->line_max) },
      pending_(*gmcf->blocks),
      timeout_secs_(timeout), keepalive_(glcf->keepalive),
      drain_(glcf->drain), grace_(glcf->stop_grace),
      stop_signal_((int) glcf->stop_signal), output_max_(glcf->output_max)
{
    /* the request's log handler would read the request after it is gone */
    log_.handler = NULL;
    log_.data = NULL;
    log_.action = NULL;

    fds_[0] = std::move(child.out);
    fds_[1] = std::move(child.err);
    fds_[2] = std::move(child.pidfd);

    ngx_event_t *timers[] = { &timeout_ev_, &keepalive_ev_, &drain_ev_,
                              &kill_ev_, &reap_ev_, &free_ev };

    for (ngx_event_t *ev : timers) {
        ngx_memzero(ev, sizeof(ngx_event_t));
        ev->handler = run_timer_handler;
        ev->data = this;
        ev->log = &log_;
    }

    free_ev.handler = run_free_handler;

    /* these must not hold a gracefully exiting worker back */
    keepalive_ev_.cancelable = 1;
    kill_ev_.cancelable = 1;
    reap_ev_.cancelable = 1;

    link.run = this;
    ngx_queue_insert_tail(&gmcf_->runs, &link.queue);
}


Run::~Run()
{
    ngx_event_t *timers[] = { &timeout_ev_, &keepalive_ev_, &drain_ev_,
                              &kill_ev_, &reap_ev_ };

    for (ngx_event_t *ev : timers) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }
    }

    if (free_ev.posted) {
        ngx_delete_posted_event(&free_ev);
    }

    for (int k = 0; k < 2; k++) {
        if (pipe_[k]) {
            ngx_close_connection(pipe_[k]);
        }
    }

    if (exit_) {
        ngx_close_connection(exit_);
    }

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

    drop_unread(out);
    drop_unread(err);

    ngx_queue_remove(&link.queue);

    /* the group was killed or ended with the run */
    ngx_http_cli_gateway_forget_group(gmcf_, pid_);
}


ngx_int_t
Run::begin()
{
    ngx_int_t                  rc;
    ngx_http_cleanup_t        *cln;
    ngx_http_core_loc_conf_t  *clcf;

    cln = ngx_http_cleanup_add(r_, 0);
    if (cln == NULL) {
        detach();
        return NGX_ERROR;
    }

    cln->handler = run_request_cleanup;
    cln->data = ctx_;

    pool_cln_ = ngx_pool_cleanup_add(r_->pool, 0);
    if (pool_cln_ == NULL) {
        detach();
        return NGX_ERROR;
    }

    pool_cln_->handler = run_pool_cleanup;
    pool_cln_->data = this;

    bool has_pidfd = bool(fds_[2]);

    pipe_[out] = watch(fds_[0], run_pipe_handler);
    pipe_[err] = watch(fds_[1], run_pipe_handler);

    if (has_pidfd) {
        exit_ = watch(fds_[2], run_exit_handler);

        if (!exit_) {
            /* without its pidfd watched, the child is reaped right here */
            signal_group(pid_, SIGKILL);
            reap_blocking();
        }

    } else {
        ngx_add_timer(&reap_ev_, reap_poll);
    }

    if (!pipe_[out] || !pipe_[err] || (has_pidfd && !exit_)) {
        /* worker_connections ran out: a run needs three beyond the client */
        detach();
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }

    /* small events must not wait for the client's delayed ACK (Nagle) */
    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_get_module_loc_conf(r_, ngx_http_core_module);

    if (clcf->tcp_nodelay && ngx_tcp_nodelay(r_->connection) != NGX_OK) {
        detach();
        return NGX_ERROR;
    }

    rc = ngx_http_cli_gateway_send_stream_header(r_);

    if (rc == NGX_ERROR || rc > NGX_OK) {
        detach();
        return rc;
    }

    sse_append_started(pending_, (long) pid_);

    if (flush(false) == NGX_ERROR) {
        detach();
        return NGX_ERROR;
    }

    /* a client that goes away is noticed while the program is quiet */
    r_->read_event_handler = ngx_http_test_reading;
    r_->write_event_handler = run_write_handler;

    ngx_add_timer(&timeout_ev_, (ngx_msec_t) timeout_secs_ * 1000);

    return NGX_DONE;
}


ngx_connection_t *
Run::watch(UniqueFd &fd, ngx_event_handler_pt handler)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(fd.get(), &log_);
    if (c == NULL) {
        return NULL;
    }

    fd.release();

    c->data = this;
    c->read->handler = handler;
    c->read->log = &log_;
    c->write->log = &log_;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return NULL;
    }

    return c;
}


void
Run::on_pipe(ngx_connection_t *c)
{
    int  k = (c == pipe_[out]) ? out : err;

    if (blocked_ || ending_) {
        /* on_writable() posts this event again when the client caught up */
        return;
    }

    read_pipe(k, false);

    if (limit_hit_) {
        std::string message = limit_message();
        end_stream(-1, &message);
        return;
    }

    if (r_ && !ending_) {
        if (flush(false) == NGX_ERROR) {
            fail();
            return;
        }

        check_done();
    }
}


/*
 * Reads until the pipe is empty, the budget is spent (the event is posted
 * again), or the client falls behind (on_writable() resumes; what the read
 * brought and was not encoded waits in unread_). Draining at the end of a
 * run takes what is there, bounded, since a program that ignores the stop
 * signal may still be writing.
 */

void
Run::read_pipe(int k, bool draining)
{
    ssize_t            n;
    std::size_t        used, total = 0;
    std::size_t        budget = draining ? drain_budget : read_budget;
    std::string_view   data;
    ngx_connection_t  *c;

    while ((c = pipe_[k]) != nullptr) {

        if (unread_[k].len) {
            data = std::string_view(unread_[k].block + unread_[k].pos,
                                    unread_[k].len);

        } else {
            n = ::read(c->fd, gmcf_->read_buf, gmcf_->read_buf_size);

            if (n == -1 && ngx_errno == NGX_EAGAIN) {
                c->read->ready = 0;
                lines_[k].release_memory();
                return;
            }

            if (n == -1 && ngx_errno == NGX_EINTR) {
                continue;
            }

            if (n <= 0) {
                if (n == -1) {
                    ngx_log_error(NGX_LOG_ERR, log(), ngx_errno,
                                  "cli_gateway: read() from pid %P failed",
                                  pid_);
                }

                close_pipe(k, true);
                return;
            }

            total += n;
            data = std::string_view((char *) gmcf_->read_buf, n);
        }

        used = encode(k, data, draining);

        if (pipe_[k] == nullptr) {
            /* the output limit, or a failed client, closed it */
            return;
        }

        if (used < data.size()) {
            if (!draining) {
                keep_unread(k, data, used);
            }
            return;
        }

        drop_unread(k);

        if (total >= budget) {
            if (!draining) {
                ngx_post_event(c->read, &ngx_posted_events);
            }
            return;
        }
    }
}


/*
 * Encodes data a slice at a time, handing it to nginx when enough is
 * encoded, so that what a stream holds is bounded by the slice, not by the
 * read (a read of empty lines is 48 times as much SSE). Returns the bytes
 * used: fewer when the client fell behind, or when draining has its fill.
 */

std::size_t
Run::encode(int k, std::string_view data, bool draining)
{
    std::size_t  used = 0;

    while (used < data.size()) {
        std::string_view slice = data.substr(used, encode_slice);
        used += slice.size();

        if (!emit(k, slice)) {
            return data.size();
        }

        if (draining) {
            if (pending_.size() >= drain_output_max) {
                return used;
            }
            continue;
        }

        if (pending_.size() >= flush_threshold) {
            if (flush(false) == NGX_ERROR) {
                fail();
                return data.size();
            }

            if (blocked_) {
                return used;
            }
        }
    }

    return used;
}


void
Run::keep_unread(int k, std::string_view data, std::size_t used)
{
    Unread  &u = unread_[k];

    if (u.len) {
        /* data is u's own */
        u.pos += used;
        u.len -= used;
        return;
    }

    if (u.block == nullptr) {
        u.block = gmcf_->blocks->take();
    }

    u.pos = 0;
    u.len = data.size() - used;
    ngx_memcpy(u.block, data.data() + used, u.len);
}


void
Run::drop_unread(int k)
{
    Unread  &u = unread_[k];

    if (u.block) {
        gmcf_->blocks->give(u.block);
    }

    u = Unread();
}


/* Encodes program output; false when the output limit ended the run. */

bool
Run::emit(int k, std::string_view data)
{
    StreamKind  kind = (k == out) ? StreamKind::out : StreamKind::err;
    bool        over = false;

    if (output_max_ && output_seen_ + (off_t) data.size() > output_max_) {
        data = data.substr(0, output_max_ - output_seen_);
        over = true;
    }

    output_seen_ += data.size();

    lines_[k].feed(data, [&](std::string_view line) {
        sse_append_line(pending_, kind, line);
    });

    if (!over) {
        return true;
    }

    ngx_log_error(NGX_LOG_WARN, log(), 0,
                  "cli_gateway: pid %P exceeded cli_gateway_output_max %O, "
                  "stopping it", pid_, output_max_);

    limit_hit_ = true;
    stop();
    close_pipe(out, true);
    close_pipe(err, true);

    return false;
}


void
Run::close_pipe(int k, bool finish_line)
{
    if (pipe_[k] == nullptr) {
        return;
    }

    if (finish_line) {
        StreamKind kind = (k == out) ? StreamKind::out : StreamKind::err;

        lines_[k].finish([&](std::string_view line) {
            sse_append_line(pending_, kind, line);
        });
    }

    /* bytes still unread here are over the output limit or the drain */
    drop_unread(k);

    ngx_close_connection(pipe_[k]);
    pipe_[k] = nullptr;
}


/* At the end of a run: what the pipes hold now, never waiting for more. */

void
Run::finish_pipes()
{
    for (int k = 0; k < 2; k++) {
        if (pipe_[k]) {
            read_pipe(k, true);
        }

        close_pipe(k, true);
    }
}


std::string
Run::limit_message() const
{
    return "Output limit of " + std::to_string(output_max_)
           + " bytes exceeded";
}


void
Run::reap_blocking()
{
    int  code, signo;
    int  fd = exit_ ? exit_->fd : fds_[2].get();

    if (!reaped_ && reap_child(pid_, fd, true, code, signo) == ReapResult::exited)
    {
        set_reaped(code, signo);
    }
}


/* The program is gone: its count of cli_gateway_max_running too. */

void
Run::set_reaped(int code, int signo)
{
    reaped_ = true;
    exit_code_ = code;
    signo_ = signo;

    ngx_http_cli_gateway_give_running(gmcf_);
}


void
Run::on_exit()
{
    int  code, signo;

    switch (reap_child(pid_, exit_ ? exit_->fd : -1, false, code, signo)) {

    case ReapResult::running:
        if (!exit_) {
            ngx_add_timer(&reap_ev_, reap_poll);
        }
        return;

    case ReapResult::failed:
        ngx_log_error(NGX_LOG_ALERT, log(), ngx_errno,
                      "cli_gateway: waitid() for pid %P failed", pid_);
        code = -1;
        signo = 0;
        break;

    case ReapResult::exited:
        break;
    }

    if (exit_) {
        ngx_close_connection(exit_);
        exit_ = nullptr;
    }

    set_reaped(code, signo);

    if (signo) {
        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: pid %P killed by signal %d", pid_, signo);
    } else {
        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: pid %P exited with code %d", pid_, code);
    }

    after_reap();

    if (r_ && !ending_) {
        check_done();
    }

    if (done() && !free_ev.posted) {
        ngx_post_event(&free_ev, &ngx_posted_events);
    }
}


void
Run::after_reap()
{
    if (kill_ev_.timer_set) {
        ngx_del_timer(&kill_ev_);
    }

    if (stopping_) {
        /* whatever the program left running in its group goes too */
        signal_group(pid_, SIGKILL);
    }
}


/* The stream ends once the program is reaped and both pipes are closed. */

void
Run::check_done()
{
    if (!reaped_) {
        return;
    }

    if (pipe_[out] || pipe_[err]) {
        /* a descendant may hold the pipes: give it drain_ to let go */
        if (!drain_ev_.timer_set) {
            ngx_add_timer(&drain_ev_, drain_);
        }
        return;
    }

    end_stream(exit_code_, nullptr);
}


void
Run::on_timer(ngx_event_t *ev)
{
    if (ev == &reap_ev_) {
        on_exit();
        return;
    }

    if (ev == &kill_ev_) {
        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: pid %P outlived the stop grace, "
                      "sending SIGKILL", pid_);
        signal_group(pid_, SIGKILL);
        return;
    }

    if (r_ == nullptr || ending_) {
        return;
    }

    if (ev == &keepalive_ev_) {
        if (blocked_) {
            /* events are on their way; the program may be quiet after */
            ngx_add_timer(&keepalive_ev_, keepalive_);
            return;
        }

        pending_.append(sse_keepalive_frame);

        if (flush(false) == NGX_ERROR) {
            fail();
        }
        return;
    }

    if (ev == &drain_ev_) {
        if (blocked_ || unread_[out].len || unread_[err].len) {
            /* the client, not a descendant, keeps the pipes unread */
            ngx_add_timer(&drain_ev_, drain_);
            return;
        }

        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: pid %P exited but its output is still "
                      "open, stopping its process group", pid_);

        signal_group(pid_, SIGKILL);
        finish_pipes();

        if (limit_hit_) {
            std::string message = limit_message();
            end_stream(-1, &message);
            return;
        }

        end_stream(exit_code_, nullptr);
        return;
    }

    /* ev == &timeout_ev_ */

    ngx_log_error(NGX_LOG_WARN, log(), 0,
                  "cli_gateway: pid %P timed out after %Ts, stopping it",
                  pid_, timeout_secs_);

    stop();
    finish_pipes();

    std::string message = "Timeout after " + std::to_string(timeout_secs_)
                          + "s";
    end_stream(-1, &message);
}


void
Run::end_stream(int code, const std::string *error)
{
    if (error) {
        sse_append_error(pending_, *error);
    }

    sse_append_exit_code(pending_, code);

    ending_ = true;

    ngx_event_t *timers[] = { &timeout_ev_, &keepalive_ev_, &drain_ev_ };

    for (ngx_event_t *ev : timers) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }
    }

    ctx_->exit_code = code;
    ctx_->ended = 1;
    ctx_->duration = ngx_current_msec - ctx_->started_at;

    ngx_log_error(NGX_LOG_INFO, log(), 0,
                  "cli_gateway: run of pid %P ended with exit_code %d after "
                  "%M ms, %O bytes of output", pid_, code, ctx_->duration,
                  output_seen_);

    if (flush(true) == NGX_ERROR) {
        fail();
        return;
    }

    if (!blocked_) {
        complete();
    }
}


/*
 * Hands the encoded events to nginx as one flushed chain of blocks. The
 * blocks go back to the worker's pool once sent.
 */

ngx_int_t
Run::flush(bool last)
{
    ngx_int_t           rc;
    OutBlock           *b = nullptr;
    ngx_chain_t        *out = NULL, **ll = &out;
    ngx_event_t        *wev;
    ngx_connection_t   *c;
    ngx_http_core_loc_conf_t  *clcf;

    if (pending_.empty() && !last) {
        return NGX_OK;
    }

    do {
        if (spare_.empty()) {
            /* room for every OutBlock in both: reclaim() cannot throw;
             * may throw while nothing is taken from pending_ yet */
            std::size_t all = busy_.size() + spare_.size() + 1;
            busy_.reserve(all);
            spare_.reserve(all);
            spare_.push_back(new OutBlock());
        }

        b = spare_.back();
        spare_.pop_back();
        busy_.push_back(b);
        ngx_memzero(b, sizeof(OutBlock));

        Chunk chunk = pending_.take_front();

        b->block = chunk.data;
        b->buf.start = (u_char *) chunk.data;
        b->buf.pos = b->buf.start;
        b->buf.last = b->buf.pos + chunk.size;
        b->buf.end = b->buf.last;
        b->buf.memory = chunk.size ? 1 : 0;
        b->buf.tag = (ngx_buf_tag_t) &ngx_http_cli_gateway_module;

        b->link.buf = &b->buf;
        b->link.next = NULL;

        *ll = &b->link;
        ll = &b->link.next;

        ctx_->bytes += chunk.size;

    } while (!pending_.empty());

    b->buf.flush = 1;
    b->buf.last_buf = last ? 1 : 0;
    b->buf.last_in_chain = 1;

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
        if (!wev->delayed) {
            ngx_add_timer(wev, clcf->send_timeout);
        }

        if (ngx_handle_write_event(wev, clcf->send_lowat) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (keepalive_ && !last) {
        ngx_add_timer(&keepalive_ev_, keepalive_);
    }

    return NGX_OK;
}


void
Run::reclaim()
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
Run::recycle(OutBlock *b) noexcept
{
    /* the block goes back to the pool; the struct stays, since a filter
     * (chunked) may still link to it. flush() reserved room in spare_. */
    if (b->block) {
        gmcf_->blocks->give(b->block);
        b->block = nullptr;
    }

    spare_.push_back(b);
}


void
Run::on_writable()
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

    blocked_ = false;

    if (ending_) {
        complete();
        return;
    }

    for (int k = 0; k < 2; k++) {
        if (pipe_[k]) {
            ngx_post_event(pipe_[k]->read, &ngx_posted_events);
        }
    }

    check_done();
}


/* Everything is sent: the request ends normally. */

void
Run::complete()
{
    ngx_http_request_t  *r = r_;

    detach();
    ngx_http_finalize_request(r, NGX_OK);
}


/* The client connection failed: the request ends, the program stops. */

void
Run::fail()
{
    ngx_http_request_t  *r = r_;

    on_request_gone();
    ngx_http_finalize_request(r, NGX_ERROR);
}


void
Run::on_request_gone()
{
    if (r_ == nullptr) {
        return;
    }

    if (!ending_) {
        ngx_log_error(NGX_LOG_INFO, log(), 0,
                      "cli_gateway: request ended before pid %P, stopping it",
                      pid_);

        ctx_->exit_code = -1;
        ctx_->duration = ngx_current_msec - ctx_->started_at;
    }

    detach();
}


/* Lets go of the request; stops the program if it still runs. */

void
Run::detach()
{
    ngx_event_t *timers[] = { &timeout_ev_, &keepalive_ev_, &drain_ev_ };

    for (ngx_event_t *ev : timers) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }
    }

    for (int k = 0; k < 2; k++) {
        if (pipe_[k]) {
            ngx_close_connection(pipe_[k]);
            pipe_[k] = nullptr;
        }

        drop_unread(k);
    }

    if (ctx_) {
        ctx_->run = nullptr;
    }

    r_ = nullptr;
    ctx_ = nullptr;

    if (!reaped_) {
        stop();
    }

    if (done() && !free_ev.posted) {
        ngx_post_event(&free_ev, &ngx_posted_events);
    }
}


/*
 * The request's pool is destroyed: nothing in nginx links to the buffers
 * now. Before, an HTTP/2 stream closed with frames still queued sends them
 * from busy_ (and writes their buf->pos), long after the request ended.
 */

void
Run::on_pool_gone()
{
    pool_cln_ = nullptr;

    for (OutBlock *b : busy_) {
        recycle(b);
    }

    busy_.clear();

    if (done() && !free_ev.posted) {
        ngx_post_event(&free_ev, &ngx_posted_events);
    }
}


bool
Run::done() const
{
    return r_ == nullptr && reaped_ && !pipe_[out] && !pipe_[err]
           && pool_cln_ == nullptr;
}


void
Run::stop()
{
    if (stopping_) {
        return;
    }

    stopping_ = true;

    if (reaped_) {
        signal_group(pid_, SIGKILL);
        return;
    }

    signal_group(pid_, stop_signal_);

    if (stop_signal_ != SIGKILL) {
        ngx_add_timer(&kill_ev_, grace_);
    }
}


/* An exception in a handler: the request fails, the program stops. */

void
Run::on_exception()
{
    if (r_) {
        fail();
    } else {
        stop();
    }
}


/* Worker exit: nothing may outlive it, and nothing may be left open. */

void
Run::kill_now()
{
    signal_group(pid_, SIGKILL);
    reap_blocking();

    if (ctx_) {
        ctx_->run = nullptr;
    }
}


namespace {

template <class F>
void
guarded(Run *run, F &&f)
{
    try {
        f();

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, run->log(), 0, "cli_gateway: %s",
                      e.what());
        run->on_exception();

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, run->log(), 0,
                      "cli_gateway: unexpected exception");
        run->on_exception();
    }
}


void
run_pipe_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = (ngx_connection_t *) ev->data;
    Run               *run = (Run *) c->data;

    guarded(run, [&] { run->on_pipe(c); });
}


void
run_exit_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = (ngx_connection_t *) ev->data;
    Run               *run = (Run *) c->data;

    guarded(run, [&] { run->on_exit(); });
}


void
run_timer_handler(ngx_event_t *ev)
{
    Run  *run = (Run *) ev->data;

    guarded(run, [&] { run->on_timer(ev); });
}


void
run_free_handler(ngx_event_t *ev)
{
    delete (Run *) ev->data;
}


void
run_write_handler(ngx_http_request_t *r)
{
    ngx_http_cli_gateway_ctx_t  *ctx;

    ctx = (ngx_http_cli_gateway_ctx_t *)
              ngx_http_get_module_ctx(r, ngx_http_cli_gateway_module);

    if (ctx == NULL || ctx->run == NULL) {
        return;
    }

    Run *run = ctx->run;

    guarded(run, [&] { run->on_writable(); });
}


void
run_pool_cleanup(void *data)
{
    ((Run *) data)->on_pool_gone();
}


void
run_request_cleanup(void *data)
{
    ngx_http_cli_gateway_ctx_t  *ctx = (ngx_http_cli_gateway_ctx_t *) data;

    if (ctx->run) {
        ctx->run->on_request_gone();
    }
}


} // namespace

} // namespace cligw


using cligw::Run;


/* A started program, from now on the run's: watched, and streamed. */

ngx_int_t
ngx_http_cli_gateway_watch_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, ngx_http_cli_gateway_loc_conf_t *glcf,
    ngx_http_cli_gateway_main_conf_t *gmcf, cligw::Child &child,
    time_t timeout)
{
    Run *run = new (std::nothrow) Run(r, ctx, glcf, gmcf, child, timeout);

    if (run == nullptr) {
        cligw::signal_group(child.pid, SIGKILL);
        int code, signo;
        cligw::reap_child(child.pid, child.pidfd.get(), true, code, signo);
        ngx_http_cli_gateway_give_running(gmcf);
        ngx_http_cli_gateway_forget_group(gmcf, child.pid);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->run = run;

    ngx_int_t rc = run->begin();

    if (rc == NGX_HTTP_SERVICE_UNAVAILABLE) {
        return ngx_http_cli_gateway_send_error(r, rc, "service_unavailable",
                   "No free connection to watch the program, "
                   "see worker_connections");
    }

    return rc;
}


void
ngx_http_cli_gateway_stop_all_runs(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&gmcf->runs)) {
        q = ngx_queue_head(&gmcf->runs);
        Run *run = reinterpret_cast<Run::Link *>(q)->run;

        run->kill_now();
        delete run;
    }

    /* every block belongs to a run: what is out now was lost */
    if (gmcf->blocks && gmcf->blocks->outstanding()) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "cli_gateway: %uz output blocks were not given back",
                      gmcf->blocks->outstanding());
    }
}


static void
ngx_http_cli_gateway_free_blocks(void *data)
{
    delete (cligw::BlockPool *) data;
}


/* the worker's scratch for pipe reads and the blocks of its streams */

ngx_int_t
ngx_http_cli_gateway_init_runs(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_pool_cleanup_t  *cln;

    gmcf->read_buf_size = cligw::read_size;
    gmcf->read_buf = (u_char *) ngx_palloc(cycle->pool, gmcf->read_buf_size);
    if (gmcf->read_buf == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    try {
        gmcf->blocks = new cligw::BlockPool(cligw::block_size,
                                            cligw::max_kept_blocks);

    } catch (const std::bad_alloc &) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_cli_gateway_free_blocks;
    cln->data = gmcf->blocks;

    return NGX_OK;
}
