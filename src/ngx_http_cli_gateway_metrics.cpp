/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The metrics: counters of all workers in the ledger's zone, added to with
 * atomics where things happen (a run begins or ends, a request is refused,
 * output is read or sent), and cli_gateway_status, a location that answers
 * them in Prometheus' text format or in JSON, the same from any worker.
 * The texts are cligw/metrics; this file only counts and reads.
 */

#include "ngx_http_cli_gateway_run.h"

#include <string>


static_assert(NGX_HTTP_CLI_GATEWAY_EXIT_KINDS == cligw::exit_kinds.size(),
              "one exit kind for each name");
static_assert(NGX_HTTP_CLI_GATEWAY_EXIT_TIMEOUT == cligw::exit_timeout,
              "the timeouts' series is the exits of that kind");
static_assert(NGX_HTTP_CLI_GATEWAY_EXIT_CANCELLED == cligw::exit_cancelled,
              "the cancels' series is the exits of that kind");


static ngx_int_t ngx_http_cli_gateway_status_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_cli_gateway_send_status(ngx_http_request_t *r);
static ngx_http_cli_gateway_metrics_t *ngx_http_cli_gateway_counters(
    ngx_http_cli_gateway_main_conf_t *gmcf);
static ngx_http_cli_gateway_main_conf_t *ngx_http_cli_gateway_gmcf(
    ngx_http_request_t *r);


char *
ngx_http_cli_gateway_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    if (glcf->status) {
        return (char *) "is duplicate";
    }

    if (glcf->program.data) {
        return (char *) "is not allowed in a location with \"cli_gateway\"";
    }

    glcf->status = 1;

    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_cli_gateway_status_handler;

    /* the counters are in the ledger's zone, also without a gateway */
    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_cli_gateway_module);

    if (ngx_http_cli_gateway_add_ledger(cf, gmcf) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_status_handler(ngx_http_request_t *r)
{
    return ngx_http_cli_gateway_guarded(r, [&] {
        return ngx_http_cli_gateway_send_status(r);
    });
}


static ngx_int_t
ngx_http_cli_gateway_send_status(ngx_http_request_t *r)
{
    bool                               json;
    ngx_int_t                          rc;
    ngx_str_t                          format, type;
    cligw::Metrics                     m;
    ngx_http_cli_gateway_metrics_t    *sm;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) {
        if (ngx_http_cli_gateway_add_header(r, "Allow", "GET, HEAD")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_NOT_ALLOWED,
                   "method_not_allowed", "Method not allowed, use GET");
    }

    json = false;

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK) {
        std::string_view f((char *) format.data, format.len);

        if (f == "json") {
            json = true;

        } else if (f != "prometheus") {
            return ngx_http_cli_gateway_send_error(r, NGX_HTTP_BAD_REQUEST,
                       "bad_request",
                       "Unknown format, use format=prometheus or format=json");
        }
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    gmcf = ngx_http_cli_gateway_gmcf(r);
    sm = ngx_http_cli_gateway_counters(gmcf);

    /* each counter is read once; together they are not one instant */
    m.runs_started = sm->runs_started;
    m.runs_running = ngx_http_cli_gateway_running(gmcf);
    m.runs_detached = ngx_http_cli_gateway_runs_detached(gmcf);

    for (std::size_t i = 0; i < m.refused.size(); i++) {
        m.refused[i] = sm->refused[i];
    }

    for (std::size_t i = 0; i < m.exited.size(); i++) {
        m.exited[i] = sm->exited[i];
    }

    m.output_bytes = sm->output_bytes;
    m.events_bytes = sm->events_bytes;

    if (json) {
        ngx_str_set(&type, "application/json");

    } else {
        ngx_str_set(&type, "text/plain; version=0.0.4; charset=utf-8");
    }

    return ngx_http_cli_gateway_send_response(r, NGX_HTTP_OK, &type,
               json ? cligw::metrics_json(m) : cligw::metrics_prometheus(m));
}


void
ngx_http_cli_gateway_metric_started(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_atomic_fetch_add(&ngx_http_cli_gateway_counters(gmcf)->runs_started,
                         1);
}


void
ngx_http_cli_gateway_metric_exit(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_exit_kind_e kind)
{
    if (kind < NGX_HTTP_CLI_GATEWAY_EXIT_KINDS) {
        ngx_atomic_fetch_add(&ngx_http_cli_gateway_counters(gmcf)->exited[kind],
                             1);
    }
}


/* A run that ended with its program's own status: exited, failed or
 * signaled (a signal the module did not send). */

void
ngx_http_cli_gateway_metric_end(ngx_http_cli_gateway_main_conf_t *gmcf,
    const cligw::Program &program)
{
    ngx_http_cli_gateway_metric_exit(gmcf,
        program.signo() ? NGX_HTTP_CLI_GATEWAY_EXIT_SIGNALED
        : program.exit_code() == 0 ? NGX_HTTP_CLI_GATEWAY_EXIT_EXITED
                                   : NGX_HTTP_CLI_GATEWAY_EXIT_FAILED);
}


void
ngx_http_cli_gateway_metric_output(ngx_http_cli_gateway_main_conf_t *gmcf,
    size_t n)
{
    ngx_atomic_fetch_add(&ngx_http_cli_gateway_counters(gmcf)->output_bytes,
                         n);
}


/* Every ApiError reply is a refusal, counted by its code. */

void
ngx_http_cli_gateway_metric_refused(ngx_http_request_t *r,
    std::string_view code)
{
    std::size_t  i = cligw::refusal_index(code);

    if (i < cligw::refusal_reasons.size()) {
        ngx_atomic_fetch_add(
            &ngx_http_cli_gateway_counters(ngx_http_cli_gateway_gmcf(r))
                 ->refused[i], 1);
    }
}


/* SSE bytes handed to nginx for the client, as $cli_gateway_bytes counts */

void
ngx_http_cli_gateway_metric_events(ngx_http_request_t *r, size_t n)
{
    ngx_atomic_fetch_add(
        &ngx_http_cli_gateway_counters(ngx_http_cli_gateway_gmcf(r))
             ->events_bytes, n);
}


/*
 * The shared counters; where there is no ledger (which every configuration
 * that counts has), a worker's own, which nothing reads.
 */

static ngx_http_cli_gateway_metrics_t *
ngx_http_cli_gateway_counters(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    static ngx_http_cli_gateway_metrics_t   none;
    ngx_http_cli_gateway_metrics_t         *m;

    m = ngx_http_cli_gateway_ledger_metrics(gmcf);

    return m ? m : &none;
}


static ngx_http_cli_gateway_main_conf_t *
ngx_http_cli_gateway_gmcf(ngx_http_request_t *r)
{
    return (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_get_module_main_conf(r, ngx_http_cli_gateway_module);
}
