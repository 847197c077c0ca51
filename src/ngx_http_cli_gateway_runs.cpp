/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * cli_gateway_runs_zone and cli_gateway_runs: the zone of runs, its
 * records, and their life (see ngx_http_cli_gateway_runs.h).
 *
 * A record is allocated with the run, before its program starts; with it a
 * ring for the log, which grows with the output up to "replay" and is cut
 * to what it holds when the run ends. A finished record stays "keep" long.
 * When the zone has no room, finished records go first, oldest first; a
 * new run is refused only when running ones hold it all.
 */

#include "ngx_http_cli_gateway_runs.h"

#include <signal.h>

#include <algorithm>

#include <openssl/rand.h>

#include "cligw/error.hpp"
#include "cligw/json_writer.hpp"
#include "cligw/sse.hpp"


/* a new run's ring; it doubles as the output needs, up to replay */
#define NGX_HTTP_CLI_GATEWAY_RING_START   1024


static ngx_int_t ngx_http_cli_gateway_init_runs_zone(ngx_shm_zone_t *zone,
    void *data);
static void *ngx_http_cli_gateway_runs_alloc(
    ngx_http_cli_gateway_runs_zone_t *rz, size_t size);
static bool ngx_http_cli_gateway_runs_evict(
    ngx_http_cli_gateway_runs_zone_t *rz);
static void ngx_http_cli_gateway_runs_free(
    ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec);
static bool ngx_http_cli_gateway_runs_current(
    ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, time_t now, ngx_log_t *log);
static bool ngx_http_cli_gateway_runs_resize(
    ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, size_t size, bool evict);
static void ngx_http_cli_gateway_runs_ended(
    ngx_http_cli_gateway_run_rec_t *rec, ngx_int_t code);


static ngx_str_t  ngx_http_cli_gateway_ledger_zone_name =
    ngx_string("cli_gateway_ledger");


char *
ngx_http_cli_gateway_runs_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    u_char                            *p;
    size_t                             size;
    ssize_t                            n;
    time_t                             keep;
    ngx_str_t                         *value, name, s, node;
    ngx_uint_t                         i;
    ngx_shm_zone_t                    *shm_zone;
    ngx_http_cli_gateway_runs_zone_t  *rz;
    ngx_http_cli_gateway_main_conf_t  *gmcf;

    value = (ngx_str_t *) cf->args->elts;

    ngx_str_null(&name);
    ngx_str_null(&node);
    size = 0;
    n = 1024 * 1024;
    keep = 600;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            p = (u_char *) ngx_strchr(name.data, ':');

            if (p == NULL) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone size \"%V\"", &value[i]);
                return (char *) NGX_CONF_ERROR;
            }

            name.len = p - name.data;
            s.data = p + 1;
            s.len = value[i].data + value[i].len - s.data;

            ssize_t zs = ngx_parse_size(&s);

            if (zs == NGX_ERROR || zs < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "zone \"%V\" is too small, or its size is "
                                   "invalid: at least %uzk", &value[i],
                                   8 * ngx_pagesize / 1024);
                return (char *) NGX_CONF_ERROR;
            }

            size = zs;
            continue;
        }

        if (ngx_strncmp(value[i].data, "replay=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            n = ngx_parse_size(&s);

            if (n == NGX_ERROR || n < 4096) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", at least 4k", &value[i]);
                return (char *) NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "keep=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;
            keep = ngx_parse_time(&s, 1);

            if (keep == (time_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return (char *) NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "node=", 5) == 0) {
            node.data = value[i].data + 5;
            node.len = value[i].len - 5;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return (char *) NGX_CONF_ERROR;
    }

    if (name.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return (char *) NGX_CONF_ERROR;
    }

    if (name.len == ngx_http_cli_gateway_ledger_zone_name.len
        && ngx_strncmp(name.data, ngx_http_cli_gateway_ledger_zone_name.data,
                       name.len) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone name \"%V\" is the module's own", &name);
        return (char *) NGX_CONF_ERROR;
    }

    if (node.data == NULL) {
        node = cf->cycle->hostname;
    }

    if (node.len == 0 || node.len > NGX_HTTP_CLI_GATEWAY_NODE_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "node name \"%V\" must have 1 to %d characters",
                           &node, NGX_HTTP_CLI_GATEWAY_NODE_MAX);
        return (char *) NGX_CONF_ERROR;
    }

    for (i = 0; i < node.len; i++) {
        u_char c = node.data[i];

        if (!(isalnum(c) || c == '.' || c == '_' || c == '-')) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "node name \"%V\" may have letters, digits, "
                               "\".\", \"_\" and \"-\" only", &node);
            return (char *) NGX_CONF_ERROR;
        }
    }

    rz = (ngx_http_cli_gateway_runs_zone_t *)
             ngx_pcalloc(cf->pool, sizeof(ngx_http_cli_gateway_runs_zone_t));
    if (rz == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    rz->replay = n;
    rz->keep = keep;
    rz->node = node;

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_cli_gateway_module);
    if (shm_zone == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate zone \"%V\"", &name);
        return (char *) NGX_CONF_ERROR;
    }

    rz->shm_zone = shm_zone;
    shm_zone->init = ngx_http_cli_gateway_init_runs_zone;
    shm_zone->data = rz;

    gmcf = (ngx_http_cli_gateway_main_conf_t *) conf;

    if (gmcf->runs_zones == NULL) {
        gmcf->runs_zones = ngx_array_create(cf->pool, 2,
                               sizeof(ngx_http_cli_gateway_runs_zone_t *));
        if (gmcf->runs_zones == NULL) {
            return (char *) NGX_CONF_ERROR;
        }
    }

    ngx_http_cli_gateway_runs_zone_t **slot =
        (ngx_http_cli_gateway_runs_zone_t **) ngx_array_push(gmcf->runs_zones);
    if (slot == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    *slot = rz;

    return NGX_CONF_OK;
}


char *
ngx_http_cli_gateway_runs(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_str_t                 *value, s;
    ngx_uint_t                 i;
    ngx_http_core_loc_conf_t  *clcf;

    if (glcf->runs != NGX_CONF_UNSET_PTR) {
        return (char *) "is duplicate";
    }

    clcf = (ngx_http_core_loc_conf_t *)
               ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->exact_match || clcf->named
#if (NGX_PCRE)
        || clcf->regex
#endif
       )
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_runs\" needs a prefix location: "
                           "its runs are under \"%V/runs\"", &clcf->name);
        return (char *) NGX_CONF_ERROR;
    }

    value = (ngx_str_t *) cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        glcf->runs = NULL;
        return NGX_CONF_OK;
    }

    glcf->runs = ngx_shared_memory_add(cf, &value[1], 0,
                                       &ngx_http_cli_gateway_module);
    if (glcf->runs == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "detach=", 7) == 0) {
            s.data = value[i].data + 7;
            s.len = value[i].len - 7;
            glcf->detach = ngx_parse_time(&s, 0);

            if (glcf->detach == (ngx_msec_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\"", &value[i]);
                return (char *) NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return (char *) NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* A reload keeps the records: new workers see the old ones' runs. */

static ngx_int_t
ngx_http_cli_gateway_init_runs_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_http_cli_gateway_runs_zone_t  *old =
        (ngx_http_cli_gateway_runs_zone_t *) data;
    ngx_http_cli_gateway_runs_zone_t  *rz =
        (ngx_http_cli_gateway_runs_zone_t *) zone->data;

    size_t            len;
    ngx_slab_pool_t  *shpool;

    if (old) {
        rz->sh = old->sh;
        rz->shpool = old->shpool;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;
    rz->shpool = shpool;

    if (zone->shm.exists) {
        rz->sh = (ngx_http_cli_gateway_runs_sh_t *) shpool->data;
        return NGX_OK;
    }

    rz->sh = (ngx_http_cli_gateway_runs_sh_t *)
                 ngx_slab_alloc(shpool, sizeof(ngx_http_cli_gateway_runs_sh_t));
    if (rz->sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = rz->sh;

    ngx_rbtree_init(&rz->sh->rbtree, &rz->sh->sentinel,
                    ngx_str_rbtree_insert_value);
    ngx_queue_init(&rz->sh->queue);

    len = sizeof(" in cli_gateway_runs_zone \"\"") + zone->shm.name.len;

    shpool->log_ctx = (u_char *) ngx_slab_alloc(shpool, len);
    if (shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(shpool->log_ctx, " in cli_gateway_runs_zone \"%V\"%Z",
                &zone->shm.name);

    /* a full zone is expected: finished runs make room, or 503 says so */
    shpool->log_nomem = 0;

    return NGX_OK;
}


/* Runs of every zone going on without a client now, for the metrics. */

ngx_uint_t
ngx_http_cli_gateway_runs_detached(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                          i, n;
    ngx_queue_t                        *q;
    ngx_http_cli_gateway_run_rec_t     *rec;
    ngx_http_cli_gateway_runs_zone_t  **zones, *rz;

    if (gmcf->runs_zones == NULL) {
        return 0;
    }

    n = 0;
    zones = (ngx_http_cli_gateway_runs_zone_t **) gmcf->runs_zones->elts;

    for (i = 0; i < gmcf->runs_zones->nelts; i++) {
        rz = zones[i];

        ngx_shmtx_lock(&rz->shpool->mutex);

        /* a dead worker's run is not detached: it ended */
        ngx_http_cli_gateway_runs_expire(rz, ngx_cycle->log);

        for (q = ngx_queue_head(&rz->sh->queue);
             q != ngx_queue_sentinel(&rz->sh->queue);
             q = ngx_queue_next(q))
        {
            rec = ngx_queue_data(q, ngx_http_cli_gateway_run_rec_t, queue);

            if (ngx_http_cli_gateway_runs_state(rec)[0] == 'd') {
                n++;
            }
        }

        ngx_shmtx_unlock(&rz->shpool->mutex);
    }

    return n;
}


/* running, detached or exited; with the mutex */

const char *
ngx_http_cli_gateway_runs_state(ngx_http_cli_gateway_run_rec_t *rec)
{
    return rec->exited ? "exited"
           : rec->client
             || ngx_current_msec - rec->reader_seen
                < NGX_HTTP_CLI_GATEWAY_READER_TTL
             ? "running" : "detached";
}


ngx_http_cli_gateway_runs_zone_t *
ngx_http_cli_gateway_runs_conf(ngx_shm_zone_t *zone)
{
    return (ngx_http_cli_gateway_runs_zone_t *) zone->data;
}


ngx_http_cli_gateway_run_rec_t *
ngx_http_cli_gateway_runs_create(ngx_shm_zone_t *zone, ngx_str_t *user,
    std::string_view args_json, time_t timeout, ngx_log_t *log)
{
    u_char                            *p, random[8];
    size_t                             id_len, ring_size;
    ngx_http_cli_gateway_run_rec_t    *rec;
    ngx_http_cli_gateway_runs_zone_t  *rz;

    rz = ngx_http_cli_gateway_runs_conf(zone);

    if (RAND_bytes(random, sizeof(random)) != 1) {
        ngx_log_error(NGX_LOG_ALERT, log, 0,
                      "cli_gateway: RAND_bytes() failed for a run id");
        return NULL;
    }

    id_len = rz->node.len + 1 + 2 * sizeof(random);
    ring_size = ngx_min(rz->replay, NGX_HTTP_CLI_GATEWAY_RING_START);

    ngx_shmtx_lock(&rz->shpool->mutex);

    ngx_http_cli_gateway_runs_expire(rz, log);

    rec = (ngx_http_cli_gateway_run_rec_t *)
              ngx_http_cli_gateway_runs_alloc(rz,
                  sizeof(ngx_http_cli_gateway_run_rec_t) + id_len + user->len
                  + args_json.size());

    u_char *ring = rec ? (u_char *) ngx_http_cli_gateway_runs_alloc(rz,
                                                                ring_size)
                       : NULL;

    if (ring == NULL) {
        if (rec) {
            ngx_slab_free_locked(rz->shpool, rec);
        }

        ngx_shmtx_unlock(&rz->shpool->mutex);
        return NULL;
    }

    ngx_memzero(rec, sizeof(ngx_http_cli_gateway_run_rec_t));

    p = rec->data;
    rec->sn.str.data = p;
    rec->sn.str.len = id_len;
    p = ngx_cpymem(p, rz->node.data, rz->node.len);
    *p++ = '-';
    p = ngx_hex_dump(p, random, sizeof(random));

    rec->user.data = p;
    rec->user.len = user->len;
    p = ngx_cpymem(p, user->data, user->len);

    rec->args.data = p;
    rec->args.len = args_json.size();
    ngx_memcpy(p, args_json.data(), args_json.size());

    rec->ring = { (char *) ring, ring_size, 0, 0, 0 };
    rec->replay = rz->replay;
    rec->worker = ngx_pid;
    rec->pid = -1;
    rec->started_at = ngx_time();
    rec->timeout = timeout;
    rec->exit_code = -1;
    rec->client = 1;

    rec->sn.node.key = ngx_crc32_short(rec->sn.str.data, rec->sn.str.len);
    ngx_rbtree_insert(&rz->sh->rbtree, &rec->sn.node);
    ngx_queue_insert_tail(&rz->sh->queue, &rec->queue);

    ngx_shmtx_unlock(&rz->shpool->mutex);

    return rec;
}


void
ngx_http_cli_gateway_runs_started(ngx_shm_zone_t *zone,
    ngx_http_cli_gateway_run_rec_t *rec, ngx_pid_t pid)
{
    ngx_http_cli_gateway_runs_zone_t  *rz = ngx_http_cli_gateway_runs_conf(zone);

    ngx_shmtx_lock(&rz->shpool->mutex);
    rec->pid = pid;
    ngx_shmtx_unlock(&rz->shpool->mutex);
}


std::string_view
ngx_http_cli_gateway_runs_id(ngx_http_cli_gateway_run_rec_t *rec)
{
    return std::string_view((char *) rec->sn.str.data, rec->sn.str.len);
}


/* Slab memory, making room from finished runs when there is none. */

static void *
ngx_http_cli_gateway_runs_alloc(ngx_http_cli_gateway_runs_zone_t *rz,
    size_t size)
{
    void  *p;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(rz->shpool, size);

        if (p || !ngx_http_cli_gateway_runs_evict(rz)) {
            return p;
        }
    }
}


/* The finished run kept longest goes; false if none is finished. */

static bool
ngx_http_cli_gateway_runs_evict(ngx_http_cli_gateway_runs_zone_t *rz)
{
    ngx_queue_t                     *q;
    ngx_http_cli_gateway_run_rec_t  *rec;

    for (q = ngx_queue_head(&rz->sh->queue);
         q != ngx_queue_sentinel(&rz->sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_cli_gateway_run_rec_t, queue);

        if (rec->exited) {
            ngx_http_cli_gateway_runs_free(rz, rec);
            return true;
        }
    }

    return false;
}


static void
ngx_http_cli_gateway_runs_free(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec)
{
    ngx_rbtree_delete(&rz->sh->rbtree, &rec->sn.node);
    ngx_queue_remove(&rec->queue);
    ngx_slab_free_locked(rz->shpool, rec->ring.data);
    ngx_slab_free_locked(rz->shpool, rec);
}


void
ngx_http_cli_gateway_runs_expire(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_log_t *log)
{
    time_t                           now;
    ngx_queue_t                     *q, *next;
    ngx_http_cli_gateway_run_rec_t  *rec;

    now = ngx_time();

    for (q = ngx_queue_head(&rz->sh->queue);
         q != ngx_queue_sentinel(&rz->sh->queue);
         q = next)
    {
        next = ngx_queue_next(q);
        rec = ngx_queue_data(q, ngx_http_cli_gateway_run_rec_t, queue);

        (void) ngx_http_cli_gateway_runs_current(rz, rec, now, log);
    }
}


/*
 * With the mutex: false, and the record freed, for a finished run past
 * keep; a run whose worker died is ended, its log too.
 */

static bool
ngx_http_cli_gateway_runs_current(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, time_t now, ngx_log_t *log)
{
    if (!rec->exited) {
        (void) ngx_http_cli_gateway_runs_orphaned(rec, log);
        return true;
    }

    if (now - rec->ended_at >= rz->keep) {
        ngx_http_cli_gateway_runs_free(rz, rec);
        return false;
    }

    return true;
}


namespace {

/* the ring as an Out of the SSE encoder */
struct RingOut {
    cligw::ReplayRing  &ring;

    void append(const char *p, std::size_t n)
    {
        cligw::ring_write(ring, p, n);
    }
};

} // namespace


/*
 * With the mutex: a run whose worker died (the ledger stops its program)
 * ends here, its log with it, for the streams still reading it.
 */

bool
ngx_http_cli_gateway_runs_orphaned(ngx_http_cli_gateway_run_rec_t *rec,
    ngx_log_t *log)
{
    /* the ledger's test: a pid reused by another user's process counts */
    if (rec->exited || rec->worker == ngx_pid
        || !ngx_http_cli_gateway_worker_gone(rec->worker))
    {
        return false;
    }

    ngx_log_error(NGX_LOG_WARN, log, 0,
                  "cli_gateway: run %V ended with its worker %P",
                  &rec->sn.str, rec->worker);

    /* no writer is left: ours are the log's next bytes, after the last
     * it published (it may have died in the middle of a copy) */
    cligw::ring_abandon(rec->ring);

    RingOut out = { rec->ring };
    cligw::EventIds<RingOut> ids(out, rec->ring.writing);

    cligw::sse_append_error(ids, "nginx worker exited");
    cligw::sse_append_exit_code(ids, -1);
    cligw::ring_publish(rec->ring);

    ngx_http_cli_gateway_runs_ended(rec, -1);

    return true;
}


ngx_http_cli_gateway_run_rec_t *
ngx_http_cli_gateway_runs_find(ngx_http_cli_gateway_runs_zone_t *rz,
    std::string_view id)
{
    ngx_str_t  name = { id.size(), (u_char *) id.data() };

    return (ngx_http_cli_gateway_run_rec_t *)
               ngx_str_rbtree_lookup(&rz->sh->rbtree, &name,
                                     ngx_crc32_short(name.data, name.len));
}


/*
 * With the mutex: the record of id as the API shows it. A finished one
 * past keep goes now, and one whose worker died ends now, whether or not
 * a list or a new run came first.
 */

ngx_http_cli_gateway_run_rec_t *
ngx_http_cli_gateway_runs_lookup(ngx_http_cli_gateway_runs_zone_t *rz,
    std::string_view id, ngx_log_t *log)
{
    ngx_http_cli_gateway_run_rec_t  *rec;

    rec = ngx_http_cli_gateway_runs_find(rz, id);

    if (rec && !ngx_http_cli_gateway_runs_current(rz, rec, ngx_time(), log)) {
        return NULL;
    }

    return rec;
}


bool
ngx_http_cli_gateway_runs_owned(ngx_http_cli_gateway_run_rec_t *rec,
    ngx_str_t *user)
{
    return rec->user.len == user->len
           && ngx_memcmp(rec->user.data, user->data, user->len) == 0;
}


void
ngx_http_cli_gateway_runs_grow(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, size_t n)
{
    size_t  size;

    if (rec->ring.writing + n <= rec->ring.size
        || rec->ring.size >= rec->replay)
    {
        return;
    }

    size = ngx_max(2 * rec->ring.size, rec->ring.writing + n);
    size = ngx_min(ngx_align(size, ngx_pagesize), rec->replay);

    ngx_http_cli_gateway_runs_lock lock(rz);

    /* finished runs make room first; then as much as the zone has left */
    for (bool evict = true; ; evict = false) {

        if (ngx_http_cli_gateway_runs_resize(rz, rec, size, evict)) {
            return;
        }

        size_t smaller = ngx_align(size / 2, ngx_pagesize);

        if (smaller >= size || smaller <= rec->ring.size) {
            break;
        }

        size = smaller;
    }

    /* once per run: it does not try again */
    ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                  "cli_gateway: the zone \"%V\" of cli_gateway_runs is "
                  "full: run %V keeps the last %uz bytes of its log for "
                  "replay, not %uz", &rz->shm_zone->shm.name, &rec->sn.str,
                  rec->ring.size, rec->replay);

    /* the oldest output is overwritten sooner: a reattach says so */
    rec->replay = rec->ring.size;
}


/*
 * With the mutex: no reader copies from the ring meanwhile. Only a record
 * that is not finished may make room from finished ones: it cannot be one.
 */

static bool
ngx_http_cli_gateway_runs_resize(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, size_t size, bool evict)
{
    char  *data, *old;

    data = (char *) (evict ? ngx_http_cli_gateway_runs_alloc(rz, size)
                           : ngx_slab_alloc_locked(rz->shpool, size));
    if (data == NULL) {
        return false;
    }

    old = rec->ring.data;
    cligw::ring_move(rec->ring, data, size);
    ngx_slab_free_locked(rz->shpool, old);

    return true;
}


void
ngx_http_cli_gateway_runs_exit(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, ngx_int_t code)
{
    cligw::ring_publish(rec->ring);

    ngx_shmtx_lock(&rz->shpool->mutex);

    /* a finished log keeps what it holds, not the room it had */
    if (rec->ring.size - std::min<uint64_t>(rec->ring.writing, rec->ring.size)
        >= ngx_pagesize)
    {
        /* no room for the smaller copy: the larger one stays */
        (void) ngx_http_cli_gateway_runs_resize(rz, rec,
                                                ngx_max(rec->ring.writing, 64),
                                                false);
    }

    ngx_http_cli_gateway_runs_ended(rec, code);

    ngx_shmtx_unlock(&rz->shpool->mutex);
}


/* With the mutex: the record says the run is over, and how. */

static void
ngx_http_cli_gateway_runs_ended(ngx_http_cli_gateway_run_rec_t *rec,
    ngx_int_t code)
{
    rec->exited = 1;
    rec->client = 0;
    rec->exit_code = code;
    rec->ended_at = ngx_time();
}


void
ngx_http_cli_gateway_runs_log(ngx_shm_zone_t *zone,
    ngx_http_cli_gateway_run_rec_t *rec, std::string_view events,
    ngx_int_t code)
{
    ngx_http_cli_gateway_runs_zone_t  *rz = ngx_http_cli_gateway_runs_conf(zone);

    ngx_http_cli_gateway_runs_grow(rz, rec, events.size());
    cligw::ring_write(rec->ring, events.data(), events.size());
    ngx_http_cli_gateway_runs_exit(rz, rec, code);
}


void
ngx_http_cli_gateway_runs_set_client(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec, bool client)
{
    ngx_shmtx_lock(&rz->shpool->mutex);
    rec->client = client ? 1 : 0;
    ngx_shmtx_unlock(&rz->shpool->mutex);
}


static void
ngx_http_cli_gateway_append_time(std::string &out, time_t t)
{
    out += '"';
    out += cligw::rfc3339_utc(t);
    out += '"';
}


std::string
ngx_http_cli_gateway_runs_json(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_http_cli_gateway_run_rec_t *rec)
{
    std::string  out;
    std::string_view id = ngx_http_cli_gateway_runs_id(rec);

    const char *state = ngx_http_cli_gateway_runs_state(rec);

    out.reserve(256 + rec->args.len + rec->user.len);

    out += "{\"run_id\":\"";
    cligw::json_append_escaped(out, id);
    out += "\",\"node\":\"";
    cligw::json_append_escaped(out, id.substr(0, id.size() - 17));
    out += "\",\"user\":\"";
    cligw::json_append_escaped(out, std::string_view((char *) rec->user.data,
                                                     rec->user.len));
    out += "\",\"args\":";
    out.append((char *) rec->args.data, rec->args.len);
    out += ",\"started_at\":";
    ngx_http_cli_gateway_append_time(out, rec->started_at);
    out += ",\"ended_at\":";

    if (rec->exited) {
        ngx_http_cli_gateway_append_time(out, rec->ended_at);
    } else {
        out += "null";
    }

    out += ",\"state\":\"";
    out += state;
    out += "\",\"exit_code\":";
    out += rec->exited ? std::to_string(rec->exit_code) : "null";
    out += ",\"pid\":";
    out += rec->pid > 0 ? std::to_string(rec->pid) : "null";
    out += ",\"timeout_secs\":" + std::to_string(rec->timeout);
    out += ",\"output_bytes\":" + std::to_string(rec->output_bytes);
    out += ",\"events_bytes\":"
           + std::to_string(__atomic_load_n(&rec->ring.head,
                                            __ATOMIC_ACQUIRE));
    out += "}";

    return out;
}


std::string
ngx_http_cli_gateway_runs_list(ngx_http_cli_gateway_runs_zone_t *rz,
    ngx_str_t *user)
{
    std::string                      out = "[";
    ngx_queue_t                     *q;
    ngx_http_cli_gateway_run_rec_t  *rec;
    ngx_http_cli_gateway_runs_lock   lock(rz);

    ngx_http_cli_gateway_runs_expire(rz, ngx_cycle->log);

    for (q = ngx_queue_head(&rz->sh->queue);
         q != ngx_queue_sentinel(&rz->sh->queue);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_cli_gateway_run_rec_t, queue);

        if (ngx_http_cli_gateway_runs_owned(rec, user)) {
            if (out.size() > 1) {
                out += ',';
            }
            out += ngx_http_cli_gateway_runs_json(rz, rec);
        }
    }

    out += ']';

    return out;
}
