/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * What a worker keeps for its runs: the scratch buffer of pipe reads and
 * the pool of output blocks, made at init_process; and at exit_process,
 * the end of every run it still has.
 */

#include "ngx_http_cli_gateway_run.h"

#include <new>


namespace {

/* pipe bytes read at once */
constexpr std::size_t read_size = 64 * 1024;
/* output blocks, and how many a worker keeps for its next streams (2 MiB) */
constexpr std::size_t block_size = 64 * 1024;
constexpr std::size_t max_kept_blocks = 32;

/* what a read left unencoded fits a block */
static_assert(read_size <= block_size, "a read must fit an output block");

} // namespace


using cligw::Run;


void
ngx_http_cli_gateway_stop_all_runs(ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_queue_t  *q;

    while (!ngx_queue_empty(&gmcf->runs)) {
        q = ngx_queue_head(&gmcf->runs);
        Run *run = reinterpret_cast<Run::Link *>(q)->run;

        run->kill_now();
        delete run;
    }

    /* every block belongs to a run: what is out now was lost */
    if (gmcf->blocks && gmcf->blocks->outstanding()) {
        ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                      "cli_gateway: %uz output blocks were not given back",
                      gmcf->blocks->outstanding());
    }
}


static void
ngx_http_cli_gateway_free_blocks(void *data)
{
    delete (cligw::BlockPool *) data;
}


static void
ngx_http_cli_gateway_free_scratch(void *data)
{
    delete (std::string *) data;
}


/* the worker's scratch for pipe reads and the blocks of its streams */

ngx_int_t
ngx_http_cli_gateway_init_runs(ngx_cycle_t *cycle,
    ngx_http_cli_gateway_main_conf_t *gmcf)
{
    ngx_pool_cleanup_t  *cln;

    gmcf->read_buf_size = read_size;
    gmcf->read_buf = (u_char *) ngx_palloc(cycle->pool, gmcf->read_buf_size);
    if (gmcf->read_buf == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    try {
        gmcf->blocks = new cligw::BlockPool(block_size,
                                            max_kept_blocks);

    } catch (const std::bad_alloc &) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_cli_gateway_free_blocks;
    cln->data = gmcf->blocks;

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    try {
        gmcf->scratch = new std::string();
        gmcf->scratch->reserve(block_size);

    } catch (const std::bad_alloc &) {
        delete gmcf->scratch;
        gmcf->scratch = NULL;
        return NGX_ERROR;
    }

    cln->handler = ngx_http_cli_gateway_free_scratch;
    cln->data = gmcf->scratch;

    return NGX_OK;
}
