/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * A run's side of the zone of runs (cli_gateway_runs): its RunLog, which
 * writes the run's numbered events to the client and into the record's
 * replay ring, and the worker's watch for cancels of its runs.
 */

#include "ngx_http_cli_gateway_run.h"


namespace cligw {

void
RunLog::to_ring(const char *p, std::size_t n)
{
    if (rec_ == nullptr) {
        return;
    }

    ngx_http_cli_gateway_runs_grow(rz_, rec_, n);
    ring_write(rec_->ring, p, n);
}


void
RunLog::publish()
{
    if (to_local_) {
        if (pending_ && rec_) {
            std::size_t n = pending_;

            ngx_http_cli_gateway_runs_grow(rz_, rec_, n);

            local_.visit_tail(n, [&](const char *p, std::size_t k) {
                ring_write(rec_->ring, p, k);
            });

            ring_publish(rec_->ring);
        }

        pending_ = 0;
        return;
    }

    if (scratch_.empty()) {
        return;
    }

    /* the scratch is the worker's: empty again whatever happens */
    struct Clear {
        std::string &s;
        ~Clear() { s.clear(); }
    } clear = { scratch_ };

    if (rec_) {
        to_ring(scratch_.data(), scratch_.size());
        ring_publish(rec_->ring);
    }
}


void
RunLog::count_output(off_t n)
{
    if (rec_) {
        /* one writer; a reader may see the count of a moment ago */
        rec_->output_bytes += n;
    }
}


void
RunLog::close(ngx_int_t code)
{
    publish();

    if (rec_) {
        ngx_http_cli_gateway_runs_exit(rz_, rec_, code);
        rec_ = nullptr;
    }

    to_local_ = false;
}

} // namespace cligw


using cligw::Run;


/*
 * Once, when a graceful shutdown has lasted worker_shutdown_timeout (when
 * set): true. The watch saw ngx_exiting within 50 ms of nginx's own timer.
 */

static bool
ngx_http_cli_gateway_shutdown_over(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_core_conf_t  *ccf;

    if (!ngx_exiting || gmcf->shut_down) {
        return false;
    }

    if (!gmcf->exiting) {
        gmcf->exiting = 1;
        gmcf->exiting_at = ngx_current_msec;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);

    if (ccf->shutdown_timeout == 0
        || ccf->shutdown_timeout == NGX_CONF_UNSET_MSEC
        || ngx_current_msec - gmcf->exiting_at < ccf->shutdown_timeout)
    {
        return false;
    }

    gmcf->shut_down = 1;

    return true;
}


/*
 * The worker's watch for cancels: a DELETE counts in its zone, and a
 * worker that sees a count change asks its runs. Runs cost nothing while
 * nobody cancels.
 */

static void
ngx_http_cli_gateway_cancel_watch(ngx_event_t *ev)
{
    bool                                 changed = false;
    ngx_uint_t                           i;
    ngx_queue_t                         *q;
    ngx_http_cli_gateway_runs_zone_t   **zones;
    ngx_http_cli_gateway_main_conf_t    *gmcf;

    gmcf = (ngx_http_cli_gateway_main_conf_t *) ev->data;
    zones = (ngx_http_cli_gateway_runs_zone_t **) gmcf->runs_zones->elts;

    for (i = 0; i < gmcf->runs_zones->nelts; i++) {
        ngx_atomic_uint_t n = zones[i]->sh->cancels;

        if (n != zones[i]->cancels_seen) {
            zones[i]->cancels_seen = n;
            changed = true;
        }
    }

    if (ngx_http_cli_gateway_shutdown_over(gmcf)) {
        /*
         * worker_shutdown_timeout: nginx closed the connections, so runs
         * with a client end; a detached run (or one that detached as its
         * client was closed) has none, and would hold the worker for its
         * whole timeout.
         */
        for (q = ngx_queue_head(&gmcf->runs);
             q != ngx_queue_sentinel(&gmcf->runs);
             q = ngx_queue_next(q))
        {
            Run *run = reinterpret_cast<Run::Link *>(q)->run;

            cligw::guarded(*run, [&] { run->shut_down(); });
        }
    }

    if (changed) {
        /* a stopped run is freed by a posted event, not here */
        for (q = ngx_queue_head(&gmcf->runs);
             q != ngx_queue_sentinel(&gmcf->runs);
             q = ngx_queue_next(q))
        {
            Run *run = reinterpret_cast<Run::Link *>(q)->run;

            cligw::guarded(*run, [&] { run->check_cancel(); });
        }
    }

    /* cancelable: an old worker of a reload is cancelled from the new */
    ngx_add_timer(ev, 50);
}


ngx_int_t
ngx_http_cli_gateway_watch_cancels(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    if (gmcf->runs_zones == NULL || gmcf->runs_zones->nelts == 0) {
        return NGX_OK;
    }

    ngx_memzero(&gmcf->cancel_ev, sizeof(ngx_event_t));
    gmcf->cancel_ev.handler = ngx_http_cli_gateway_cancel_watch;
    gmcf->cancel_ev.data = gmcf;
    gmcf->cancel_ev.log = cycle->log;
    gmcf->cancel_ev.cancelable = 1;

    ngx_add_timer(&gmcf->cancel_ev, 50);

    return NGX_OK;
}
