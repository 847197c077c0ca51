/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * Shared declarations of the nginx glue of ngx_http_cli_gateway_module.
 */

#ifndef NGX_HTTP_CLI_GATEWAY_H_INCLUDED_
#define NGX_HTTP_CLI_GATEWAY_H_INCLUDED_

extern "C" {
#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
}

#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cligw/cgroup.hpp"
#include "cligw/metrics.hpp"
#include "cligw/request.hpp"


namespace cligw {
class ClientStream;
class Program;
struct Policy;
class BlockPool;
struct JwtKey;
struct ChildLimits;
struct Child;
}


typedef struct {
    ngx_str_t                   name;
    ngx_http_complex_value_t    value;
} ngx_http_cli_gateway_env_t;


/* cli_gateway_cgroup: where each run gets a cgroup of its own */
typedef struct {
    ngx_str_t                   path;         /* no trailing slash */
    cligw::CgroupLimits         limits;
    u_char                     *conf_file;
    ngx_uint_t                  conf_line;
} ngx_http_cli_gateway_cgroup_t;


/* cli_gateway_max_running N key=value: a cap per value of the key */
typedef struct {
    ngx_uint_t                  max;
    ngx_str_t                   name;         /* as written: values of
                                                 other keys never meet */
    ngx_http_complex_value_t    value;
} ngx_http_cli_gateway_running_key_t;


/* How a run ended, in the order of cligw::exit_kinds. */
typedef enum {
    NGX_HTTP_CLI_GATEWAY_EXIT_EXITED = 0,     /* its status 0 */
    NGX_HTTP_CLI_GATEWAY_EXIT_FAILED,         /* another status */
    NGX_HTTP_CLI_GATEWAY_EXIT_SIGNALED,       /* a signal not ours */
    NGX_HTTP_CLI_GATEWAY_EXIT_TIMEOUT,
    NGX_HTTP_CLI_GATEWAY_EXIT_CANCELLED,
    NGX_HTTP_CLI_GATEWAY_EXIT_CLIENT_GONE,    /* stopped: its client went */
    NGX_HTTP_CLI_GATEWAY_EXIT_OUTPUT_LIMIT,
    NGX_HTTP_CLI_GATEWAY_EXIT_DETACH_TIMEOUT,
    NGX_HTTP_CLI_GATEWAY_EXIT_SPAWN_FAILED,   /* or its run could not begin */
    NGX_HTTP_CLI_GATEWAY_EXIT_WORKER_EXIT,    /* killed as its worker went */
    NGX_HTTP_CLI_GATEWAY_EXIT_KINDS
} ngx_http_cli_gateway_exit_kind_e;


/* The counters of all workers, in the ledger's zone; atomics. */
typedef struct {
    ngx_atomic_t                runs_started;
    ngx_atomic_t                refused[cligw::refusal_reasons.size()];
    ngx_atomic_t                exited[NGX_HTTP_CLI_GATEWAY_EXIT_KINDS];
    ngx_atomic_t                output_bytes;
    ngx_atomic_t                events_bytes;
} ngx_http_cli_gateway_metrics_t;


typedef struct {
    ngx_str_t                   program;      /* absolute; empty: no handler */
    ngx_str_t                   working_directory;
    ngx_http_complex_value_t   *claim;
    ngx_array_t                *claim_accept; /* of ngx_str_t */
    ngx_http_complex_value_t   *user;         /* who, for the log */
    ngx_array_t                *env;          /* of ngx_http_cli_gateway_env_t */
    ngx_array_t                *allow;        /* of ngx_array_t of ngx_str_t */
    ngx_array_t                *deny;
    cligw::Policy              *policy;       /* of a gateway with rules */
    ngx_flag_t                  clear_env;

    ngx_http_complex_value_t   *jwt;          /* the token, if verified */
    std::vector<cligw::JwtKey> *jwt_keys;     /* cligw::JwtKeys */
    time_t                      jwt_leeway;
    ngx_str_t                   jwt_issuer;
    ngx_str_t                   jwt_audience;
    ngx_array_t                *jwt_require;  /* of ngx_str_t; NULL: none */

    time_t                      max_timeout;
    time_t                      default_timeout;
    ngx_msec_t                  keepalive;
    ngx_msec_t                  drain;
    ngx_msec_t                  stop_grace;
    ngx_int_t                   stop_signal;

    size_t                      max_body_size;
    size_t                      line_max;
    off_t                       output_max;
    ngx_uint_t                  max_args;
    size_t                      max_arg_length;

    /* the child's limits; unset: the worker's */
    time_t                      rlimit_cpu;
    off_t                       rlimit_as;
    ngx_int_t                   rlimit_nofile;
    ngx_int_t                   priority;
    ngx_flag_t                  priority_set;  /* -1 is a valid priority */
    ngx_http_cli_gateway_cgroup_t *cgroup;     /* NULL: none */
    ngx_http_cli_gateway_running_key_t *running_key;  /* NULL: none */
    ngx_flag_t                  status;       /* cli_gateway_status here */

    ngx_shm_zone_t             *runs;         /* cli_gateway_runs; NULL: none */
    ngx_msec_t                  detach;       /* a run may go on without client */

    /* where "cli_gateway" is, for messages of the merge */
    u_char                     *conf_file;
    ngx_uint_t                  conf_line;
} ngx_http_cli_gateway_loc_conf_t;


/* cli_gateway_runs_zone: the zone's settings, the zone's data */
typedef struct ngx_http_cli_gateway_runs_sh_s ngx_http_cli_gateway_runs_sh_t;
typedef struct ngx_http_cli_gateway_run_rec_s ngx_http_cli_gateway_run_rec_t;

typedef struct {
    ngx_shm_zone_t             *shm_zone;
    ngx_slab_pool_t            *shpool;
    ngx_http_cli_gateway_runs_sh_t *sh;
    size_t                      replay;       /* log bytes kept per run */
    time_t                      keep;         /* of a finished run */
    ngx_str_t                   node;         /* this machine, in run ids */
    ngx_atomic_uint_t           cancels_seen; /* this worker's, of sh */
} ngx_http_cli_gateway_runs_zone_t;


typedef struct ngx_http_cli_gateway_ledger_worker_s
    ngx_http_cli_gateway_ledger_worker_t;
typedef struct ngx_http_cli_gateway_ledger_entry_s
    ngx_http_cli_gateway_ledger_entry_t;


typedef struct {
    ngx_queue_t                 runs;       /* live runs of this worker */
    ngx_queue_t                 readers;    /* its reattached streams */
    ngx_flag_t                  used;       /* some location has cli_gateway */
    ngx_uint_t                  max_running;
    ngx_shm_zone_t             *zone;       /* the ledger of all workers, and
                                               the metrics */
    ngx_http_cli_gateway_ledger_worker_t *worker;  /* this worker's record */
    ngx_event_t                 sweep_ev;   /* looks for dead workers */
    ngx_array_t                *cgroups;    /* of ngx_http_cli_gateway_cgroup_t *,
                                               checked once configured */
    ngx_uint_t                  cgroup_runs;  /* names this worker's cgroups */
    u_char                     *read_buf;   /* scratch for pipe reads */
    size_t                      read_buf_size;
    cligw::BlockPool           *blocks;     /* output of the streams */
    std::string                *scratch;    /* events of runs in a zone */
    ngx_array_t                *runs_zones; /* of ngx_http_cli_gateway_runs_zone_t * */
    ngx_event_t                 cancel_ev;  /* looks for DELETEs of runs */
    ngx_msec_t                  exiting_at; /* when it saw ngx_exiting */
    unsigned                    exiting:1;  /* it saw ngx_exiting */
    unsigned                    shut_down:1;  /* worker_shutdown_timeout */
} ngx_http_cli_gateway_main_conf_t;


/* Per-request state: trivially destructible, lives in r->pool. */
typedef struct {
    cligw::ClientStream        *stream;     /* NULL once the run let go */
    ngx_str_t                   context_id;
    ngx_str_t                   args;       /* escaped, for the log */
    ngx_str_t                   user;
    ngx_str_t                   log_user;   /* escaped for error.log */
    ngx_array_t                *claims;     /* of ngx_keyval_t, from the JWT */
    ngx_msec_t                  started_at;
    ngx_msec_t                  duration;
    off_t                       bytes;      /* SSE bytes produced */
    ngx_pid_t                   pid;
    ngx_int_t                   exit_code;
    ngx_http_cli_gateway_run_rec_t *rec;    /* cli_gateway_runs: the run's */
    unsigned                    has_context_id:1;
    unsigned                    spawned:1;
    unsigned                    ended:1;
} ngx_http_cli_gateway_ctx_t;


extern "C" ngx_module_t  ngx_http_cli_gateway_module;


/* error.cpp: responses before the stream starts, and their helpers */
ngx_int_t ngx_http_cli_gateway_send_error(ngx_http_request_t *r,
    ngx_uint_t status, std::string_view code, std::string_view message,
    const std::vector<cligw::ValidationError> *validation_errors = nullptr);
ngx_int_t ngx_http_cli_gateway_send_response(ngx_http_request_t *r,
    ngx_uint_t status, const ngx_str_t *type, std::string_view body);
ngx_int_t ngx_http_cli_gateway_send_body(ngx_http_request_t *r,
    std::string_view body);
ngx_int_t ngx_http_cli_gateway_add_header(ngx_http_request_t *r,
    const char *key, const char *value);
ngx_str_t ngx_http_cli_gateway_pool_string(ngx_pool_t *pool,
    std::string_view s);
ngx_str_t ngx_http_cli_gateway_log_escape(ngx_pool_t *pool, ngx_str_t value);
bool ngx_http_cli_gateway_refuse_expect(ngx_http_request_t *r);


/*
 * A content handler's work, f(): an exception is logged and answered with
 * 500, since none may reach nginx's C frames; and nginx's own error page
 * must not invite the body either.
 */

template <class F>
ngx_int_t
ngx_http_cli_gateway_guarded(ngx_http_request_t *r, F &&f) noexcept
{
    ngx_int_t  rc;

    try {
        rc = f();

    } catch (const std::exception &e) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: %s", e.what());
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;

    } catch (...) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "cli_gateway: unexpected exception");
        rc = NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        (void) ngx_http_cli_gateway_refuse_expect(r);
    }

    return rc;
}


/* jwt.cpp: cli_gateway_jwt */
char *ngx_http_cli_gateway_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cli_gateway_jwt_require(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
extern ngx_array_t  ngx_http_cli_gateway_jwt_require_default;
bool ngx_http_cli_gateway_jwt_refused(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_int_t &rc);

/* request.cpp: reading and checking the request body */
ngx_int_t ngx_http_cli_gateway_read_body(ngx_http_request_t *r);

/* program.cpp: from a checked request to a started program */
ngx_int_t ngx_http_cli_gateway_start_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, const cligw::CliRequest &request);

/* stream.cpp: the response header of every stream */
ngx_int_t ngx_http_cli_gateway_send_stream_header(ngx_http_request_t *r);

/* run.cpp: a started program, watched and streamed */
ngx_int_t ngx_http_cli_gateway_watch_run(ngx_http_request_t *r,
    ngx_http_cli_gateway_ctx_t *ctx, ngx_http_cli_gateway_loc_conf_t *glcf,
    ngx_http_cli_gateway_main_conf_t *gmcf, cligw::Child &child,
    time_t timeout, ngx_http_cli_gateway_ledger_entry_t *entry,
    const std::string &cgroup);

ngx_int_t ngx_http_cli_gateway_watch_cancels(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf);

/* worker.cpp: what a worker keeps for its runs, and their end at its exit */
void ngx_http_cli_gateway_stop_all_runs(
    ngx_http_cli_gateway_main_conf_t *gmcf);
ngx_int_t ngx_http_cli_gateway_init_runs(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf);

/* ledger.cpp: running programs of all workers, cli_gateway_max_running */
ngx_int_t ngx_http_cli_gateway_add_ledger(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf);
ngx_int_t ngx_http_cli_gateway_size_ledger(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf);
char *ngx_http_cli_gateway_max_running(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_cli_gateway_join_ledger(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf);
void ngx_http_cli_gateway_leave_ledger(ngx_http_cli_gateway_main_conf_t *gmcf);
ngx_int_t ngx_http_cli_gateway_take_running(
    ngx_http_cli_gateway_main_conf_t *gmcf, ngx_log_t *log);
void ngx_http_cli_gateway_give_running(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e = NULL);
ngx_uint_t ngx_http_cli_gateway_running(ngx_http_cli_gateway_main_conf_t *gmcf);
ngx_int_t ngx_http_cli_gateway_enter_run(
    ngx_http_cli_gateway_main_conf_t *gmcf, const ngx_str_t *cgroup,
    const ngx_str_t *key, ngx_uint_t key_max,
    ngx_http_cli_gateway_ledger_entry_t **entry, ngx_log_t *log);
void ngx_http_cli_gateway_ledger_set_group(
    ngx_http_cli_gateway_ledger_entry_t *e, ngx_pid_t pgid);
void ngx_http_cli_gateway_leave_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e);
void ngx_http_cli_gateway_abandon_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e);
ngx_http_cli_gateway_metrics_t *ngx_http_cli_gateway_ledger_metrics(
    ngx_http_cli_gateway_main_conf_t *gmcf);
/* a worker's pid answers no more, or for another user's process (reused) */
ngx_flag_t ngx_http_cli_gateway_worker_gone(ngx_pid_t pid);

/* metrics.cpp: cli_gateway_status, and the counting */
char *ngx_http_cli_gateway_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_cli_gateway_metric_started(
    ngx_http_cli_gateway_main_conf_t *gmcf);
void ngx_http_cli_gateway_metric_exit(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_exit_kind_e kind);
void ngx_http_cli_gateway_metric_end(ngx_http_cli_gateway_main_conf_t *gmcf,
    const cligw::Program &program);
void ngx_http_cli_gateway_metric_refused(ngx_http_request_t *r,
    std::string_view code);
void ngx_http_cli_gateway_metric_output(ngx_http_cli_gateway_main_conf_t *gmcf,
    size_t n);
void ngx_http_cli_gateway_metric_events(ngx_http_request_t *r, size_t n);

/* runs.cpp: cli_gateway_runs_zone, runs kept in a zone */
char *ngx_http_cli_gateway_runs_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_cli_gateway_runs(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_uint_t ngx_http_cli_gateway_runs_detached(
    ngx_http_cli_gateway_main_conf_t *gmcf);
ngx_http_cli_gateway_run_rec_t *ngx_http_cli_gateway_runs_create(
    ngx_shm_zone_t *zone, ngx_str_t *user, std::string_view args_json,
    time_t timeout, ngx_log_t *log);
void ngx_http_cli_gateway_runs_started(ngx_shm_zone_t *zone,
    ngx_http_cli_gateway_run_rec_t *rec, ngx_pid_t pid);
std::string_view ngx_http_cli_gateway_runs_id(
    ngx_http_cli_gateway_run_rec_t *rec);

/* api.cpp: the runs under the gateway's URI */
ngx_int_t ngx_http_cli_gateway_runs_api(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    ngx_str_t *path);
void ngx_http_cli_gateway_stop_all_readers(
    ngx_http_cli_gateway_main_conf_t *gmcf);

/* cgroup.cpp: cli_gateway_cgroup */
char *ngx_http_cli_gateway_cgroup(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_cli_gateway_check_cgroups(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf);

/* rlimit.cpp: the child's resource limits and niceness */
extern ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_cpu_post;
extern ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_as_post;
extern ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_nofile_post;
char *ngx_http_cli_gateway_priority(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_cli_gateway_merge_limits(ngx_http_cli_gateway_loc_conf_t *conf,
    ngx_http_cli_gateway_loc_conf_t *prev);
cligw::ChildLimits ngx_http_cli_gateway_child_limits(
    ngx_http_cli_gateway_loc_conf_t *glcf);

/* policy.cpp: cli_gateway_allow, cli_gateway_deny */
char *ngx_http_cli_gateway_rule(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_cli_gateway_merge_policy(ngx_conf_t *cf,
    ngx_http_cli_gateway_loc_conf_t *conf,
    ngx_http_cli_gateway_loc_conf_t *prev);
bool ngx_http_cli_gateway_policy_refused(ngx_http_request_t *r,
    ngx_http_cli_gateway_loc_conf_t *glcf, ngx_http_cli_gateway_ctx_t *ctx,
    const std::vector<std::string> &args, std::string &message);

/* variables.cpp */
ngx_int_t ngx_http_cli_gateway_add_variables(ngx_conf_t *cf);

#endif /* NGX_HTTP_CLI_GATEWAY_H_INCLUDED_ */
