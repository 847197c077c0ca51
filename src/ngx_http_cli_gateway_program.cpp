/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The program side of a run: from a checked request to a started program
 * (the environment and argv, the counts of cli_gateway_max_running, an
 * entry in the ledger, a cgroup, the spawn), then the Program, which
 * follows the child until it is reaped and everything it started is gone.
 * A program that cannot start is still a stream (`error`, `exit_code` 1).
 */

#include "ngx_http_cli_gateway_run.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include "cligw/error.hpp"


namespace cligw {

namespace {

/* how often a child is polled for its exit where there is no pidfd */
constexpr ngx_msec_t reap_poll = 50;
/* how often a finished run looks whether its cgroup is empty */
constexpr ngx_msec_t cgroup_poll = 10;


void
program_exit_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = (ngx_connection_t *) ev->data;
    Program           *p = (Program *) c->data;

    guarded(p->owner(), [&] { p->on_exit_event(); });
}


void
program_reap_poll_handler(ngx_event_t *ev)
{
    Program  *p = (Program *) ev->data;

    guarded(p->owner(), [&] { p->on_exit_event(); });
}


void
program_grace_handler(ngx_event_t *ev)
{
    Program  *p = (Program *) ev->data;

    guarded(p->owner(), [&] { p->on_grace_over(); });
}


void
program_cgroup_handler(ngx_event_t *ev)
{
    Program  *p = (Program *) ev->data;

    guarded(p->owner(), [&] { p->on_cgroup_poll(); });
}

} // namespace


Program::Program(Owner &owner, ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_loc_conf_t *glcf, Child &child,
    ngx_http_cli_gateway_ledger_entry_t *entry, const std::string &cgroup,
    ngx_log_t *log)
    : owner_(owner), gmcf_(gmcf), pid_(child.pid),
      pidfd_(std::move(child.pidfd)), entry_(entry), cgroup_(cgroup),
      grace_(glcf->stop_grace), stop_signal_((int) glcf->stop_signal)
{
    /* none of them may hold a gracefully exiting worker back */
    init_timer(reap_ev_, program_reap_poll_handler, this, log, true);
    init_timer(grace_ev_, program_grace_handler, this, log, true);
    init_timer(cgroup_ev_, program_cgroup_handler, this, log, true);
}


Program::~Program()
{
    del_timers({ &reap_ev_, &grace_ev_, &cgroup_ev_ });

    /* nothing signals the group any more */
    collect();

    if (exit_) {
        ngx_close_connection(exit_);
    }

    /* the group was killed or ended with the run; a cgroup that could not
     * be removed yet is left to the ledger's sweep */
    if (cgroup_.empty()) {
        ngx_http_cli_gateway_leave_run(gmcf_, entry_);
    } else {
        ngx_http_cli_gateway_abandon_run(gmcf_, entry_);
    }
}


bool
Program::watch()
{
    if (!pidfd_) {
        ngx_add_timer(&reap_ev_, reap_poll);
        return true;
    }

    exit_ = ngx_get_connection(pidfd_.get(), reap_ev_.log);

    if (exit_ == NULL) {
        /* without its pidfd watched, the child is reaped right here */
        signal_all(SIGKILL);
        reap_blocking();
        return false;
    }

    pidfd_.release();

    exit_->data = this;
    exit_->read->handler = program_exit_handler;
    exit_->read->log = reap_ev_.log;
    exit_->write->log = reap_ev_.log;

    if (ngx_handle_read_event(exit_->read, 0) != NGX_OK) {
        ngx_close_connection(exit_);
        exit_ = nullptr;
        signal_all(SIGKILL);
        reap_blocking();
        return false;
    }

    return true;
}


void
Program::on_exit_event()
{
    int  code, signo;

    switch (reap_child(pid_, exit_ ? exit_->fd : -1, false, code, signo,
                       true))
    {

    case ReapResult::running:
        if (!exit_) {
            ngx_add_timer(&reap_ev_, reap_poll);
        }
        return;

    case ReapResult::failed:
        ngx_log_error(NGX_LOG_ALERT, owner_.log(), ngx_errno,
                      "cli_gateway: waitid() for pid %P failed", pid_);
        code = -1;
        signo = 0;
        break;

    case ReapResult::exited:
        zombie_ = true;
        break;
    }

    if (exit_) {
        ngx_close_connection(exit_);
        exit_ = nullptr;
    }

    set_exited(code, signo);

    if (signo) {
        ngx_log_error(NGX_LOG_INFO, owner_.log(), 0,
                      "cli_gateway: pid %P killed by signal %d", pid_, signo);
    } else {
        ngx_log_error(NGX_LOG_INFO, owner_.log(), 0,
                      "cli_gateway: pid %P exited with code %d", pid_, code);
    }

    del_timers({ &grace_ev_ });

    if (stopping_) {
        /* whatever the program left running in its group goes too */
        signal_all(SIGKILL);
    }

    owner_.on_program_exit();
}


void
Program::reap_blocking()
{
    int  code, signo;
    int  fd = exit_ ? exit_->fd : pidfd_.get();

    if (!exited_
        && reap_child(pid_, fd, true, code, signo) == ReapResult::exited)
    {
        set_exited(code, signo);
    }
}


void
Program::collect()
{
    if (zombie_) {
        collect_child(pid_);
        zombie_ = false;
    }
}


/* The program is gone: its count of cli_gateway_max_running too. */

void
Program::set_exited(int code, int signo)
{
    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, reap_ev_.log, 0,
                   "cli_gateway: pid %P exited, code %d, signal %d",
                   pid_, code, signo);

    exited_ = true;
    exit_code_ = code;
    signo_ = signo;

    ngx_http_cli_gateway_give_running(gmcf_, entry_);
}


void
Program::stop()
{
    if (stopping_) {
        return;
    }

    stopping_ = true;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, reap_ev_.log, 0,
                   "cli_gateway: pid %P stopping, reaped: %d", pid_,
                   (int) exited_);

    if (exited_) {
        signal_all(SIGKILL);
        return;
    }

    signal_all(stop_signal_);

    if (stop_signal_ != SIGKILL) {
        ngx_add_timer(&grace_ev_, grace_);
    }
}


void
Program::on_grace_over()
{
    ngx_log_error(NGX_LOG_INFO, owner_.log(), 0,
                  "cli_gateway: pid %P outlived the stop grace, "
                  "sending SIGKILL", pid_);

    signal_all(SIGKILL);
}


void
Program::kill()
{
    signal_all(SIGKILL);
}


/* The process group, and with a cgroup everything the program started. */

void
Program::signal_all(int sig)
{
    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, reap_ev_.log, 0,
                   "cli_gateway: signal %d to the group of pid %P", sig, pid_);

    signal_group(pid_, sig);

    if (cgroup_.empty()) {
        return;
    }

    int rc = sig == SIGKILL ? kill_cgroup(cgroup_)
                            : signal_cgroup(cgroup_, sig);

    if (rc != 0 && rc != ENOENT) {
        ngx_log_error(NGX_LOG_ALERT, owner_.log(), rc,
                      "cli_gateway: signal %d to the cgroup \"%s\" of pid %P "
                      "failed", sig, cgroup_.c_str(), pid_);
    }
}


/*
 * The run is over; with a cgroup, whatever the program left in it is
 * killed, and the program is released when the cgroup is empty and
 * removed. false: not yet, on_program_released() follows.
 */

bool
Program::release()
{
    if (cgroup_.empty()) {
        return true;
    }

    if (cgroup_polls_ == 0) {
        /* what the program started, in its group or out of it */
        kill_cgroup(cgroup_);
    }

    int rc = remove_cgroup(cgroup_);

    if (rc == 0) {
        ngx_log_debug2(NGX_LOG_DEBUG_HTTP, reap_ev_.log, 0,
                       "cli_gateway: pid %P: removed the cgroup \"%s\"",
                       pid_, cgroup_.c_str());
        cgroup_.clear();
        return true;
    }

    if (rc != EBUSY || ++cgroup_polls_ == 100) {
        ngx_log_error(NGX_LOG_WARN, owner_.log(), rc,
                      "cli_gateway: the cgroup \"%s\" of pid %P is not "
                      "removed yet", cgroup_.c_str(), pid_);
    }

    if (rc != EBUSY) {
        /* the ledger's sweep tries again */
        return true;
    }

    ngx_add_timer(&cgroup_ev_, cgroup_poll);
    return false;
}


void
Program::on_cgroup_poll()
{
    if (release()) {
        owner_.on_program_released();
    }
}


/* Worker exit: nothing may outlive it. */

void
Program::kill_now()
{
    if (!exited_ && !stopping_) {
        /* nothing else ended it: a stopped run was counted when stopped */
        ngx_http_cli_gateway_metric_exit(gmcf_,
            NGX_HTTP_CLI_GATEWAY_EXIT_WORKER_EXIT);
    }

    signal_all(SIGKILL);
    reap_blocking();
    collect();

    /* the killed processes need a moment to leave the cgroup */
    for (int i = 0; i < 200 && !cgroup_.empty(); i++) {
        if (remove_cgroup(cgroup_) == 0) {
            cgroup_.clear();
            break;
        }

        ngx_msleep(5);
    }
}

} // namespace cligw


extern char  **environ;


/* Spawn failure is still a stream: `error`, then `exit_code` 1. */

static ngx_int_t
ngx_http_cli_gateway_send_spawn_failure(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, int err)
{
    ngx_int_t                         rc;
    std::string                       events;
    ngx_http_cli_gateway_loc_conf_t  *glcf;

    glcf = (ngx_http_cli_gateway_loc_conf_t *)
               ngx_http_get_module_loc_conf(r, ngx_http_cli_gateway_module);

    /* for EACCES, the message names the path the worker cannot use */
    std::string message = cligw::spawn_error_message(err,
        (const char *) glcf->program.data,
        glcf->working_directory.len
        ? (const char *) glcf->working_directory.data : nullptr);

    if (ctx->rec) {
        /* numbered, and the run's whole log */
        cligw::EventIds<std::string> ids(events, 0);
        cligw::sse_append_error(ids, message);
        cligw::sse_append_exit_code(ids, 1);

        ngx_http_cli_gateway_runs_log(glcf->runs, ctx->rec, events, 1);

    } else {
        cligw::sse_append_error(events, message);
        cligw::sse_append_exit_code(events, 1);
    }

    ctx->exit_code = 1;
    ctx->ended = 1;
    ctx->bytes = events.size();
    ngx_http_cli_gateway_metric_events(r, events.size());

    rc = ngx_http_cli_gateway_send_stream_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_cli_gateway_send_body(r, events);
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


/*
 * cli_gateway_runs: the run's record in the zone, before anything starts;
 * NGX_DECLINED when the zone has no room (logged).
 */

static ngx_int_t
ngx_http_cli_gateway_keep_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, ngx_http_cli_gateway_loc_conf_t *glcf,
    const cligw::CliRequest &request, time_t timeout)
{
    std::string  args = "[";

    for (const std::string &arg : request.args) {
        if (args.size() > 1) {
            args += ',';
        }
        args += '"';
        cligw::json_append_escaped(args, arg);
        args += '"';
    }

    args += ']';

    ctx->rec = ngx_http_cli_gateway_runs_create(glcf->runs, &ctx->user, args,
                                                timeout, r->connection->log);
    if (ctx->rec == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: the zone "
                      "\"%V\" of cli_gateway_runs is full", &ctx->log_user,
                      &ctx->args, &glcf->runs->shm.name);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * The run's key of the keyed cli_gateway_max_running, as the ledger counts
 * it: the key's name as written, NUL, its value (so that values of other
 * keys never meet). Empty without one, or when the value is empty: such a
 * run is not capped by key.
 */

static ngx_int_t
ngx_http_cli_gateway_running_key(ngx_http_request_t *r,
    ngx_http_cli_gateway_running_key_t *rk, ngx_str_t *key, ngx_str_t *value)
{
    u_char  *p;

    ngx_str_null(key);
    ngx_str_null(value);

    if (rk == NULL) {
        return NGX_OK;
    }

    if (ngx_http_complex_value(r, &rk->value, value) != NGX_OK) {
        return NGX_ERROR;
    }

    if (value->len == 0) {
        return NGX_OK;
    }

    key->len = rk->name.len + 1 + value->len;
    key->data = (u_char *) ngx_pnalloc(r->pool, key->len);
    if (key->data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(key->data, rk->name.data, rk->name.len);
    *p++ = '\0';
    ngx_memcpy(p, value->data, value->len);

    return NGX_OK;
}


/* 429 and 503 before a spawn: the client may try again in a second. */

static ngx_int_t
ngx_http_cli_gateway_refuse_retry(ngx_http_request_t *r, ngx_uint_t status,
    std::string_view code, std::string_view message)
{
    if (ngx_http_cli_gateway_add_header(r, "Retry-After", "1") != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    return ngx_http_cli_gateway_send_error(r, status, code, message);
}


ngx_int_t
ngx_http_cli_gateway_start_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, const cligw::CliRequest &request)
{
    int                                   err;
    time_t                                timeout;
    ngx_int_t                             rc;
    ngx_str_t                             user, key, key_value;
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

    if (ngx_http_cli_gateway_running_key(r, glcf->running_key, &key,
                                         &key_value)
        != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ngx_http_cli_gateway_take_running(gmcf, r->connection->log)
        == NGX_DECLINED)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: "
                      "cli_gateway_max_running %ui reached",
                      &user, &ctx->args, gmcf->max_running);

        return ngx_http_cli_gateway_refuse_retry(r,
                   NGX_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                   "Too many programs running, retry later");
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
    rc = ngx_http_cli_gateway_enter_run(gmcf, &cgroup_name, &key,
                                        key.len ? glcf->running_key->max : 0,
                                        &entry, r->connection->log);

    if (rc == NGX_BUSY) {
        ngx_http_cli_gateway_give_running(gmcf);

        key_value = ngx_http_cli_gateway_log_escape(r->pool, key_value);

        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: "
                      "cli_gateway_max_running %ui key=%V reached for "
                      "\"%V\"", &user, &ctx->args,
                      glcf->running_key->max, &glcf->running_key->name,
                      &key_value);

        return ngx_http_cli_gateway_refuse_retry(r,
                   NGX_HTTP_TOO_MANY_REQUESTS, "rate_limited",
                   "Too many programs running, retry later");
    }

    if (rc != NGX_OK) {
        ngx_http_cli_gateway_give_running(gmcf);

        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "cli_gateway: refused user \"%V\" args %V: the ledger "
                      "of running programs is full", &user, &ctx->args);

        return ngx_http_cli_gateway_refuse_retry(r,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "service_unavailable",
                   "Too many programs running on this server, retry later");
    }

    if (glcf->runs && ngx_http_cli_gateway_keep_run(r, ctx, glcf, request,
                                                    timeout) != NGX_OK)
    {
        ngx_http_cli_gateway_leave_run(gmcf, entry);
        ngx_http_cli_gateway_give_running(gmcf);

        return ngx_http_cli_gateway_refuse_retry(r,
                   NGX_HTTP_SERVICE_UNAVAILABLE, "service_unavailable",
                   "Too many runs kept on this server, retry later");
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
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "cli_gateway: spawn \"%V\", %uz args, cgroup \"%s\"",
                       &glcf->program, request.args.size(), cgroup.c_str());

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
        ngx_http_cli_gateway_metric_exit(gmcf,
            NGX_HTTP_CLI_GATEWAY_EXIT_SPAWN_FAILED);

        return ngx_http_cli_gateway_send_spawn_failure(r, ctx, err);
    }

    ctx->pid = child.pid;
    ctx->spawned = 1;

    if (ctx->rec) {
        ngx_http_cli_gateway_runs_started(glcf->runs, ctx->rec, child.pid);
    }

    ngx_http_cli_gateway_ledger_set_group(entry, child.pid);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "cli_gateway: user \"%V\" started pid %P: \"%V\" args %V, "
                  "timeout %Ts", &user, child.pid, &glcf->program,
                  &ctx->args, timeout);

    rc = ngx_http_cli_gateway_watch_run(r, ctx, glcf, gmcf, child, timeout,
                                        entry, cgroup);

    if (rc == NGX_DONE) {
        ngx_http_cli_gateway_metric_started(gmcf);

    } else {
        /* stopped at once: to its client the program never ran */
        ngx_http_cli_gateway_metric_exit(gmcf,
            NGX_HTTP_CLI_GATEWAY_EXIT_SPAWN_FAILED);
    }

    return rc;
}
