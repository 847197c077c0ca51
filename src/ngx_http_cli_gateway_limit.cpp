/*
 * cli_gateway_max_running: programs running at once across all workers.
 *
 * A shared zone holds one counter per worker process, claimed by pid. A
 * worker that dies cannot release its runs, so a slot whose pid is gone no
 * longer counts and is reclaimed: the total never drifts. A count is taken
 * before the spawn and given back once the program is reaped.
 */

#include "ngx_http_cli_gateway.h"

#include <signal.h>


#define NGX_HTTP_CLI_GATEWAY_SLOTS  512


struct ngx_http_cli_gateway_slot_s {
    ngx_atomic_t   pid;
    ngx_atomic_t   running;
};


typedef struct {
    ngx_http_cli_gateway_slot_t   slots[NGX_HTTP_CLI_GATEWAY_SLOTS];
} ngx_http_cli_gateway_shm_t;


static ngx_int_t ngx_http_cli_gateway_init_zone(ngx_shm_zone_t *zone,
    void *data);
static ngx_flag_t ngx_http_cli_gateway_pid_gone(ngx_atomic_uint_t pid);


static ngx_str_t  ngx_http_cli_gateway_zone_name =
    ngx_string("cli_gateway_max_running");


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

    /* eight pages: the least a slab-managed zone may have */
    gmcf->zone = ngx_shared_memory_add(cf, &ngx_http_cli_gateway_zone_name,
                                       8 * ngx_pagesize,
                                       &ngx_http_cli_gateway_module);
    if (gmcf->zone == NULL) {
        return (char *) NGX_CONF_ERROR;
    }

    gmcf->zone->init = ngx_http_cli_gateway_init_zone;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_cli_gateway_init_zone(ngx_shm_zone_t *zone, void *data)
{
    ngx_slab_pool_t             *shpool;
    ngx_http_cli_gateway_shm_t  *sh;

    if (data) {
        /* a reload: the counts of old workers carry over */
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


/* init_process: this worker claims a free slot, or one of a dead worker */

ngx_int_t
ngx_http_cli_gateway_claim_slot(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                    i;
    ngx_atomic_uint_t             pid;
    ngx_http_cli_gateway_shm_t   *sh;
    ngx_http_cli_gateway_slot_t  *slot;

    if (gmcf->zone == NULL) {
        return NGX_OK;
    }

    sh = (ngx_http_cli_gateway_shm_t *) gmcf->zone->data;

    for (i = 0; i < NGX_HTTP_CLI_GATEWAY_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if ((pid == 0 || ngx_http_cli_gateway_pid_gone(pid))
            && ngx_atomic_cmp_set(&slot->pid, pid, (ngx_atomic_uint_t) ngx_pid))
        {
            slot->running = 0;
            gmcf->slot = slot;
            return NGX_OK;
        }
    }

    ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                  "cli_gateway: no free slot for worker %P in the "
                  "cli_gateway_max_running zone", ngx_pid);

    return NGX_ERROR;
}


/* exit_process, after every run of the worker has ended */

void
ngx_http_cli_gateway_release_slot(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_http_cli_gateway_slot_t  *slot = gmcf->slot;

    if (slot) {
        slot->running = 0;
        ngx_atomic_cmp_set(&slot->pid, (ngx_atomic_uint_t) ngx_pid, 0);
        gmcf->slot = NULL;
    }
}


/*
 * Takes one count; NGX_DECLINED when the limit is reached. Counting first
 * and checking after means two workers racing may both refuse, but the
 * limit is never exceeded.
 */

ngx_int_t
ngx_http_cli_gateway_take_running(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_uint_t                    i, total;
    ngx_atomic_uint_t             pid;
    ngx_http_cli_gateway_shm_t   *sh;
    ngx_http_cli_gateway_slot_t  *slot;

    if (gmcf->slot == NULL) {
        return NGX_OK;
    }

    ngx_atomic_fetch_add(&gmcf->slot->running, 1);

    sh = (ngx_http_cli_gateway_shm_t *) gmcf->zone->data;
    total = 0;

    for (i = 0; i < NGX_HTTP_CLI_GATEWAY_SLOTS; i++) {
        slot = &sh->slots[i];
        pid = slot->pid;

        if (pid == 0 || slot->running == 0) {
            continue;
        }

        if (slot != gmcf->slot && ngx_http_cli_gateway_pid_gone(pid)) {
            /* a worker that died: its programs died with their group */
            if (ngx_atomic_cmp_set(&slot->pid, pid, 0)) {
                slot->running = 0;
            }
            continue;
        }

        total += slot->running;
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


static ngx_flag_t
ngx_http_cli_gateway_pid_gone(ngx_atomic_uint_t pid)
{
    return kill((ngx_pid_t) pid, 0) == -1 && ngx_errno == NGX_ESRCH;
}
