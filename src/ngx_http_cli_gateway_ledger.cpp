/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The ledger: what every worker has running, in shared memory.
 *
 * Each worker, of whatever generation, has a record there: its pid, its
 * count of running programs (for cli_gateway_max_running) and an entry per
 * run with the run's process group and cgroup. A run is entered before its
 * program starts and refused (503) when the zone is full, so no program is
 * unknown to the ledger. A worker that dies (SIGKILL, the OOM killer, a
 * crash) can release nothing, and posix_spawn cannot give its children a
 * parent-death signal; so every worker sweeps the ledger at start and once
 * a second: the groups and cgroups of a worker that is gone are killed,
 * and its record freed. That also covers the old workers of a reload,
 * which no new worker replaces.
 *
 * Records and entries are allocated in the zone's slab pool, so the number
 * of workers and of runs is bounded only by the zone's size, which follows
 * the configuration (worker_processes x worker_connections) at start and
 * is kept across reloads, so that old workers and new ones share it.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>

#include <exception>
#include <string>

#include "cligw/cgroup.hpp"


/* how often the workers look for dead peers, together */
#define NGX_HTTP_CLI_GATEWAY_SWEEP_INTERVAL  1000

/* zone bytes per run the configuration allows, and for the records */
#define NGX_HTTP_CLI_GATEWAY_RUN_BYTES       128
#define NGX_HTTP_CLI_GATEWAY_BASE_BYTES      (64 * 1024)


struct ngx_http_cli_gateway_ledger_worker_s {
    ngx_queue_t                   queue;      /* in the ledger's workers */
    ngx_queue_t                   runs;       /* of ledger entries */
    ngx_pid_t                     pid;
    ngx_atomic_t                  running;    /* programs not reaped yet */
};


struct ngx_http_cli_gateway_ledger_entry_s {
    ngx_queue_t                   queue;
    ngx_pid_t                     pgid;       /* 0 until the spawn */
    size_t                        cgroup_len; /* 0: no cgroup */
    u_char                        cgroup[1];  /* NUL-terminated */
};


typedef struct {
    ngx_queue_t                   workers;
    ngx_queue_t                   leftovers;  /* cgroups not removed yet */
    ngx_atomic_t                  swept_at;   /* ngx_current_msec */
} ngx_http_cli_gateway_ledger_t;


static ngx_int_t ngx_http_cli_gateway_init_ledger_zone(ngx_shm_zone_t *zone,
    void *data);
static void ngx_http_cli_gateway_sweep_handler(ngx_event_t *ev);
static void ngx_http_cli_gateway_sweep(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_log_t *log);
static void ngx_http_cli_gateway_kill_entry(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger,
    ngx_http_cli_gateway_ledger_entry_t *e, ngx_pid_t worker, ngx_log_t *log);
static void ngx_http_cli_gateway_retry_leftovers(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger, ngx_log_t *log);
static ngx_flag_t ngx_http_cli_gateway_worker_gone(ngx_pid_t pid);


static ngx_str_t  ngx_http_cli_gateway_ledger_name =
    ngx_string("cli_gateway_ledger");


/* from the "cli_gateway" directive: every configuration that runs programs */

ngx_int_t
ngx_http_cli_gateway_add_ledger(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    if (gmcf->zone) {
        return NGX_OK;
    }

    /* the size is set once the whole configuration is read */
    gmcf->zone = ngx_shared_memory_add(cf, &ngx_http_cli_gateway_ledger_name,
                                       8 * ngx_pagesize,
                                       &ngx_http_cli_gateway_module);
    if (gmcf->zone == NULL) {
        return NGX_ERROR;
    }

    gmcf->zone->init = ngx_http_cli_gateway_init_ledger_zone;

    return NGX_OK;
}


/*
 * init_main_conf: room for every run the configuration allows (a run takes
 * at least two connections of its worker, so worker_connections bounds it)
 * three times over, for old workers of reloads. A reload keeps the zone
 * of the running nginx, whatever the new configuration says: new workers
 * must see the old ones' runs.
 */

ngx_int_t
ngx_http_cli_gateway_size_ledger(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    size_t               size;
    ngx_uint_t           i, workers, connections;
    ngx_list_part_t     *part;
    ngx_shm_zone_t      *zone;
    ngx_core_conf_t     *ccf;
    ngx_event_conf_t    *ecf;

    if (gmcf->zone == NULL) {
        return NGX_OK;
    }

    ccf = (ngx_core_conf_t *) ngx_get_conf(cf->cycle->conf_ctx,
                                           ngx_core_module);
    workers = ccf->worker_processes > 0 ? ccf->worker_processes : ngx_ncpu;

    ecf = NULL;
    if (cf->cycle->conf_ctx[ngx_events_module.index]) {
        ecf = (ngx_event_conf_t *) ngx_event_get_conf(cf->cycle->conf_ctx,
                                                      ngx_event_core_module);
    }
    connections = ecf && ecf->connections != NGX_CONF_UNSET_UINT
                  ? ecf->connections : 512;

    size = NGX_HTTP_CLI_GATEWAY_BASE_BYTES
           + workers * connections * NGX_HTTP_CLI_GATEWAY_RUN_BYTES;

    part = &((ngx_cycle_t *) ngx_cycle)->shared_memory.part;
    zone = (ngx_shm_zone_t *) part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }
            part = part->next;
            zone = (ngx_shm_zone_t *) part->elts;
            i = 0;
        }

        if (zone[i].tag == &ngx_http_cli_gateway_module
            && zone[i].shm.name.len == ngx_http_cli_gateway_ledger_name.len
            && ngx_strncmp(zone[i].shm.name.data,
                           ngx_http_cli_gateway_ledger_name.data,
                           zone[i].shm.name.len) == 0)
        {
            size = zone[i].shm.size;
            break;
        }
    }

    gmcf->zone->shm.size = ngx_align(size, ngx_pagesize);

    return NGX_OK;
}


char *
ngx_http_cli_gateway_max_running(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cli_gateway_main_conf_t *gmcf =
        (ngx_http_cli_gateway_main_conf_t *) conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    if (gmcf->max_running != NGX_CONF_UNSET_UINT) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n <= 0) {
        return (char *) "needs a number of programs greater than 0";
    }

    gmcf->max_running = n;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_init_ledger_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_cli_gateway_ledger_t  *ledger;

    if (data) {
        /* a reload: the old workers' records carry over */
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    ledger = (ngx_http_cli_gateway_ledger_t *)
                 ngx_slab_calloc(shpool, sizeof(ngx_http_cli_gateway_ledger_t));
    if (ledger == NULL) {
        return NGX_ERROR;
    }

    ngx_queue_init(&ledger->workers);
    ngx_queue_init(&ledger->leftovers);

    shpool->data = ledger;
    zone->data = ledger;

    /* the zone's own allocation failures are ours to report, as 503s */
    shpool->log_nomem = 0;

    /* an entry without a cgroup takes a 64-byte slab chunk */
    ngx_log_error(NGX_LOG_NOTICE, zone->shm.log, 0,
                  "cli_gateway: the ledger has %uz KiB, room for about %uz "
                  "runs", zone->shm.size / 1024,
                  (size_t) (shpool->end - shpool->start) / 64);

    return NGX_OK;
}


/* init_process: settle dead workers' runs, enter this worker, sweep on */

ngx_int_t
ngx_http_cli_gateway_join_ledger(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_slab_pool_t                       *shpool;
    ngx_http_cli_gateway_ledger_t         *ledger;
    ngx_http_cli_gateway_ledger_worker_t  *w;

    if (gmcf->zone == NULL) {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    ngx_http_cli_gateway_sweep(gmcf, cycle->log);

    ngx_shmtx_lock(&shpool->mutex);

    w = (ngx_http_cli_gateway_ledger_worker_t *)
            ngx_slab_alloc_locked(shpool,
                                  sizeof(ngx_http_cli_gateway_ledger_worker_t));
    if (w) {
        ngx_queue_init(&w->runs);
        w->pid = ngx_pid;
        w->running = 0;
        ngx_queue_insert_tail(&ledger->workers, &w->queue);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (w == NULL) {
        /* no run can be recorded: every one is refused, none unknown */
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                      "cli_gateway: the ledger is full, worker %P refuses "
                      "every run", ngx_pid);
    }

    gmcf->worker = w;

    gmcf->sweep_ev.handler = ngx_http_cli_gateway_sweep_handler;
    gmcf->sweep_ev.data = gmcf;
    gmcf->sweep_ev.log = cycle->log;
    gmcf->sweep_ev.cancelable = 1;

    ngx_add_timer(&gmcf->sweep_ev, NGX_HTTP_CLI_GATEWAY_SWEEP_INTERVAL);

    return NGX_OK;
}


/* exit_process, after every run of the worker has ended */

void
ngx_http_cli_gateway_leave_ledger(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_slab_pool_t                       *shpool;
    ngx_http_cli_gateway_ledger_worker_t  *w = gmcf->worker;

    if (w == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    while (!ngx_queue_empty(&w->runs)) {
        ngx_queue_t *q = ngx_queue_head(&w->runs);
        ngx_queue_remove(q);
        ngx_slab_free_locked(shpool, q);
    }

    ngx_queue_remove(&w->queue);
    ngx_slab_free_locked(shpool, w);

    ngx_shmtx_unlock(&shpool->mutex);

    gmcf->worker = NULL;
}


static void
ngx_http_cli_gateway_sweep_handler(ngx_event_t *ev)
{
    ngx_http_cli_gateway_main_conf_t *gmcf =
        (ngx_http_cli_gateway_main_conf_t *) ev->data;

    ngx_msec_t                      now, last;
    ngx_http_cli_gateway_ledger_t  *ledger;

    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    /* one worker of the machine sweeps per interval; CLOCK_MONOTONIC's
     * milliseconds are the same in every worker */
    now = ngx_current_msec;
    last = ledger->swept_at;

    if ((ngx_msec_int_t) (now - last) >= NGX_HTTP_CLI_GATEWAY_SWEEP_INTERVAL
        && ngx_atomic_cmp_set(&ledger->swept_at, last, now))
    {
        ngx_http_cli_gateway_sweep(gmcf, ev->log);
    }

    ngx_add_timer(ev, NGX_HTTP_CLI_GATEWAY_SWEEP_INTERVAL);
}


/* Records of workers that are gone: kill what they ran, free the record. */

static void
ngx_http_cli_gateway_sweep(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_log_t *log)
{
    ngx_queue_t                           *q, *next;
    ngx_slab_pool_t                       *shpool;
    ngx_http_cli_gateway_ledger_t         *ledger;
    ngx_http_cli_gateway_ledger_entry_t   *e;
    ngx_http_cli_gateway_ledger_worker_t  *w;

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_head(&ledger->workers);
         q != ngx_queue_sentinel(&ledger->workers);
         q = next)
    {
        next = ngx_queue_next(q);
        w = ngx_queue_data(q, ngx_http_cli_gateway_ledger_worker_t, queue);

        if (w->pid == ngx_pid || !ngx_http_cli_gateway_worker_gone(w->pid)) {
            continue;
        }

        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "cli_gateway: worker %P is gone with %uA programs "
                      "running, stopping them", w->pid, w->running);

        while (!ngx_queue_empty(&w->runs)) {
            e = ngx_queue_data(ngx_queue_head(&w->runs),
                               ngx_http_cli_gateway_ledger_entry_t, queue);
            ngx_queue_remove(&e->queue);
            ngx_http_cli_gateway_kill_entry(shpool, ledger, e, w->pid, log);
        }

        ngx_queue_remove(&w->queue);
        ngx_slab_free_locked(shpool, w);
    }

    ngx_http_cli_gateway_retry_leftovers(shpool, ledger, log);

    ngx_shmtx_unlock(&shpool->mutex);
}


/* A dead worker's run: its group killed; its cgroup, if any, goes to the
 * leftovers, which the same sweep then kills and removes. */

static void
ngx_http_cli_gateway_kill_entry(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger,
    ngx_http_cli_gateway_ledger_entry_t *e, ngx_pid_t worker, ngx_log_t *log)
{
    if (e->pgid) {
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "cli_gateway: worker %P is gone, killing the process "
                      "group %P it left", worker, e->pgid);
        kill(-e->pgid, SIGKILL);
    }

    if (e->cgroup_len == 0) {
        ngx_slab_free_locked(shpool, e);
        return;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "cli_gateway: worker %P is gone, killing the cgroup \"%s\" "
                  "it left", worker, e->cgroup);

    ngx_queue_insert_tail(&ledger->leftovers, &e->queue);
}


/* Cgroups of runs that are over: killed, and removed once empty. */

static void
ngx_http_cli_gateway_retry_leftovers(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger, ngx_log_t *log)
{
    ngx_queue_t                          *q, *next;
    ngx_http_cli_gateway_ledger_entry_t  *e;

    for (q = ngx_queue_head(&ledger->leftovers);
         q != ngx_queue_sentinel(&ledger->leftovers);
         q = next)
    {
        next = ngx_queue_next(q);
        e = ngx_queue_data(q, ngx_http_cli_gateway_ledger_entry_t, queue);

        try {
            std::string dir((char *) e->cgroup, e->cgroup_len);

            cligw::kill_cgroup(dir);

            if (cligw::remove_cgroup(dir) != 0) {
                continue;
            }

        } catch (const std::exception &) {
            continue;
        }

        ngx_log_debug1(NGX_LOG_DEBUG_HTTP, log, 0,
                       "cli_gateway: removed the cgroup \"%s\" left behind",
                       e->cgroup);

        ngx_queue_remove(q);
        ngx_slab_free_locked(shpool, e);
    }
}


/*
 * Takes one count; NGX_DECLINED when cli_gateway_max_running is reached.
 * Counting first and checking after means two workers racing may both
 * refuse, but the limit is never exceeded.
 */

ngx_int_t
ngx_http_cli_gateway_take_running(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_log_t *log)
{
    ngx_uint_t                             total;
    ngx_queue_t                           *q;
    ngx_slab_pool_t                       *shpool;
    ngx_http_cli_gateway_ledger_t         *ledger;
    ngx_http_cli_gateway_ledger_worker_t  *w;

    if (gmcf->worker == NULL) {
        return NGX_OK;
    }

    ngx_atomic_fetch_add(&gmcf->worker->running, 1);

    if (gmcf->max_running == NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    total = 0;

    ngx_shmtx_lock(&shpool->mutex);

    for (q = ngx_queue_head(&ledger->workers);
         q != ngx_queue_sentinel(&ledger->workers);
         q = ngx_queue_next(q))
    {
        w = ngx_queue_data(q, ngx_http_cli_gateway_ledger_worker_t, queue);
        total += w->running;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    if (total > gmcf->max_running) {
        ngx_atomic_fetch_add(&gmcf->worker->running, -1);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_cli_gateway_give_running(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    if (gmcf->worker && gmcf->worker->running > 0) {
        ngx_atomic_fetch_add(&gmcf->worker->running, -1);
    }
}


/*
 * A run's entry, taken before its program starts: NULL when the ledger
 * has no room (or this worker no record), and the run must be refused.
 */

ngx_http_cli_gateway_ledger_entry_t *
ngx_http_cli_gateway_enter_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    const ngx_str_t *cgroup, ngx_log_t *log)
{
    ngx_slab_pool_t                      *shpool;
    ngx_http_cli_gateway_ledger_entry_t  *e;

    if (gmcf->worker == NULL) {
        return NULL;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);

    e = (ngx_http_cli_gateway_ledger_entry_t *)
            ngx_slab_alloc_locked(shpool,
                sizeof(ngx_http_cli_gateway_ledger_entry_t) + cgroup->len);
    if (e) {
        e->pgid = 0;
        e->cgroup_len = cgroup->len;
        ngx_memcpy(e->cgroup, cgroup->data, cgroup->len);
        e->cgroup[cgroup->len] = '\0';
        ngx_queue_insert_tail(&gmcf->worker->runs, &e->queue);
    }

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, log, 0,
                   "cli_gateway: ledger entry %p, cgroup \"%V\"", e, cgroup);

    return e;
}


void
ngx_http_cli_gateway_ledger_set_group(ngx_http_cli_gateway_ledger_entry_t *e,
    ngx_pid_t pgid)
{
    e->pgid = pgid;
}


/* The run is over: its group was killed or ended, its cgroup removed. */

void
ngx_http_cli_gateway_leave_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e)
{
    ngx_slab_pool_t  *shpool;

    if (e == NULL || gmcf->worker == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;

    ngx_shmtx_lock(&shpool->mutex);
    ngx_queue_remove(&e->queue);
    ngx_slab_free_locked(shpool, e);
    ngx_shmtx_unlock(&shpool->mutex);
}


/* The worker exits with the run's cgroup not removed: the sweep retries. */

void
ngx_http_cli_gateway_abandon_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_cli_gateway_ledger_t  *ledger;

    if (e == NULL || gmcf->worker == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    ngx_shmtx_lock(&shpool->mutex);
    ngx_queue_remove(&e->queue);
    ngx_queue_insert_tail(&ledger->leftovers, &e->queue);
    ngx_shmtx_unlock(&shpool->mutex);
}


/*
 * A worker's pid that no longer answers, or answers for another user's
 * process (the pid was reused): the worker is gone. Workers share a user,
 * so a live one always answers its peers.
 */

static ngx_flag_t
ngx_http_cli_gateway_worker_gone(ngx_pid_t pid)
{
    return kill(pid, 0) == -1 && (ngx_errno == NGX_ESRCH
                                  || ngx_errno == NGX_EPERM);
}
