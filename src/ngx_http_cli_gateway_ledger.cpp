/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The ledger: what every worker has running, in shared memory.
 *
 * Each worker, of whatever generation, has a record there: its pid, its
 * count of running programs (for cli_gateway_max_running) and an entry per
 * run with the run's process group, cgroup and key. The keys of the keyed
 * cli_gateway_max_running are counted in a tree of their own, a node per
 * key that has programs running; each run's entry points to its key's
 * node, so a dead worker's runs are uncounted with its record. The
 * metrics' counters live here too (ngx_http_cli_gateway_metrics.cpp). A
 * run is entered before its program starts and refused (503) when the zone
 * is full, so no program is unknown to the ledger. A worker that dies
 * (SIGKILL, the OOM killer, a crash) can release nothing, and posix_spawn
 * cannot give its children a parent-death signal; so every worker sweeps
 * the ledger at start and once a second: the groups and cgroups of a
 * worker that is gone are killed, and its record freed. That also covers
 * the old workers of a reload, which no new worker replaces.
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

/* the zone's layout; a reload keeps the zone, so a module of another
 * layout must not read it (the first word of the first layout is a
 * pointer, never a small number) */
#define NGX_HTTP_CLI_GATEWAY_LEDGER_LAYOUT   3


struct ngx_http_cli_gateway_ledger_worker_s {
    ngx_queue_t                   queue;      /* in the ledger's workers */
    ngx_queue_t                   runs;       /* of ledger entries */
    ngx_pid_t                     pid;
    ngx_atomic_t                  running;    /* programs not reaped yet */
};


/* a key of the keyed cli_gateway_max_running with programs running */
typedef struct {
    ngx_str_node_t                sn;         /* sn.str: data, below */
    ngx_uint_t                    running;
    u_char                        data[1];
} ngx_http_cli_gateway_ledger_key_t;


struct ngx_http_cli_gateway_ledger_entry_s {
    ngx_queue_t                   queue;
    ngx_pid_t                     pgid;       /* 0 until the spawn */
    ngx_http_cli_gateway_ledger_key_t *key;   /* NULL: none, or given back */
    ngx_flag_t                    running;    /* counted until reaped */
    size_t                        cgroup_len; /* 0: no cgroup */
    u_char                        cgroup[1];  /* NUL-terminated */
};


typedef struct {
    ngx_uint_t                    layout;
    ngx_queue_t                   workers;
    ngx_queue_t                   leftovers;  /* cgroups not removed yet */
    ngx_atomic_t                  swept_at;   /* ngx_current_msec */
    ngx_rbtree_t                  keys;       /* of ledger keys */
    ngx_rbtree_node_t             keys_sentinel;
    ngx_http_cli_gateway_metrics_t  metrics;
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
static ngx_int_t ngx_http_cli_gateway_take_key_locked(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger, const ngx_str_t *key,
    ngx_uint_t max, ngx_http_cli_gateway_ledger_key_t **kp);
static void ngx_http_cli_gateway_give_key_locked(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger,
    ngx_http_cli_gateway_ledger_key_t **kp);


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


/*
 * cli_gateway_max_running N: the machine's cap, at the http level only;
 * cli_gateway_max_running N key=value: a cap per value of the key, at any
 * level, inherited like the other location settings.
 */

char *
ngx_http_cli_gateway_max_running(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_int_t                            n;
    ngx_str_t                           *value, name;
    ngx_http_cli_gateway_main_conf_t    *gmcf;
    ngx_http_cli_gateway_running_key_t  *rk;
    ngx_http_compile_complex_value_t     ccv;

    value = (ngx_str_t *) cf->args->elts;

    n = ngx_atoi(value[1].data, value[1].len);
    if (n <= 0) {
        return (char *) "needs a number of programs greater than 0";
    }

    if (cf->args->nelts == 2) {
        if (cf->cmd_type != NGX_HTTP_MAIN_CONF) {
            return (char *) "without \"key=\" is only allowed at the "
                            "http level";
        }

        gmcf = (ngx_http_cli_gateway_main_conf_t *)
                   ngx_http_conf_get_module_main_conf(cf,
                       ngx_http_cli_gateway_module);

        if (gmcf->max_running != NGX_CONF_UNSET_UINT) {
            return (char *) "is duplicate";
        }

        gmcf->max_running = n;

        return NGX_CONF_OK;
    }

    if (value[2].len < 4
        || ngx_strncmp(value[2].data, "key=", 4) != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_max_running\": invalid parameter "
                           "\"%V\", expected \"key=\"", &value[2]);
        return (char *) NGX_CONF_ERROR;
    }

    if (glcf->running_key != NGX_CONF_UNSET_PTR) {
        return (char *) "with \"key=\" is duplicate";
    }

    rk = (ngx_http_cli_gateway_running_key_t *)
             ngx_pcalloc(cf->pool, sizeof(ngx_http_cli_gateway_running_key_t));
    if (rk == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    name.data = value[2].data + 4;
    name.len = value[2].len - 4;

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &name;
    ccv.complex_value = &rk->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return (char *) NGX_CONF_ERROR;
    }

    /* a constant would be one key for every caller: the machine's cap */
    if (rk->value.lengths == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_max_running\" \"key=%V\" has no "
                           "variable, use e.g. key=$cli_gateway_user",
                           &name);
        return (char *) NGX_CONF_ERROR;
    }

    rk->max = n;
    rk->name = name;
    glcf->running_key = rk;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_init_ledger_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t                *shpool;
    ngx_http_cli_gateway_ledger_t  *ledger;

    if (data) {
        /* a reload: the old workers' records carry over */
        ledger = (ngx_http_cli_gateway_ledger_t *) data;

        if (ledger->layout != NGX_HTTP_CLI_GATEWAY_LEDGER_LAYOUT) {
            ngx_log_error(NGX_LOG_EMERG, zone->shm.log, 0,
                          "cli_gateway: the running nginx has the ledger of "
                          "another version of the module, restart nginx to "
                          "load this one");
            return NGX_ERROR;
        }

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

    ledger->layout = NGX_HTTP_CLI_GATEWAY_LEDGER_LAYOUT;
    ngx_queue_init(&ledger->workers);
    ngx_queue_init(&ledger->leftovers);
    ngx_rbtree_init(&ledger->keys, &ledger->keys_sentinel,
                    ngx_str_rbtree_insert_value);

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
    ngx_http_cli_gateway_ledger_t         *ledger;
    ngx_http_cli_gateway_ledger_entry_t   *e;
    ngx_http_cli_gateway_ledger_worker_t  *w = gmcf->worker;

    if (w == NULL) {
        return;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    ngx_shmtx_lock(&shpool->mutex);

    while (!ngx_queue_empty(&w->runs)) {
        e = ngx_queue_data(ngx_queue_head(&w->runs),
                           ngx_http_cli_gateway_ledger_entry_t, queue);
        ngx_queue_remove(&e->queue);
        ngx_http_cli_gateway_give_key_locked(shpool, ledger, &e->key);
        ngx_slab_free_locked(shpool, e);
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

            if (e->pgid && e->running) {
                ngx_http_cli_gateway_metric_exit(gmcf,
                    NGX_HTTP_CLI_GATEWAY_EXIT_WORKER_EXIT);
            }

            ngx_http_cli_gateway_give_key_locked(shpool, ledger, &e->key);
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
    if (gmcf->worker == NULL) {
        return NGX_OK;
    }

    ngx_atomic_fetch_add(&gmcf->worker->running, 1);

    if (gmcf->max_running == NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    if (ngx_http_cli_gateway_running(gmcf) > gmcf->max_running) {
        ngx_atomic_fetch_add(&gmcf->worker->running, -1);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* The run's program is reaped (or never ran): its counts go back. */

void
ngx_http_cli_gateway_give_running(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_http_cli_gateway_ledger_entry_t *e)
{
    ngx_slab_pool_t  *shpool;

    if (gmcf->worker && gmcf->worker->running > 0) {
        ngx_atomic_fetch_add(&gmcf->worker->running, -1);
    }

    if (e == NULL) {
        return;
    }

    e->running = 0;

    if (e->key) {
        shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;

        ngx_shmtx_lock(&shpool->mutex);
        ngx_http_cli_gateway_give_key_locked(shpool,
            (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data, &e->key);
        ngx_shmtx_unlock(&shpool->mutex);
    }
}


/* Programs running now in all workers, the old ones of reloads included. */

ngx_uint_t
ngx_http_cli_gateway_running(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                             total;
    ngx_queue_t                           *q;
    ngx_slab_pool_t                       *shpool;
    ngx_http_cli_gateway_ledger_t         *ledger;
    ngx_http_cli_gateway_ledger_worker_t  *w;

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

    return total;
}


/*
 * A run's entry, taken before its program starts, with a count of its key
 * when it has one (key: the key's name, NUL, its value). NGX_OK; NGX_BUSY
 * when the key has key_max programs running; NGX_DECLINED when the ledger
 * has no room (or this worker no record), and the run must be refused.
 */

ngx_int_t
ngx_http_cli_gateway_enter_run(ngx_http_cli_gateway_main_conf_t *gmcf,
    const ngx_str_t *cgroup, const ngx_str_t *key, ngx_uint_t key_max,
    ngx_http_cli_gateway_ledger_entry_t **entry, ngx_log_t *log)
{
    ngx_int_t                             rc;
    ngx_slab_pool_t                      *shpool;
    ngx_http_cli_gateway_ledger_t        *ledger;
    ngx_http_cli_gateway_ledger_key_t    *k;
    ngx_http_cli_gateway_ledger_entry_t  *e;

    *entry = NULL;

    if (gmcf->worker == NULL) {
        return NGX_DECLINED;
    }

    shpool = (ngx_slab_pool_t *) gmcf->zone->shm.addr;
    ledger = (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data;

    e = NULL;
    k = NULL;
    rc = NGX_OK;

    ngx_shmtx_lock(&shpool->mutex);

    if (key->len) {
        rc = ngx_http_cli_gateway_take_key_locked(shpool, ledger, key,
                                                  key_max, &k);
    }

    if (rc == NGX_OK) {
        e = (ngx_http_cli_gateway_ledger_entry_t *)
                ngx_slab_alloc_locked(shpool,
                    sizeof(ngx_http_cli_gateway_ledger_entry_t) + cgroup->len);

        if (e) {
            e->pgid = 0;
            e->key = k;
            e->running = 1;
            e->cgroup_len = cgroup->len;
            ngx_memcpy(e->cgroup, cgroup->data, cgroup->len);
            e->cgroup[cgroup->len] = '\0';
            ngx_queue_insert_tail(&gmcf->worker->runs, &e->queue);

        } else {
            ngx_http_cli_gateway_give_key_locked(shpool, ledger, &k);
            rc = NGX_DECLINED;
        }
    }

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug3(NGX_LOG_DEBUG_HTTP, log, 0,
                   "cli_gateway: ledger entry %p, cgroup \"%V\", key %p",
                   e, cgroup, k);

    *entry = e;

    return rc;
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
    ngx_http_cli_gateway_give_key_locked(shpool,
        (ngx_http_cli_gateway_ledger_t *) gmcf->zone->data, &e->key);
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
    ngx_http_cli_gateway_give_key_locked(shpool, ledger, &e->key);
    ngx_queue_insert_tail(&ledger->leftovers, &e->queue);
    ngx_shmtx_unlock(&shpool->mutex);
}


/* A count of the key: its node is made on its first program. */

static ngx_int_t
ngx_http_cli_gateway_take_key_locked(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger, const ngx_str_t *key,
    ngx_uint_t max, ngx_http_cli_gateway_ledger_key_t **kp)
{
    uint32_t                            hash;
    ngx_http_cli_gateway_ledger_key_t  *k;

    hash = ngx_crc32_short(key->data, key->len);

    k = (ngx_http_cli_gateway_ledger_key_t *)
            ngx_str_rbtree_lookup(&ledger->keys, (ngx_str_t *) key, hash);

    if (k == NULL) {
        k = (ngx_http_cli_gateway_ledger_key_t *)
                ngx_slab_alloc_locked(shpool,
                    offsetof(ngx_http_cli_gateway_ledger_key_t, data)
                    + key->len);
        if (k == NULL) {
            return NGX_DECLINED;
        }

        k->sn.node.key = hash;
        k->sn.str.len = key->len;
        k->sn.str.data = k->data;
        ngx_memcpy(k->data, key->data, key->len);
        k->running = 0;

        ngx_rbtree_insert(&ledger->keys, &k->sn.node);

    } else if (k->running >= max) {
        return NGX_BUSY;
    }

    k->running++;
    *kp = k;

    return NGX_OK;
}


/* A count of *kp, once (*kp is cleared); the node goes with the last. */

static void
ngx_http_cli_gateway_give_key_locked(ngx_slab_pool_t *shpool,
    ngx_http_cli_gateway_ledger_t *ledger,
    ngx_http_cli_gateway_ledger_key_t **kp)
{
    ngx_http_cli_gateway_ledger_key_t  *k = *kp;

    if (k == NULL) {
        return;
    }

    *kp = NULL;

    if (--k->running == 0) {
        ngx_rbtree_delete(&ledger->keys, &k->sn.node);
        ngx_slab_free_locked(shpool, k);
    }
}


ngx_http_cli_gateway_metrics_t *
ngx_http_cli_gateway_ledger_metrics(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    if (gmcf->zone == NULL || gmcf->zone->data == NULL) {
        return NULL;
    }

    return &((ngx_http_cli_gateway_ledger_t *) gmcf->zone->data)->metrics;
}


/*
 * A worker's pid that no longer answers, or answers for another user's
 * process (the pid was reused): the worker is gone. Workers share a user,
 * so a live one always answers its peers.
 */

ngx_flag_t
ngx_http_cli_gateway_worker_gone(ngx_pid_t pid)
{
    return kill(pid, 0) == -1 && (ngx_errno == NGX_ESRCH
                                  || ngx_errno == NGX_EPERM);
}
