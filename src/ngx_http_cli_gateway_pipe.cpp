/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * One output pipe of the program (stdout or stderr) in the event loop.
 * An OutputPipe lives inside its Run; its connection is open from the
 * spawn until the pipe's end, the end of the run, or the client's.
 */

#include "ngx_http_cli_gateway_run.h"

#include <unistd.h>


namespace cligw {

OutputPipe::OutputPipe(StreamKind kind, UniqueFd &fd, std::size_t line_max,
    BlockPool &blocks)
    : kind_(kind), fd_(std::move(fd)), lines_(line_max), blocks_(blocks)
{
}


OutputPipe::~OutputPipe()
{
    if (c_) {
        ngx_close_connection(c_);
    }

    drop_unread();
}


bool
OutputPipe::watch(ngx_log_t *log, void *data, ngx_event_handler_pt handler)
{
    ngx_connection_t  *c;

    c = ngx_get_connection(fd_.get(), log);
    if (c == NULL) {
        return false;
    }

    fd_.release();

    c->data = data;
    c->read->handler = handler;
    c->read->log = log;
    c->write->log = log;

    if (ngx_handle_read_event(c->read, 0) != NGX_OK) {
        ngx_close_connection(c);
        return false;
    }

    c_ = c;

    return true;
}


/*
 * Reads until the pipe is empty, the budget is spent (the event is posted
 * again), or the reader takes less than it got (the client fell behind:
 * the rest waits in the unread block until post() resumes). Draining at
 * the end of a run takes what is there, bounded, since a program that
 * ignores the stop signal may still be writing.
 */

void
OutputPipe::read(Reader &reader, u_char *buf, std::size_t size,
    std::size_t budget, bool draining)
{
    ssize_t           n;
    std::size_t       used, total = 0;
    std::string_view  data;

    while (c_ != nullptr) {

        if (unread_len_) {
            data = std::string_view(unread_ + unread_pos_, unread_len_);

        } else {
            n = ::read(c_->fd, buf, size);

            if (n == -1 && ngx_errno == NGX_EAGAIN) {
                c_->read->ready = 0;
                lines_.release_memory();
                return;
            }

            if (n == -1 && ngx_errno == NGX_EINTR) {
                continue;
            }

            if (n <= 0) {
                if (n == -1) {
                    ngx_log_error(NGX_LOG_ERR, reader.log(), ngx_errno,
                                  "cli_gateway: read() from the program's "
                                  "%s failed",
                                  kind_ == StreamKind::out ? "stdout"
                                                           : "stderr");
                }

                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, c_->log, 0,
                               "cli_gateway: %s closed",
                               kind_ == StreamKind::out ? "stdout"
                                                        : "stderr");

                reader.on_pipe_end(*this);
                return;
            }

            ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c_->log, 0,
                           "cli_gateway: read %z bytes of %s", n,
                           kind_ == StreamKind::out ? "stdout" : "stderr");

            total += n;
            data = std::string_view((char *) buf, n);
        }

        used = reader.take_output(*this, data, draining);

        if (c_ == nullptr) {
            /* the output limit, or a failed client, closed it */
            return;
        }

        if (used < data.size()) {
            if (!draining) {
                keep_unread(data, used);
            }
            return;
        }

        drop_unread();

        if (total >= budget) {
            if (!draining) {
                ngx_post_event(c_->read, &ngx_posted_events);
            }
            return;
        }
    }
}


template <class Out>
void
OutputPipe::feed(Out &events, std::string_view data)
{
    lines_.feed(data,
                [&](std::string_view line) {
                    sse_append_line(events, kind_, line);
                },
                [&](std::string_view lines) {
                    sse_append_lines(events, kind_, lines);
                });
}


template <class Out>
void
OutputPipe::close(Out &events, bool finish_line)
{
    if (c_ == nullptr) {
        return;
    }

    if (finish_line) {
        lines_.finish([&](std::string_view line) {
            sse_append_line(events, kind_, line);
        });
    }

    /* bytes still unread here are over the output limit or the drain */
    drop_unread();

    ngx_close_connection(c_);
    c_ = nullptr;
}


template void OutputPipe::feed(BlockWriter &, std::string_view);
template void OutputPipe::feed(EventIds<RunLog> &, std::string_view);
template void OutputPipe::close(BlockWriter &, bool);
template void OutputPipe::close(EventIds<RunLog> &, bool);


void
OutputPipe::post()
{
    if (c_) {
        ngx_post_event(c_->read, &ngx_posted_events);
    }
}


void
OutputPipe::keep_unread(std::string_view data, std::size_t used)
{
    if (unread_len_) {
        /* data is the unread block's own */
        unread_pos_ += used;
        unread_len_ -= used;
        return;
    }

    if (unread_ == nullptr) {
        unread_ = blocks_.take();
    }

    unread_pos_ = 0;
    unread_len_ = data.size() - used;
    ngx_memcpy(unread_, data.data() + used, unread_len_);
}


void
OutputPipe::drop_unread()
{
    if (unread_) {
        blocks_.give(unread_);
    }

    unread_ = nullptr;
    unread_pos_ = 0;
    unread_len_ = 0;
}

} // namespace cligw
