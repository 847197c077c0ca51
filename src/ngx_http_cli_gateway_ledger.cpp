/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * The ledger: what every worker has running, in shared memory.
 *
 * Each worker claims a slot by pid and keeps there its count of running
 * programs (for cli_gateway_max_running) and their process groups. A worker
 * that dies (SIGKILL, a crash) can release nothing, and posix_spawn cannot
 * give its children a parent-death signal; so whoever finds a slot whose
 * pid is gone (the worker that replaces it, at the latest) kills the groups
 * recorded there and frees the slot. The count never drifts, and no program
 * outlives its worker for longer than the master takes to respawn it.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>


#define NGX_HTTP_CLI_GATEWAY_SLOTS   64
#define NGX_HTTP_CLI_GATEWAY_GROUPS  256


struct ngx_http_cli_gateway_slot_s {
    ngx_atomic_t   pid;
    ngx_atomic_t   running;
    ngx_atomic_t   groups[NGX_HTTP_CLI_GATEWAY_GROUPS];   /* 0: free */
};


typedef struct {
    ngx_http_cli_gateway_slot_t   slots[NGX_HTTP_CLI_GATEWAY_SLOTS];
} ngx_http_cli_gateway_shm_t;


static ngx_int_t ngx_http_cli_gateway_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_flag_t ngx_http_cli_gateway_pid_gone(ngx_atomic_uint_t pid);
static void ngx_http_cli_gateway_sweep(ngx_http_cli_gateway_shm_t *sh,
    ngx_log_t *log);


static ngx_str_t  ngx_http_cli_gateway_zone_name =
    ngx_string("cli_gateway_ledger");


/* from the "cli_gateway" directive: every configuration that runs programs */

ngx_int_t
ngx_http_cli_gateway_add_ledger(ngx_conf_t *cf,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    size_t  size;

    if (gmcf->zone) {
        return NGX_OK;
    }

    /* the slab allocator wants eight pages at least, and some room */
    size = ngx_align(sizeof(ngx_http_cli_gateway_shm_t), ngx_pagesize)
           + 8 * ngx_pagesize;

    gmcf->zone = ngx_shared_memory_add(cf, &ngx_http_cli_gateway_zone_name,
                                       size, &ngx_http_cli_gateway_module);
    if (gmcf->zone == NULL) {
        return NGX_ERROR;
    }

    gmcf->zone->init = ngx_http_cli_gateway_init_zone;

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
ngx_http_cli_gateway_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_cli_gateway_shm_t  *sh;

    if (data) {
        /* a reload: the old workers' slots carry over */
        zone->data = data;
        return NGX_OK;
    }

    shpool = (ngx_slab_pool_t *) zone->shm.addr;

    if (zone->shm.exists) {
        zone->data = shpool->data;
        return NGX_OK;
    }

    sh = (ngx_http_cli_gateway_shm_t *)
             ngx_slab_calloc(shpool, sizeof(ngx_http_cli_gateway_shm_t));
    if (sh == NULL) {
        return NGX_ERROR;
    }

    shpool->data = sh;
    zone->data = sh;

    return NGX_OK;
}


/* init_process: settle dead workers' slots, then claim a free one */

ngx_int_t
ngx_http_cli_gateway_claim_slot(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                    i;
    ngx_http_cli_gateway_shm_t   *sh;
    ngx_http_cli_gateway_slot_t  *slot;

    if (gmcf->zone == NULL) {
        return NGX_OK;
    }

    sh = (ngx_http_cli_gateway_shm_t *) gmcf->zone->data;

    ngx_http_cli_gateway_sweep(sh, cycle->log);

    for (i = 0; i < NGX_HTTP_CLI_GATEWAY_SLOTS; i++) {
        slot = &sh->slots[i];

        if (ngx_atomic_cmp_set(&slot->pid, 0, (ngx_atomic_uint_t) ngx_pid)) {
            slot->running = 0;
            ngx_memzero((void *) slot->groups, sizeof(slot->groups));
            gmcf->slot = slot;
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                  "cli_gateway: no free slot for worker %P in the ledger "
                  "(%d workers at most)", ngx_pid, NGX_HTTP_CLI_GATEWAY_SLOTS);

    return NGX_ERROR;
}


/* Slots of workers that are gone: kill what they ran, free the slot. */

static void
ngx_http_cli_gateway_sweep(ngx_http_cli_gateway_shm_t *sh, ngx_log_t *log)
{
    ngx_uint_t                    i, k;
    ngx_atomic_uint_t             pid, pgid;
    ngx_http_cli_gateway_slot_t  *slot;

    for (i = 0; i < NGX_HTTP_CLI_GATEWAY_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if (pid == 0 || (ngx_pid_t) pid == ngx_pid
            || !ngx_http_cli_gateway_pid_gone(pid))
        {
            continue;
        }

        for (k = 0; k < NGX_HTTP_CLI_GATEWAY_GROUPS; k++) {
            pgid = slot->groups[k];

            if (pgid && ngx_atomic_cmp_set(&slot->groups[k], pgid, 0)) {
                ngx_log_error(NGX_LOG_WARN, log, 0,
                              "cli_gateway: worker %P is gone, killing the "
                              "process group %P it left", (ngx_pid_t) pid,
                              (ngx_pid_t) pgid);
                kill(-(ngx_pid_t) pgid, SIGKILL);
            }
        }

        slot->running = 0;
        ngx_atomic_cmp_set(&slot->pid, pid, 0);
    }
}


/* exit_process, after every run of the worker has ended */

void
ngx_http_cli_gateway_release_slot(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_http_cli_gateway_slot_t  *slot = gmcf->slot;

    if (slot) {
        slot->running = 0;
        ngx_memzero((void *) slot->groups, sizeof(slot->groups));
        ngx_atomic_cmp_set(&slot->pid, (ngx_atomic_uint_t) ngx_pid, 0);
        gmcf->slot = NULL;
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
    ngx_uint_t                    i, total;
    ngx_http_cli_gateway_shm_t   *sh;

    if (gmcf->slot == NULL) {
        return NGX_OK;
    }

    ngx_atomic_fetch_add(&gmcf->slot->running, 1);

    if (gmcf->max_running == NGX_CONF_UNSET_UINT) {
        return NGX_OK;
    }

    sh = (ngx_http_cli_gateway_shm_t *) gmcf->zone->data;

    ngx_http_cli_gateway_sweep(sh, log);

    total = 0;

    for (i = 0; i < NGX_HTTP_CLI_GATEWAY_SLOTS; i++) {
        if (sh->slots[i].pid) {
            total += sh->slots[i].running;
        }
    }

    if (total > gmcf->max_running) {
        ngx_atomic_fetch_add(&gmcf->slot->running, -1);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


void
ngx_http_cli_gateway_give_running(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    if (gmcf->slot && gmcf->slot->running > 0) {
        ngx_atomic_fetch_add(&gmcf->slot->running, -1);
    }
}


/* A run's process group, for whoever finds this worker gone. */

void
ngx_http_cli_gateway_record_group(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_pid_t pgid)
{
    ngx_uint_t  k;

    if (gmcf->slot == NULL) {
        return;
    }

    for (k = 0; k < NGX_HTTP_CLI_GATEWAY_GROUPS; k++) {
        if (gmcf->slot->groups[k] == 0) {
            gmcf->slot->groups[k] = (ngx_atomic_uint_t) pgid;
            return;
        }
    }
}


void
ngx_http_cli_gateway_forget_group(ngx_http_cli_gateway_main_conf_t *gmcf,
    ngx_pid_t pgid)
{
    ngx_uint_t  k;

    if (gmcf->slot == NULL) {
        return;
    }

    for (k = 0; k < NGX_HTTP_CLI_GATEWAY_GROUPS; k++) {
        if (gmcf->slot->groups[k] == (ngx_atomic_uint_t) pgid) {
            gmcf->slot->groups[k] = 0;
            return;
        }
    }
}


static ngx_flag_t
ngx_http_cli_gateway_pid_gone(ngx_atomic_uint_t pid)
{
    return kill((ngx_pid_t) pid, 0) == -1 && ngx_errno == NGX_ESRCH;
}
