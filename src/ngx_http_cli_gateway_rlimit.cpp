/*
 * Copyright (C) 2026 Seed 79e7e746 maintainers
 */

/*
 * cli_gateway_rlimit_cpu, cli_gateway_rlimit_as, cli_gateway_rlimit_nofile
 * and cli_gateway_priority: the child's resource limits and niceness.
 */

#include "ngx_http_cli_gateway.h"

#include "cligw/program.hpp"


static char *ngx_http_cli_gateway_check_positive_sec(ngx_conf_t *cf,
    void *post, void *data);
static char *ngx_http_cli_gateway_check_positive_off(ngx_conf_t *cf,
    void *post, void *data);
static char *ngx_http_cli_gateway_check_positive_num(ngx_conf_t *cf,
    void *post, void *data);


ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_cpu_post =
    ngx_http_cli_gateway_check_positive_sec;

ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_as_post =
    ngx_http_cli_gateway_check_positive_off;

ngx_conf_post_handler_pt  ngx_http_cli_gateway_rlimit_nofile_post =
    ngx_http_cli_gateway_check_positive_num;


/* nginx prefixes the returned text with the directive's name */

static char *
ngx_http_cli_gateway_check_positive_sec(ngx_conf_t *cf, void *post,
    void *data)
{
    return *(time_t *) data > 0 ? NGX_CONF_OK : (char *) "must be at least 1s";
}


static char *
ngx_http_cli_gateway_check_positive_off(ngx_conf_t *cf, void *post,
    void *data)
{
    return *(off_t *) data > 0 ? NGX_CONF_OK
                               : (char *) "must be greater than 0";
}


static char *
ngx_http_cli_gateway_check_positive_num(ngx_conf_t *cf, void *post,
    void *data)
{
    return *(ngx_int_t *) data > 0 ? NGX_CONF_OK
                                   : (char *) "must be at least 1";
}


/* like nginx's worker_priority: a signed number, -20 to 19 */

char *
ngx_http_cli_gateway_priority(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_cli_gateway_loc_conf_t *glcf =
        (ngx_http_cli_gateway_loc_conf_t *) conf;

    ngx_int_t    n;
    ngx_str_t   *value;
    ngx_uint_t   minus;

    if (glcf->priority_set) {
        return (char *) "is duplicate";
    }

    value = (ngx_str_t *) cf->args->elts;
    minus = value[1].len > 1 && value[1].data[0] == '-';

    n = ngx_atoi(value[1].data + minus, value[1].len - minus);

    if (n == NGX_ERROR || (minus ? -n : n) < -20 || (minus ? -n : n) > 19) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"cli_gateway_priority\" must be a number "
                           "from -20 to 19, not \"%V\"", &value[1]);
        return (char *) NGX_CONF_ERROR;
    }

    glcf->priority = minus ? -n : n;
    glcf->priority_set = 1;

    return NGX_CONF_OK;
}


void
ngx_http_cli_gateway_merge_limits(ngx_http_cli_gateway_loc_conf_t *conf,
    ngx_http_cli_gateway_loc_conf_t *prev)
{
    /* unset everywhere: the worker's own limits apply */
    ngx_conf_merge_sec_value(conf->rlimit_cpu, prev->rlimit_cpu,
                             NGX_CONF_UNSET);
    ngx_conf_merge_off_value(conf->rlimit_as, prev->rlimit_as,
                             NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->rlimit_nofile, prev->rlimit_nofile,
                         NGX_CONF_UNSET);

    if (!conf->priority_set) {
        conf->priority = prev->priority;
        conf->priority_set = prev->priority_set;
    }
}


cligw::ChildLimits
ngx_http_cli_gateway_child_limits(ngx_http_cli_gateway_loc_conf_t *glcf)
{
    cligw::ChildLimits  limits;

    if (glcf->rlimit_cpu != NGX_CONF_UNSET) {
        limits.cpu_seconds = (rlim_t) glcf->rlimit_cpu;
    }

    if (glcf->rlimit_as != NGX_CONF_UNSET) {
        limits.address_space = (rlim_t) glcf->rlimit_as;
    }

    if (glcf->rlimit_nofile != NGX_CONF_UNSET) {
        limits.open_files = (rlim_t) glcf->rlimit_nofile;
    }

    limits.has_nice = glcf->priority_set;
    limits.nice = (int) glcf->priority;

    return limits;
}
