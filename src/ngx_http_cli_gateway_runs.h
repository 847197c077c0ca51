/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * Runs kept in a zone (cli_gateway_runs_zone): a record per run, shared by
 * every worker of the machine, with the run's event log for replay.
 *
 * The worker running the program is the record's only writer: it appends
 * to the log without a lock (cligw/replay.hpp) and sets the rest under the
 * zone's mutex. Every other access (the API, reattached streams, cancels)
 * holds the mutex while it looks at a record, and finds it again by its id
 * next time: a finished record may be gone by then.
 */

#ifndef NGX_HTTP_CLI_GATEWAY_RUNS_H_INCLUDED_
#define NGX_HTTP_CLI_GATEWAY_RUNS_H_INCLUDED_

#include "ngx_http_cli_gateway.h"

#include <string>
#include <string_view>

#include "cligw/replay.hpp"


/* a run id: the node's name, "-", 16 hex digits */
#define NGX_HTTP_CLI_GATEWAY_NODE_MAX     63
#define NGX_HTTP_CLI_GATEWAY_RUN_ID_MAX   (NGX_HTTP_CLI_GATEWAY_NODE_MAX + 17)


struct ngx_http_cli_gateway_runs_sh_s {
    ngx_rbtree_t                  rbtree;     /* records by id */
    ngx_rbtree_node_t             sentinel;
    ngx_queue_t                   queue;      /* records, oldest first */
    ngx_atomic_t                  cancels;    /* DELETEs, for the workers */
};


struct ngx_http_cli_gateway_run_rec_s {
    ngx_str_node_t                sn;         /* sn.str: the run id */
    ngx_queue_t                   queue;
    cligw::ReplayRing             ring;       /* the event log's end */
    size_t                        replay;     /* ring.size may grow to this */
    ngx_pid_t                     worker;     /* the program's worker */
    ngx_pid_t                     pid;        /* -1 until spawned */
    time_t                        started_at;
    time_t                        ended_at;
    time_t                        timeout;
    ngx_msec_t                    reader_seen;  /* a reattached stream polled */
    off_t                         output_bytes;
    ngx_int_t                     exit_code;
    unsigned                      client:1;   /* its POST stream is attached */
    unsigned                      exited:1;   /* the log has its last event */
    unsigned                      cancel:1;   /* DELETE asked for a stop */
    ngx_str_t                     user;
    ngx_str_t                     args;       /* a JSON array */
    u_char                        data[1];    /* the id, user and args */
};


/* The zone's mutex for a scope: released however the scope ends. */
class ngx_http_cli_gateway_runs_lock {
public:
    explicit ngx_http_cli_gateway_runs_lock(
        ngx_http_cli_gateway_runs_zone_t *rz)
        : mutex_(&rz->shpool->mutex)
    {
        ngx_shmtx_lock(mutex_);
    }

    ~ngx_http_cli_gateway_runs_lock() { ngx_shmtx_unlock(mutex_); }

    ngx_http_cli_gateway_runs_lock(const ngx_http_cli_gateway_runs_lock &)
        = delete;
    ngx_http_cli_gateway_runs_lock &operator=(
        const ngx_http_cli_gateway_runs_lock &) = delete;

private:
    ngx_shmtx_t  *mutex_;
};


/* a stream polled within this long ago counts as a client */
#define NGX_HTTP_CLI_GATEWAY_READER_TTL   1000


ngx_http_cli_gateway_runs_zone_t *ngx_http_cli_gateway_runs_conf(
    ngx_shm_zone_t *zone);

const char *ngx_http_cli_gateway_runs_state(
    ngx_http_cli_gateway_run_rec_t *rec);

/* The record of id, or NULL; with the zone's mutex held. */
ngx_http_cli_gateway_run_rec_t *ngx_http_cli_gateway_runs_find(
    ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id);

/* The record of id as a request sees it: NULL as well for a finished run
 * past keep (freed now, whoever listed the runs last), ended if its worker
 * died; with the mutex held. */
ngx_http_cli_gateway_run_rec_t *ngx_http_cli_gateway_runs_lookup(
    ngx_http_cli_gateway_runs_zone_t *rz, std::string_view id,
    ngx_log_t *log);

/* Whether the record is the caller's (cli_gateway_user). */
bool ngx_http_cli_gateway_runs_owned(ngx_http_cli_gateway_run_rec_t *rec,
    ngx_str_t *user);

/* The record as JSON; with the mutex held. */
std::string ngx_http_cli_gateway_runs_json(
    ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec);

/* The caller's runs as a JSON array, oldest first; takes the mutex. */
std::string ngx_http_cli_gateway_runs_list(
    ngx_http_cli_gateway_runs_zone_t *rz, ngx_str_t *user);

/* Finished runs past keep, and runs of workers that are gone; mutex held */
void ngx_http_cli_gateway_runs_expire(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_log_t *log);

/* A run of a worker that died ends, its log too; mutex held */
bool ngx_http_cli_gateway_runs_orphaned(ngx_http_cli_gateway_run_rec_t *rec,
    ngx_log_t *log);

/* The writer, before n more bytes: the ring grows rather than overwrite,
 * as far as replay allows */
void ngx_http_cli_gateway_runs_grow(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, size_t n);
/* The writer: its last event is in the log */
void ngx_http_cli_gateway_runs_exit(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, ngx_int_t code);
/* The whole log of a run that never started, and its end */
void ngx_http_cli_gateway_runs_log(ngx_shm_zone_t *zone,
    ngx_http_cli_gateway_run_rec_t *rec, std::string_view events,
    ngx_int_t code);
/* The writer: a client stream attached to it in this worker, or none */
void ngx_http_cli_gateway_runs_set_client(
    ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, bool client);

#endif /* NGX_HTTP_CLI_GATEWAY_RUNS_H_INCLUDED_ */
