/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The parts of a run, as nginx glue: the program (process side), its two
 * output pipes, the client stream, and the run that ties them together.
 *
 * Output flows one way: a pipe's bytes become lines, the lines SSE events
 * appended to the run's event log (a BlockWriter), and a client stream
 * takes the events from the log and sends them. When the client falls
 * behind, the stream says so and the run stops reading the pipes until it
 * caught up, so a program that writes faster than its reader blocks on its
 * own writes instead of filling the worker's memory.
 */

#ifndef NGX_HTTP_CLI_GATEWAY_RUN_H_INCLUDED_
#define NGX_HTTP_CLI_GATEWAY_RUN_H_INCLUDED_

#include "ngx_http_cli_gateway.h"

#include <exception>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cligw/blocks.hpp"
#include "cligw/lines.hpp"
#include "cligw/program.hpp"
#include "cligw/sse.hpp"
#include "ngx_http_cli_gateway_runs.h"


namespace cligw {

/*
 * Calls f(); an exception is logged and handed to owner.on_exception(),
 * so that none reaches nginx's C frames.
 */

template <class Owner, class F>
void
guarded(Owner &owner, F &&f) noexcept
{
    try {
        f();

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, owner.log(), 0, "cli_gateway: %s",
                      e.what());
        owner.on_exception();

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, owner.log(), 0,
                      "cli_gateway: unexpected exception");
        owner.on_exception();
    }
}


/*
 * An event of one of the run's objects, used as a timer (or posted):
 * zeroed, with its handler, the object as data, and a log. Cancelable
 * timers do not hold a gracefully exiting worker back.
 */

inline void
init_timer(ngx_event_t &ev, ngx_event_handler_pt handler, void *data,
    ngx_log_t *log, bool cancelable)
{
    ngx_memzero(&ev, sizeof(ngx_event_t));
    ev.handler = handler;
    ev.data = data;
    ev.log = log;
    ev.cancelable = cancelable ? 1 : 0;
}


/* Deletes those of the timers that are set. */

inline void
del_timers(std::initializer_list<ngx_event_t *> timers)
{
    for (ngx_event_t *ev : timers) {
        if (ev->timer_set) {
            ngx_del_timer(ev);
        }
    }
}


/*
 * The child process, from its spawn until it is reaped and everything it
 * started is gone: the pidfd watched in the event loop (polled where there
 * is none), stop signal then SIGKILL after the grace, its cgroup and its
 * entry in the ledger, and its count of cli_gateway_max_running.
 */

class Program {
public:
    class Owner {
    public:
        virtual ngx_log_t *log() = 0;
        virtual void on_exception() = 0;
        /* exited: exit_code() and signo() are known */
        virtual void on_program_exit() = 0;
        /* release() said "not yet", and now the cgroup is gone */
        virtual void on_program_released() = 0;

    protected:
        ~Owner() = default;
    };

    Program(Owner &owner, ngx_http_cli_gateway_main_conf_t *gmcf,
            ngx_http_cli_gateway_loc_conf_t *glcf, Child &child,
            ngx_http_cli_gateway_ledger_entry_t *entry,
            const std::string &cgroup, ngx_log_t *log);
    ~Program();

    Program(const Program &) = delete;
    Program &operator=(const Program &) = delete;

    /* Watches for the exit; false when no connection was left for the
     * pidfd (the child is then killed and reaped here). */
    bool watch();

    void stop();            /* stop signal, SIGKILL after the grace */
    void kill();            /* SIGKILL to the group and the cgroup, now */
    void kill_now();        /* worker exit: killed, reaped, cgroup removed */
    /* The run is over: what it left in its cgroup is killed, and true once
     * the cgroup is removed; false: on_program_released() follows. */
    bool release();

    Owner &owner() { return owner_; }
    pid_t pid() const { return pid_; }
    bool exited() const { return exited_; }
    int exit_code() const { return exit_code_; }
    int signo() const { return signo_; }

    void on_exit_event();
    void on_grace_over();
    void on_cgroup_poll();

private:
    void signal_all(int sig);
    void reap_blocking();
    void collect();
    void set_exited(int code, int signo);

    Owner                                &owner_;
    ngx_http_cli_gateway_main_conf_t     *gmcf_;
    pid_t                                 pid_;
    UniqueFd                              pidfd_;    /* until watched */
    ngx_connection_t                     *exit_ = nullptr;
    ngx_http_cli_gateway_ledger_entry_t  *entry_;
    std::string                           cgroup_;   /* empty: none left */

    ngx_event_t   reap_ev_;       /* polls the exit where no pidfd */
    ngx_event_t   grace_ev_;      /* the stop grace is over */
    ngx_event_t   cgroup_ev_;     /* polls the cgroup until it is empty */

    ngx_msec_t    grace_;
    int           stop_signal_;
    int           exit_code_ = -1;
    int           signo_ = 0;
    ngx_uint_t    cgroup_polls_ = 0;
    bool          exited_ = false;
    /* exited, left a zombie so that its group's number is not reused
     * while the group may still be signalled; collected with the run */
    bool          zombie_ = false;
    bool          stopping_ = false;
};


/*
 * One of the program's output pipes as an nginx connection: its line
 * splitter, and the bytes read but not encoded yet (the client fell
 * behind). Lines become events of the given kind in the run's event log.
 */

class OutputPipe {
public:
    /* what the pipe's reads are handed to */
    class Reader {
    public:
        virtual ngx_log_t *log() = 0;
        /* encodes data into the event log; returns the bytes used: fewer
         * when the client fell behind or a drain has its fill */
        virtual std::size_t take_output(OutputPipe &pipe,
                                        std::string_view data,
                                        bool draining) = 0;
        /* end of the pipe's output: its last line goes to the log */
        virtual void on_pipe_end(OutputPipe &pipe) = 0;

    protected:
        ~Reader() = default;
    };

    OutputPipe(StreamKind kind, UniqueFd &fd, std::size_t line_max,
               BlockPool &blocks);
    ~OutputPipe();

    OutputPipe(const OutputPipe &) = delete;
    OutputPipe &operator=(const OutputPipe &) = delete;

    /* The pipe's read end into the event loop; c->data is data. */
    bool watch(ngx_log_t *log, void *data, ngx_event_handler_pt handler);

    /* Reads until the pipe is empty (EAGAIN), closed, budget bytes are
     * read (the read event is posted again unless draining), or the reader
     * takes less than it was given (kept unless draining). */
    void read(Reader &reader, u_char *buf, std::size_t size,
              std::size_t budget, bool draining);

    /* Lines of data as events of this pipe's kind; Out is the run's
     * BlockWriter, or its RunLog numbering the events (EventIds). */
    template <class Out> void feed(Out &events, std::string_view data);
    /* Closes; with finish_line, an unfinished line becomes an event. */
    template <class Out> void close(Out &events, bool finish_line);
    void post();             /* reads again from the event loop */

    bool open() const { return c_ != nullptr; }
    bool owns(const ngx_connection_t *c) const { return c == c_; }
    bool has_unread() const { return unread_len_ != 0; }
    StreamKind kind() const { return kind_; }

private:
    void keep_unread(std::string_view data, std::size_t used);
    void drop_unread();

    StreamKind         kind_;
    UniqueFd           fd_;          /* until watched */
    ngx_connection_t  *c_ = nullptr;
    LineSplitter       lines_;
    BlockPool         &blocks_;

    /* bytes read, not encoded yet: in a block of the pool */
    char              *unread_ = nullptr;
    std::size_t        unread_pos_ = 0;
    std::size_t        unread_len_ = 0;
};


/*
 * Where the events of a run kept in a zone go: the client stream's log
 * while the POST's client is there, and the run's replay ring. Wrapped in
 * EventIds, which numbers them. The encoder appends to the client's log
 * (or, with no client, to the worker's scratch), and what it appended is
 * copied to the ring when published: once per read, so that the ring's
 * writer pays its fence once per read, not per event.
 */

class RunLog {
public:
    RunLog(BlockWriter &local, std::string &scratch,
           ngx_http_cli_gateway_runs_zone_t *rz,
           ngx_http_cli_gateway_run_rec_t *rec)
        : local_(local), scratch_(scratch), rz_(rz), rec_(rec) {}

    void append(const char *p, std::size_t n)
    {
        if (to_local_) {
            local_.append(p, n);
            pending_ += n;

        } else {
            scratch_.append(p, n);
        }
    }

    /* n <= 32, p has 32 bytes to read: an event's id line */
    void append_small(const char *p, std::size_t n)
    {
        if (to_local_) {
            local_.append_small(p, n);
            pending_ += n;

        } else {
            scratch_.append(p, n);
        }
    }

    /* what was appended goes to readers too */
    void publish();
    /* no client here any more: the ring only */
    void stop_local()
    {
        publish();
        to_local_ = false;
    }
    /* the last event is in: the record is the zone's from now on */
    void close(ngx_int_t code);

    void count_output(off_t n);

    /* the record is still ours to write (and to look at) */
    bool open() const { return rec_ != nullptr; }

private:
    void to_ring(const char *p, std::size_t n);

    BlockWriter                         &local_;
    std::string                         &scratch_;
    ngx_http_cli_gateway_runs_zone_t    *rz_;
    ngx_http_cli_gateway_run_rec_t      *rec_;    /* NULL once closed */
    std::size_t                          pending_ = 0;  /* in local_ */
    bool                                 to_local_ = true;
};


/* A chunk of encoded output as nginx sees it, until it is sent. */

struct OutBlock {
    ngx_buf_t    buf;
    ngx_chain_t  link;
    char        *block;     /* the worker's BlockPool's, or NULL */
};


/*
 * The client's side of a run: the request, the events handed to nginx
 * until sent, flushing, back-pressure (blocked() while the client is
 * behind), send_timeout and the keep-alive frame. It lives until the
 * request's pool is destroyed: until then nginx (an HTTP/2 stream reset
 * with frames queued too) may still link to its buffers.
 */

class ClientStream {
public:
    class Owner {
    public:
        virtual ngx_log_t *log() = 0;
        virtual void on_exception() = 0;
        /* the client caught up with what was sent */
        virtual void on_stream_writable() = 0;
        /* the request ended before the last event (client gone, error) */
        virtual void on_stream_failed() = 0;
        /* the request's pool is gone: the stream may be freed */
        virtual void on_stream_released() = 0;

    protected:
        ~Owner() = default;
    };

    /* events: the run's log, which this stream sends from */
    ClientStream(Owner &owner, ngx_http_request_t *r,
                 ngx_http_cli_gateway_ctx_t *ctx, BlockWriter &events,
                 BlockPool &blocks, ngx_msec_t keepalive);
    ~ClientStream();

    ClientStream(const ClientStream &) = delete;
    ClientStream &operator=(const ClientStream &) = delete;

    /* Cleanups on the request and its pool, so that its end is noticed. */
    ngx_int_t attach();
    /* TCP_NODELAY, the response header; NGX_OK or what nginx said. */
    ngx_int_t start();
    /* From now on events are streamed: the handlers and keep-alive. */
    void stream();
    /* Hands what the log holds to nginx, flushed; last ends the body. */
    ngx_int_t send(bool last);
    /* Everything is sent: the request ends normally. */
    void complete();
    /* The connection failed: the request ends with an error. */
    void fail();
    /* The request is ending without us (nginx's cleanup): let it go. */
    void gone();
    /* Lets go of the request; no more callbacks come from it. */
    void detach();

    void on_writable();
    void on_keepalive();
    void on_pool_gone();

    Owner &owner() { return owner_; }
    ngx_http_request_t *request() const { return r_; }
    ngx_http_cli_gateway_ctx_t *ctx() const { return ctx_; }
    bool attached() const { return r_ != nullptr; }
    bool blocked() const { return blocked_; }
    bool holds_buffers() const { return pool_cln_ != nullptr; }

private:
    OutBlock *next_block();
    ngx_int_t output(ngx_chain_t *out);
    void reclaim();
    void recycle(OutBlock *b) noexcept;

    Owner                        &owner_;
    ngx_http_request_t           *r_;
    ngx_http_cli_gateway_ctx_t   *ctx_;
    BlockWriter                  &events_;
    BlockPool                    &blocks_;
    ngx_msec_t                    keepalive_;

    ngx_event_t                   keepalive_ev_;

    std::vector<OutBlock *>       busy_;     /* held by nginx until sent */
    /* sent, block given back; kept, since nginx may still link to them */
    std::vector<OutBlock *>       spare_;
    /* set while the request's pool lives */
    ngx_pool_cleanup_t           *pool_cln_ = nullptr;

    bool                          blocked_ = false;
};


/*
 * One run: a Program, its two OutputPipes, the event log they write, and
 * the ClientStream that sends the log; the run's timeout and the drain at
 * its end. A Run is a heap object, listed in the worker's runs for
 * exit_process. It lives from the spawn until its program is reaped and
 * released, both pipes are closed, and its client stream has let go of
 * the request and of the request's buffers.
 */

class Run final : public Program::Owner, public ClientStream::Owner,
                  public OutputPipe::Reader {
public:
    Run(ngx_http_request_t *r, ngx_http_cli_gateway_loc_conf_t *glcf,
        ngx_http_cli_gateway_main_conf_t *gmcf, Child &child,
        time_t timeout, ngx_http_cli_gateway_ledger_entry_t *entry,
        const std::string &cgroup, ngx_shm_zone_t *runs,
        ngx_http_cli_gateway_run_rec_t *rec);
    ~Run();

    Run(const Run &) = delete;
    Run &operator=(const Run &) = delete;

    ngx_int_t begin(ngx_http_request_t *r, ngx_http_cli_gateway_ctx_t *ctx,
                    ngx_msec_t keepalive);
    void abandon();
    void kill_now();

    void on_pipe(ngx_connection_t *c);
    void on_timeout();
    void on_drain_over();
    void on_free();

    /* Program::Owner, ClientStream::Owner, OutputPipe::Reader */
    ngx_log_t *log() override;
    void on_exception() override;
    void on_program_exit() override;
    void on_program_released() override;
    void on_stream_writable() override;
    void on_stream_failed() override;
    void on_stream_released() override;
    std::size_t take_output(OutputPipe &pipe, std::string_view data,
                            bool draining) override;
    void on_pipe_end(OutputPipe &pipe) override;

    void on_poll();
    void check_cancel();
    void shut_down();

    /* a standard-layout link, so a queue entry leads back to its Run */
    struct Link {
        ngx_queue_t   queue;    /* in ngx_http_cli_gateway_main_conf_t */
        Run          *run;
    };

    Link          link;

private:
    /* f(out) appends events: to the client's log, numbered with runs */
    template <class F> void write(F &&f);
    bool emit(OutputPipe &pipe, std::string_view data);
    void close_pipes(bool finish_line);
    void detach();
    void stop_with(const std::string &message);
    void end_log(const char *why);
    void read_pipe(OutputPipe &pipe, bool draining);
    void finish_pipes();
    void let_go();
    void check_done();
    void end_stream(int code, const std::string *error);
    void clear_events();
    std::string limit_message() const;
    bool sending() const { return stream_ && stream_->attached(); }
    /* the program's output is read: for the client, or for the zone */
    bool reading() const { return !ending_ && (sending() || detached_); }
    bool done() const;
    void free_when_done();

    ngx_log_t                           log_;   /* outlives the request */
    ngx_http_cli_gateway_main_conf_t   *gmcf_;
    Program                             program_;
    BlockWriter                         events_;
    ngx_http_cli_gateway_runs_zone_t   *rz_;       /* NULL: not in a zone */
    ngx_http_cli_gateway_run_rec_t     *rec_;
    RunLog                              runlog_;
    EventIds<RunLog>                    numbered_;
    OutputPipe                          out_;
    OutputPipe                          err_;
    std::unique_ptr<ClientStream>       stream_;

    ngx_event_t   timeout_ev_;
    ngx_event_t   drain_ev_;
    ngx_event_t   free_ev_;
    ngx_event_t   poll_ev_;       /* detached: a client elsewhere? */

    time_t        timeout_secs_;
    ngx_msec_t    detach_;        /* 0: the run stops with its client */
    ngx_msec_t    detached_at_ = 0;
    ngx_msec_t    started_at_;
    ngx_msec_t    drain_;
    off_t         output_max_;
    off_t         output_seen_ = 0;

    bool          ending_ = false;       /* last event in the log */
    bool          limit_hit_ = false;    /* cli_gateway_output_max */
    bool          detached_ = false;     /* goes on without its client */
};

} // namespace cligw

#endif /* NGX_HTTP_CLI_GATEWAY_RUN_H_INCLUDED_ */
