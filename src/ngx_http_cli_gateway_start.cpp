/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * From a checked request to a started program: the context id and args
 * for the log and variables, the environment and argv, a slot of
 * cli_gateway_max_running, the spawn. A program that cannot start is still
 * a stream (`error`, `exit_code` 1); one that started is handed to run.cpp.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "cligw/error.hpp"
#include "cligw/program.hpp"
#include "cligw/sse.hpp"


extern char  **environ;


/* Spawn failure is still a stream: `error`, then `exit_code` 1. */

static ngx_int_t
ngx_http_cli_gateway_send_spawn_failure(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, int err)
{
    ngx_int_t                         rc;
    ngx_buf_t                        *b;
    ngx_chain_t                       out;
    std::string                       events;
    ngx_http_cli_gateway_loc_conf_t  *glcf;

    glcf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_cli_gateway_module);

    /* for EACCES, the message names the path the worker cannot use */
    cligw::sse_append_error(events, cligw::spawn_error_message(err,
        (const char *) glcf->program.data,
        glcf->working_directory.len
        ? (const char *) glcf->working_directory.data : nullptr));
    cligw::sse_append_exit_code(events, 1);

    ctx->exit_code = 1;
    ctx->ended = 1;
    ctx->bytes = events.size();

    rc = ngx_http_cli_gateway_send_stream_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_create_temp_buf(r->pool, events.size());
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->last = ngx_cpymem(b->last, events.data(), events.size());
    b->last_buf = 1;
    b->last_in_chain = 1;
    b->flush = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * The worker's environment (what nginx's "env" kept) unless cleared, with
 * cli_gateway_env entries over it; an entry whose value is empty is unset.
 */

static ngx_int_t
ngx_http_cli_gateway_build_environment(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, std::vector<std::string> &store,
    std::vector<char *> &envp)
{
    ngx_str_t                    value;
    ngx_uint_t                   i, n;
    ngx_http_cli_gateway_env_t  *entries;

    n = glcf->env ? glcf->env->nelts : 0;
    entries = glcf->env ? (ngx_http_cli_gateway_env_t *) glcf->env->elts
                        : nullptr;

    auto overridden = [&](const char *e) {
        for (i = 0; i < n; i++) {
            if (ngx_strncmp(e, entries[i].name.data, entries[i].name.len) == 0
                && e[entries[i].name.len] == '=')
            {
                return true;
            }
        }
        return false;
    };

    if (!glcf->clear_env) {
        for (char **e = environ; e && *e; e++) {
            if (!overridden(*e)) {
                envp.push_back(*e);
            }
        }
    }

    store.reserve(n);

    for (i = 0; i < n; i++) {
        if (ngx_http_complex_value(r, &entries[i].value, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len == 0) {
            continue;
        }

        if (ngx_strlchr(value.data, value.data + value.len, '\0')) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "cli_gateway: value of \"%V\" has a NUL byte, "
                          "not set", &entries[i].name);
            continue;
        }

        std::string entry((char *) entries[i].name.data, entries[i].name.len);
        entry += '=';
        entry.append((char *) value.data, value.len);
        store.push_back(std::move(entry));
    }

    for (std::string &entry : store) {
        envp.push_back(&entry[0]);
    }

    envp.push_back(nullptr);

    return NGX_OK;
}


ngx_int_t
ngx_http_cli_gateway_start_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, const cligw::CliRequest &request)
{
    int                                   err;
    time_t                                timeout;
    ngx_str_t                             user;
    ngx_http_cli_gateway_loc_conf_t      *glcf;
    ngx_http_cli_gateway_main_conf_t     *gmcf;
    ngx_http_cli_gateway_ledger_entry_t  *entry;

    glcf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_cli_gateway_module);
    gmcf = (ngx_http_cli_gateway_main_conf_t *)
               ngx_http_get_module_main_conf(r, ngx_http_cli_gateway_module);

    timeout = std::min(glcf->default_timeout, glcf->max_timeout);

    if (request.has_timeout) {
        timeout = (time_t) std::min<std::uint64_t>(request.timeout_secs,
                                                   glcf->max_timeout);
    }

    /* the context id first: cli_gateway_env may use its variable */
    if (request.has_context_id) {
        ctx->context_id = ngx_http_cli_gateway_pool_string(r->pool, request.context_id);
        if (ctx->context_id.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
        ctx->has_context_id = 1;
    }

    ctx->args = ngx_http_cli_gateway_pool_string(r->pool,
                                   cligw::log_format_args(request.args));
    if (ctx->args.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    std::vector<std::string> env_store;
    std::vector<char *> envp;

    if (ngx_http_cli_gateway_build_environment(r, glcf, env_store, envp)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    std::vector<char *> argv;
    argv.reserve(request.args.size() + 2);
    argv.push_back((char *) glcf->program.data);

    for (const std::string &arg : request.args) {
        argv.push_back(const_cast<char *>(arg.c_str()));
    }

    argv.push_back(nullptr);

    cligw::SpawnSpec spec;
    spec.path = (char *) glcf->program.data;
    spec.argv = argv.data();
    spec.envp = envp.data();
    spec.cwd = glcf->working_directory.len
               ? (char *) glcf->working_directory.data : nullptr;
    spec.limits = ngx_http_cli_gateway_child_limits(glcf);

    user = ctx->log_user;

    if (ngx_http_cli_gateway_take_running(gmcf, r->connection->log)
        == NGX_DECLINED)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: "
                      "cli_gateway_max_running %ui reached",
                      &user, &ctx->args, gmcf->max_running);

        if (ngx_http_cli_gateway_add_header(r, "Retry-After", "1")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_cli_gateway_send_error(r, NGX_HTTP_TOO_MANY_REQUESTS,
                   "rate_limited", "Too many programs running, retry later");
    }

    std::string cgroup;

    if (glcf->cgroup) {
        /* unique on the machine: this worker's pid and its count */
        cgroup.assign((char *) glcf->cgroup->path.data,
                      glcf->cgroup->path.len);
        cgroup += "/run-" + std::to_string(ngx_pid) + "-"
                  + std::to_string(++gmcf->cgroup_runs);
    }

    ngx_str_t cgroup_name = { cgroup.size(), (u_char *) cgroup.data() };

    /* in the ledger before anything starts, or not at all */
    entry = ngx_http_cli_gateway_enter_run(gmcf, &cgroup_name,
                                           r->connection->log);
    if (entry == NULL) {
        ngx_http_cli_gateway_give_running(gmcf);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: the ledger "
                      "of running programs is full", &user, &ctx->args);

        if (ngx_http_cli_gateway_add_header(r, "Retry-After", "1")
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_cli_gateway_send_error(r,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "service_unavailable",
                   "Too many programs running on this server, retry later");
    }

    cligw::Child child;
    cligw::UniqueFd cgroup_procs;

    ctx->started_at = ngx_current_msec;

    err = 0;

    if (glcf->cgroup) {
        std::string failed;

        err = cligw::create_cgroup(cgroup, glcf->cgroup->limits,
                                   cgroup_procs, failed);
        if (err) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, err,
                          "cli_gateway: user \"%V\" could not start \"%V\" "
                          "with args %V: cgroup \"%s\"", &user,
                          &glcf->program, &ctx->args, failed.c_str());
        }

        spec.cgroup_procs = cgroup_procs.get();
    }

    if (err == 0) {
        err = cligw::spawn_child(spec, child);

        if (err) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, err,
                          "cli_gateway: user \"%V\" could not start \"%V\" "
                          "with args %V", &user, &glcf->program, &ctx->args);

            if (glcf->cgroup) {
                cligw::remove_cgroup(cgroup);
            }
        }
    }

    if (err) {
        ngx_http_cli_gateway_leave_run(gmcf, entry);
        ngx_http_cli_gateway_give_running(gmcf);

        return ngx_http_cli_gateway_send_spawn_failure(r, ctx, err);
    }

    ctx->pid = child.pid;
    ctx->spawned = 1;

    ngx_http_cli_gateway_ledger_set_group(entry, child.pid);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cli_gateway: user \"%V\" started pid %P: \"%V\" args %V, "
                  "timeout %Ts", &user, child.pid, &glcf->program,
                  &ctx->args, timeout);

    return ngx_http_cli_gateway_watch_run(r, ctx, glcf, gmcf, child, timeout,
                                          entry, cgroup);
}
